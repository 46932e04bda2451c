import { defineCommand } from '../../core/command.ts';
import { addresses, endpointView, notesOf, workloadTargets } from './render.ts';

export default defineCommand({
  positionals: [{ name: 'name', description: 'Endpoint name', required: true }],
  requires: ['auth', 'org', 'project', 'app', 'env'],
  examples: ['berth endpoints show web'],
  async handler(ctx) {
    const e = await endpointView(ctx, ctx.positionals[0]);
    ctx.out.result({ endpoint: e }, () => {
      const st = ctx.out.style;
      return [
        `${st.bold('Name')}      ${e.name}`,
        `${st.bold('Source')}    ${e.source === 'manifest' ? 'manifest (change it in berth.yaml, then deploy)' : 'api (berth endpoints create/delete)'}`,
        `${st.bold('Address')}   ${addresses(e)}`,
        `${st.bold('Port')}      ${e.endpoint.port}/tcp`,
        `${st.bold('Workload')}  ${workloadTargets(e)}`,
        `${st.bold('Targets')}   ${e.targets.join(', ') || '-'}`,
        '',
        'Notes:',
        ...notesOf(e).map((n) => `  ${n}`),
      ].join('\n');
    });
  },
});
