import type { CommandSpec } from '../../core/command.ts';
import { reportVolumeChange, sizeFlag, type VolumeReceipt } from './render.ts';

export default {
  positionals: [{ name: 'name', description: 'Volume name', required: true }],
  flags: {
    size: { type: 'string', valueName: 'GiB', description: 'New size in GiB, at least the current one' },
    wait: { type: 'boolean', description: 'Follow the operation until it converges or fails' },
  },
  requires: ['auth', 'org', 'project', 'app', 'env'],
  examples: ['berth volumes resize data --size 20 --wait'],
  async handler(ctx) {
    const name = ctx.positionals[0];
    const sizeGiB = sizeFlag(ctx, `berth volumes resize ${name} --size 20`);
    const { receipt } = await ctx.api.patch<{ receipt: VolumeReceipt }>(ctx.api.envPath(ctx.target, `/volumes/${encodeURIComponent(name)}`), { sizeGiB });
    await reportVolumeChange(ctx, receipt);
  },
} satisfies CommandSpec;
