import { defineCommand } from '../../core/command.ts';
import { flag } from '../../core/flags.ts';
import { cliError } from '../../core/errors.ts';
import { parseDotenv } from '../../core/pairs.ts';
import { printBundleChange, type BundleSummary } from './render.ts';

export default defineCommand({
  positionals: [{ name: 'bundle', description: 'Bundle name', required: true }],
  flags: { ...flag('file', 'Read this dotenv file instead of stdin') },
  requires: ['auth', 'org', 'project', 'app', 'env'],
  examples: ['berth secrets import db < db.env', 'berth secrets import db --file db.env'],
  async handler(ctx) {
    const file = ctx.flags.file;
    if (!file && ctx.host.stdinIsTTY) throw cliError('invalid-input', 'no-input', 'nothing to import: pipe dotenv text on stdin or pass --file', ['berth secrets import db < db.env']);
    const text = file ? await ctx.host.readFile(ctx.host.resolvePath(file)) : await ctx.host.readStdin();
    const values = parseDotenv(text);
    if (!Object.keys(values).length) throw cliError('invalid-input', 'import-empty', 'the input holds no KEY=VALUE lines');
    const body = await ctx.api.put<{ bundle: BundleSummary }>(ctx.api.envPath(ctx.target, `/secrets/${ctx.positionals[0]}`), { values, replace: true });
    printBundleChange(ctx, body);
  },
});
