import type { VolumeView } from '../../../functions/contract/responses.ts';
import { defineCommand } from '../../core/command.ts';
import { table } from '../../core/output.ts';
import { attachedOf, zoneOf } from './render.ts';

export default defineCommand({
  requires: ['auth', 'org', 'project', 'app', 'env'],
  examples: ['berth volumes list', 'berth volumes list --json'],
  async handler(ctx) {
    const { volumes } = await ctx.api.get<{ volumes: VolumeView[] }>(ctx.api.envPath(ctx.target, '/volumes'));
    ctx.out.result(volumes, () => {
      if (!volumes.length) return 'No volumes. Create one: berth volumes create <name> --size <GiB>';
      const rows = volumes.map((v) => [v.name, `${v.sizeGiB} GiB`, zoneOf(v), attachedOf(v) || '-', String(v.snapshots?.length ?? 0)]);
      return table([['NAME', 'SIZE', 'ZONE', 'ATTACHED', 'SNAPSHOTS'], ...rows], ctx.out.style);
    });
  },
});
