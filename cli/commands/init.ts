import type { CommandSpec } from '../core/command.ts';
import { cliError } from '../core/errors.ts';
import { TEMPLATES } from '../templates/manifests.ts';

export default {
  description: `Templates:\n${Object.entries(TEMPLATES).map(([name, t]) => `  ${name.padEnd(10)} ${t.summary}`).join('\n')}`,
  flags: {
    template: { type: 'string', short: 't', valueName: 'name', description: `One of ${Object.keys(TEMPLATES).join(', ')} (default node-http)` },
    force: { type: 'boolean', description: 'Overwrite an existing berth.yaml' },
  },
  positionals: [{ name: 'app', description: 'App name (default: --app, BERTH_APP, or "my-app")' }],
  examples: ['berth init hello', 'berth init worker --template worker'],
  async handler(ctx) {
    const name = (ctx.flags.template as string | undefined) ?? 'node-http';
    const template = TEMPLATES[name];
    if (!template) throw cliError('invalid-input', 'template-unknown', `no template "${name}"; use one of ${Object.keys(TEMPLATES).join(', ')}`);
    const app = ctx.positionals[0] ?? (ctx.flags.app as string | undefined) ?? ctx.settings.variables().app ?? 'my-app';
    const file = ctx.host.resolvePath('berth.yaml');
    try {
      await ctx.host.writeFile(file, template.render(app), { exclusive: !ctx.flags.force });
    } catch (err) {
      if ((err as { code?: string }).code === 'EEXIST') throw cliError('conflict', 'manifest-exists', `${file} already exists`, ['berth init --force (overwrites it)']);
      throw err;
    }
    ctx.out.result({ file, template: name, app }, () => `Wrote ${file} (${name}).\nNext: berth apps create ${app}, berth envs create prod, berth deploy --wait`);
  },
} satisfies CommandSpec;
