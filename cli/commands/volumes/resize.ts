import { defineCommand } from '../../core/command.ts';
import { flag } from '../../core/flags.ts';
import { reportVolumeChange, sizeFlag, type VolumeReceipt } from './render.ts';

export default defineCommand({
  positionals: [{ name: 'name', description: 'Volume name', required: true }],
  flags: {
    size: { type: 'string', valueName: 'GiB', description: 'New size in GiB, at least the current one' },
    ...flag('wait'),
  },
  requires: ['auth', 'org', 'project', 'app', 'env'],
  examples: ['berth volumes resize data --size 20 --wait'],
  async handler(ctx) {
    const name = ctx.positionals[0];
    const sizeGiB = sizeFlag(ctx.flags.size, `berth volumes resize ${name} --size 20`);
    const { receipt } = await ctx.api.patch<{ receipt: VolumeReceipt }>(ctx.api.envPath(ctx.target, `/volumes/${encodeURIComponent(name)}`), { sizeGiB });
    await reportVolumeChange(ctx, receipt);
  },
});
