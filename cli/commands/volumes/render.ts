// How volumes read in the terminal, shared by the volume commands.
import type { VolumeReceipt, VolumeView } from '../../../functions/contract/responses.ts';
import type { CommandContext } from '../../core/command.ts';
import type { SharedFlags } from '../../core/flags.ts';
import { cliError } from '../../core/errors.ts';
import { watchOperation } from '../../core/watch-operation.ts';
import { intFlag } from '../scale/render.ts';

export type { VolumeReceipt };

export const zoneOf = (v: { zone?: string }) => v.zone ?? 'regional';

export const attachedOf = (v: VolumeView) => v.attachedTo.map((a) => `${a.workload}:${a.path}`).join(', ');

export function bytes(n: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let i = 0;
  while (n >= 1024 && i < units.length - 1) {
    n /= 1024;
    i++;
  }
  return `${i === 0 ? n : n.toFixed(1)} ${units[i]}`;
}

/** --size, required and whole. */
export function sizeFlag(raw: string | undefined, example: string): number {
  const size = intFlag('size', raw);
  if (size === undefined) throw cliError('invalid-input', 'size-missing', 'give the size in GiB with --size', [example]);
  return size;
}

export async function volumeView(ctx: CommandContext, name: string): Promise<VolumeView> {
  const { volume } = await ctx.api.get<{ volume: VolumeView }>(ctx.api.envPath(ctx.target, `/volumes/${encodeURIComponent(name)}`));
  return volume;
}

/** Prints the receipt of a volume change and, with --wait, follows its operation. */
export async function reportVolumeChange(ctx: CommandContext<Pick<SharedFlags, 'wait'>>, receipt: VolumeReceipt): Promise<void> {
  if (ctx.out.json && ctx.flags.wait) ctx.out.jsonLine({ receipt });
  else
    ctx.out.result({ receipt }, () => {
      const lines = [`Volume ${receipt.name}: ${receipt.action} accepted for ${receipt.env}; applying as ${receipt.operationId}`];
      if (receipt.volume) lines.push(`  size      ${receipt.volume.sizeGiB} GiB`, `  zone      ${receipt.volume.zone ? `${receipt.volume.zone} (One Zone)` : 'regional'}`);
      if (receipt.snapshotId) lines.push(`  snapshot  ${receipt.snapshotId}`);
      for (const note of receipt.notes ?? []) lines.push(`  note      ${note}`);
      lines.push('', 'Next:', ...receipt.next.map((n) => `  ${n}`));
      return lines.join('\n');
    });
  if (ctx.flags.wait) await watchOperation(ctx, receipt.operationId, { afterReceipt: true });
}
