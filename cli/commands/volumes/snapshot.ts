import { defineCommand } from '../../core/command.ts';
import { flag } from '../../core/flags.ts';
import { reportVolumeChange, type VolumeReceipt } from './render.ts';

export default defineCommand({
  positionals: [{ name: 'name', description: 'Volume name', required: true }],
  flags: {
    stop: { type: 'boolean', description: 'Stop the workloads that mount it while it is copied: a consistent copy, at the cost of a brief downtime (default: crash-consistent, taken while they run)' },
    ...flag('wait', 'Follow the operation until the snapshot is taken'),
  },
  requires: ['auth', 'org', 'project', 'app', 'env'],
  examples: ['berth volumes snapshot data --wait', 'berth volumes snapshot data --stop --wait'],
  async handler(ctx) {
    const { receipt } = await ctx.api.post<{ receipt: VolumeReceipt }>(ctx.api.envPath(ctx.target, `/volumes/${encodeURIComponent(ctx.positionals[0])}/snapshots`), ctx.flags.stop ? { stop: true } : {});
    await reportVolumeChange(ctx, receipt);
  },
});
