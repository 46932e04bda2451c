import { defineCommand } from '../../core/command.ts';
import { attachedOf, volumeView, zoneOf } from './render.ts';

export default defineCommand({
  positionals: [{ name: 'name', description: 'Volume name', required: true }],
  requires: ['auth', 'org', 'project', 'app', 'env'],
  examples: ['berth volumes show data'],
  async handler(ctx) {
    const v = await volumeView(ctx, ctx.positionals[0]);
    ctx.out.result({ volume: v }, () => {
      const st = ctx.out.style;
      const snapshots = v.snapshots?.length ?? 0;
      return [
        `${st.bold('Name')}       ${v.name}`,
        `${st.bold('Size')}       ${v.sizeGiB} GiB`,
        `${st.bold('Zone')}       ${zoneOf(v)}`,
        `${st.bold('Created')}    ${v.createdAt}${v.source ? ` from snapshot ${v.source.snapshot} of ${v.source.volume}` : ''}`,
        `${st.bold('Attached')}   ${attachedOf(v) || 'not mounted'}`,
        `${st.bold('Snapshots')}  ${snapshots}${snapshots ? ` (latest ${v.snapshots!.at(-1)!.id})` : ''}`,
        // A mount needs the volume declared in the manifest too; the same name adopts this one, data and all.
        ...(attachedOf(v) ? [] : ['', 'To mount it, declare it in berth.yaml and mount it in a workload, then deploy:', `  volumes:  { ${v.name}: { sizeGiB: ${v.sizeGiB}${v.zone ? `, zone: ${v.zone}` : ''} } }`, `  workloads.<name>.volumes:  [{ volume: ${v.name}, path: /${v.name} }]`]),
        '',
        `Placement: ${v.placement}`,
        '',
        'Operations:',
        ...v.operations.map((o) => `  ${o}`),
      ].join('\n');
    });
  },
});
