import type { Volume } from '../../../functions/contract/manifest.ts';
import type { CommandSpec } from '../../core/command.ts';
import { reportVolumeChange, sizeFlag, type VolumeReceipt } from './render.ts';

export default {
  description: 'A zone pins the volume to One Zone storage: workloads that mount it run only in that zone. Attach it with `workloads.<name>.volumes: [{ volume: <name>, path: /data }]` and deploy.',
  positionals: [{ name: 'name', description: 'Volume name (a DNS label)', required: true }],
  flags: {
    size: { type: 'string', valueName: 'GiB', description: 'Size in GiB' },
    zone: { type: 'string', valueName: 'zone', description: 'Availability zone such as eu-west-1a (default: regional)' },
    wait: { type: 'boolean', description: 'Follow the operation until it converges or fails' },
  },
  requires: ['auth', 'org', 'project', 'app', 'env'],
  examples: ['berth volumes create data --size 10', 'berth volumes create cache --size 1 --zone eu-west-1a --wait'],
  async handler(ctx) {
    const name = ctx.positionals[0];
    const volume: Volume = { sizeGiB: sizeFlag(ctx, `berth volumes create ${name} --size 10`), ...(ctx.flags.zone ? { zone: ctx.flags.zone as string } : {}) };
    const { receipt } = await ctx.api.put<{ receipt: VolumeReceipt }>(ctx.api.envPath(ctx.target, `/volumes/${encodeURIComponent(name)}`), volume);
    await reportVolumeChange(ctx, receipt);
  },
} satisfies CommandSpec;
