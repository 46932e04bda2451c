import type { CommandSpec } from '../../core/command.ts';
import { requireYes } from '../confirm.ts';
import { reportVolumeChange, type VolumeReceipt } from './render.ts';

export default {
  positionals: [{ name: 'name', description: 'Volume name', required: true }],
  flags: {
    yes: { type: 'boolean', short: 'y', description: 'Confirm: the data and every snapshot are gone for good' },
    wait: { type: 'boolean', description: 'Follow the operation until the volume is gone' },
  },
  requires: ['auth', 'org', 'project', 'app', 'env'],
  examples: ['berth volumes delete scratch --yes --wait'],
  async handler(ctx) {
    const name = ctx.positionals[0];
    requireYes(ctx, `deleting volume ${name} removes its data and snapshots and`, `berth volumes delete ${name}`);
    const { receipt } = await ctx.api.delete<{ receipt: VolumeReceipt }>(ctx.api.envPath(ctx.target, `/volumes/${encodeURIComponent(name)}`));
    await reportVolumeChange(ctx, receipt);
  },
} satisfies CommandSpec;
