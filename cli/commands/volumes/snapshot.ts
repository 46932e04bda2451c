import type { CommandSpec } from '../../core/command.ts';
import { reportVolumeChange, type VolumeReceipt } from './render.ts';

export default {
  positionals: [{ name: 'name', description: 'Volume name', required: true }],
  flags: { wait: { type: 'boolean', description: 'Follow the operation until the snapshot is taken' } },
  requires: ['auth', 'org', 'project', 'app', 'env'],
  examples: ['berth volumes snapshot data --wait'],
  async handler(ctx) {
    const { receipt } = await ctx.api.post<{ receipt: VolumeReceipt }>(ctx.api.envPath(ctx.target, `/volumes/${encodeURIComponent(ctx.positionals[0])}/snapshots`), {});
    await reportVolumeChange(ctx, receipt);
  },
} satisfies CommandSpec;
