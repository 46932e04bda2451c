import { defineCommand, type CommandContext } from '../core/command.ts';
import { cliError } from '../core/errors.ts';
import { TEMPLATES, type Template } from '../templates/manifests.ts';

export default defineCommand({
  description: `Templates:\n${Object.entries(TEMPLATES).map(([name, t]) => `  ${name.padEnd(10)} ${t.summary}`).join('\n')}`,
  flags: {
    template: { type: 'string', valueName: 'name', description: `One of ${Object.keys(TEMPLATES).join(', ')} (default node-http)` },
    force: { type: 'boolean', description: 'Overwrite an existing berth.yaml (a starter program is never overwritten)' },
  },
  positionals: [{ name: 'app', description: 'App name (default: --app, BERTH_APP, or "my-app")' }],
  examples: ['berth init hello', 'berth init worker --template worker'],
  async handler(ctx) {
    const name = ctx.flags.template ?? 'node-http';
    const template = TEMPLATES[name];
    if (!template) throw cliError('invalid-input', 'template-unknown', `no template "${name}"; use one of ${Object.keys(TEMPLATES).join(', ')}`);
    const app = ctx.positionals[0] ?? ctx.flags.app ?? ctx.settings.variables().app ?? 'my-app';
    const file = ctx.host.resolvePath('berth.yaml');
    try {
      await ctx.host.writeFile(file, template.render(app), { exclusive: !ctx.flags.force });
    } catch (err) {
      if ((err as { code?: string }).code === 'EEXIST') throw cliError('conflict', 'manifest-exists', `${file} already exists`, ['berth init --force (overwrites it)']);
      throw err;
    }
    const starter = (await writeStarter(ctx.host, template)) ? template.starter.file : null;
    // Onboarding goes on from wherever this machine is: nothing selected yet, or an org and project.
    const selected = ctx.settings.read();
    const next = [
      ...(selected.org ? [] : ['berth orgs create <name>']),
      ...(selected.project ? [] : ['berth projects create <name>']),
      `berth apps create ${app}`,
      'berth envs create prod',
      'berth deploy --wait',
    ];
    ctx.out.result({ file, template: name, app, starter, next }, () =>
      [
        `Wrote ${file} (${name})${starter ? ` and ${starter}, a starter to replace with your app` : ''}.`,
        ...(starter ? [] : [`Kept the existing ${template.starter.file}; the manifest runs it.`]),
        '',
        'Next:',
        ...next.map((n) => `  ${n}`),
      ].join('\n'),
    );
  },
});

/** Writes the template's starter program unless a file of that name exists; true when written. */
async function writeStarter(host: CommandContext['host'], template: Template): Promise<boolean> {
  try {
    await host.writeFile(host.resolvePath(template.starter.file), template.starter.source, { exclusive: true });
    return true;
  } catch (err) {
    if ((err as { code?: string }).code === 'EEXIST') return false;
    throw err;
  }
}
