import { defineCommand } from '../../core/command.ts';
import { flag } from '../../core/flags.ts';
import { cliError } from '../../core/errors.ts';
import { reportVolumeChange, type VolumeReceipt } from './render.ts';

export default defineCommand({
  positionals: [{ name: 'name', description: 'Volume name', required: true }],
  flags: {
    snapshot: { type: 'string', valueName: 'ID', description: 'The snapshot to restore (see `berth volumes snapshots NAME`)' },
    ...flag('wait', 'Follow the operation until the writers are back on the restored data'),
  },
  requires: ['auth', 'org', 'project', 'app', 'env'],
  examples: ['berth volumes restore data --snapshot snap-01abcdefgh --wait'],
  async handler(ctx) {
    const name = ctx.positionals[0];
    const snapshot = ctx.flags.snapshot;
    if (typeof snapshot !== 'string' || !snapshot) throw cliError('invalid-input', 'snapshot-missing', 'name the snapshot to restore with --snapshot', [`berth volumes snapshots ${name}`]);
    const { receipt } = await ctx.api.post<{ receipt: VolumeReceipt }>(ctx.api.envPath(ctx.target, `/volumes/${encodeURIComponent(name)}/restores`), { snapshot });
    await reportVolumeChange(ctx, receipt);
  },
});
