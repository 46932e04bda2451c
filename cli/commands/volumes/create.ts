import type { Volume } from '../../../functions/contract/manifest.ts';
import type { VolumeView } from '../../../functions/contract/responses.ts';
import { defineCommand, type CommandContext } from '../../core/command.ts';
import { flag } from '../../core/flags.ts';
import { cliError } from '../../core/errors.ts';
import { intFlag } from '../scale/render.ts';
import { reportVolumeChange, sizeFlag, type VolumeReceipt } from './render.ts';

export default defineCommand({
  description:
    'A zone pins the volume to One Zone storage: workloads that mount it run only in that zone. Attach it with `workloads.<name>.volumes: [{ volume: <name>, path: /data }]` and deploy. --from-snapshot starts it with a copy of a snapshot of any volume of the env (a staging copy of production data, or a restore beside the original), at least as large as that volume.',
  positionals: [{ name: 'name', description: 'Volume name (a DNS label)', required: true }],
  flags: {
    size: { type: 'string', valueName: 'GiB', description: 'Size in GiB (default with --from-snapshot: the size of the snapshot\'s volume)' },
    zone: { type: 'string', valueName: 'zone', description: 'Availability zone such as eu-west-1a (default: regional)' },
    'from-snapshot': { type: 'string', valueName: 'ID', description: 'Start with a copy of this snapshot (see `berth volumes snapshots NAME`)' },
    ...flag('wait'),
  },
  requires: ['auth', 'org', 'project', 'app', 'env'],
  examples: ['berth volumes create data --size 10', 'berth volumes create cache --size 1 --zone eu-west-1a --wait', 'berth volumes create data-copy --from-snapshot snap-01abcdefgh --wait'],
  async handler(ctx) {
    const name = ctx.positionals[0];
    const fromSnapshot = ctx.flags['from-snapshot'];
    const sizeGiB = fromSnapshot && intFlag('size', ctx.flags.size) === undefined ? await sizeOfSnapshotVolume(ctx, fromSnapshot) : sizeFlag(ctx.flags.size, `berth volumes create ${name} --size 10`);
    const volume: Volume & { fromSnapshot?: string } = { sizeGiB, ...(ctx.flags.zone ? { zone: ctx.flags.zone } : {}), ...(fromSnapshot ? { fromSnapshot } : {}) };
    const { receipt } = await ctx.api.put<{ receipt: VolumeReceipt }>(ctx.api.envPath(ctx.target, `/volumes/${encodeURIComponent(name)}`), volume);
    await reportVolumeChange(ctx, receipt);
  },
});

async function sizeOfSnapshotVolume(ctx: CommandContext, snapshot: string): Promise<number> {
  const { volumes } = await ctx.api.get<{ volumes: VolumeView[] }>(ctx.api.envPath(ctx.target, '/volumes'));
  const source = volumes.find((v) => (v.snapshots ?? []).some((s) => s.id === snapshot));
  if (!source) throw cliError('not-found', 'snapshot-not-found', `no volume of ${ctx.target.env} has a snapshot ${snapshot}`, ['berth volumes list', 'berth volumes snapshots NAME']);
  return source.sizeGiB;
}
