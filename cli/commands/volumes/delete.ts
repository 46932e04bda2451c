import { defineCommand } from '../../core/command.ts';
import { flag } from '../../core/flags.ts';
import { requireYes } from '../confirm.ts';
import { reportVolumeChange, type VolumeReceipt } from './render.ts';

export default defineCommand({
  positionals: [{ name: 'name', description: 'Volume name', required: true }],
  flags: {
    ...flag('yes', 'Confirm: the data and every snapshot are gone for good'),
    ...flag('wait', 'Follow the operation until the volume is gone'),
  },
  requires: ['auth', 'org', 'project', 'app', 'env'],
  examples: ['berth volumes delete scratch --yes --wait'],
  async handler(ctx) {
    const name = ctx.positionals[0];
    requireYes(ctx, `deleting volume ${name} removes its data and snapshots and`, `berth volumes delete ${name}`);
    const { receipt } = await ctx.api.delete<{ receipt: VolumeReceipt }>(ctx.api.envPath(ctx.target, `/volumes/${encodeURIComponent(name)}`));
    await reportVolumeChange(ctx, receipt);
  },
});
