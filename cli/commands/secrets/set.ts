import { defineCommand } from '../../core/command.ts';
import { cliError } from '../../core/errors.ts';
import { parsePairs } from '../../core/pairs.ts';
import { printBundleChange, type BundleSummary } from './render.ts';

export default defineCommand({
  positionals: [
    { name: 'bundle', description: 'Bundle name, e.g. db', required: true },
    { name: 'KEY=VALUE', description: 'One or more pairs', required: true, variadic: true },
  ],
  flags: { replace: { type: 'boolean', description: 'Replace the whole bundle instead of merging into it' } },
  requires: ['auth', 'org', 'project', 'app', 'env'],
  examples: ['berth secrets set db PASSWORD=s3cret USER=app'],
  async handler(ctx) {
    const [bundle, ...pairs] = ctx.positionals;
    if (!pairs.length) {
      throw cliError('invalid-input', 'argument-missing', 'missing KEY=VALUE', ['berth secrets set <bundle> KEY=VALUE …', 'berth secrets import <bundle> < file.env']);
    }
    const values = parsePairs(pairs, 'berth secrets set <bundle> KEY=VALUE …');
    const body = await ctx.api.put<{ bundle: BundleSummary }>(ctx.api.envPath(ctx.target, `/secrets/${bundle}`), { values, replace: Boolean(ctx.flags.replace) });
    printBundleChange(ctx, body);
  },
});
