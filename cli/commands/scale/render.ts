import type { ScaleReceipt } from '../../../functions/contract/responses.ts';
import type { CommandContext } from '../../core/command.ts';
import type { SharedFlags } from '../../core/flags.ts';
import { cliError } from '../../core/errors.ts';
import { watchOperation } from '../../core/watch-operation.ts';

type Settings = ScaleReceipt['desired'];

const describe = (s: Settings) => `count ${s.count}${s.min !== undefined || s.max !== undefined ? ` (min ${s.min ?? '-'}, max ${s.max ?? '-'})` : ''}, cpu ${s.cpu}, memory ${s.memory} MiB`;

/** A whole-number flag (`--min 2`), or undefined when not given. */
export function intFlag(name: string, raw: string | undefined): number | undefined {
  if (raw === undefined) return undefined;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 0) throw cliError('invalid-input', `${name}-invalid`, `--${name} must be a whole number ≥ 0; got ${JSON.stringify(raw)}`);
  return n;
}

/** Picks the workload: --workload, or the only one the env runs. */
export async function workloadOf(ctx: CommandContext<Pick<SharedFlags, 'workload'>>): Promise<string> {
  if (ctx.flags.workload) return ctx.flags.workload;
  const { status } = await ctx.api.get<{ status: { workloads: { name: string }[] } }>(ctx.api.envPath(ctx.target, '/status'));
  if (status.workloads.length === 1) return status.workloads[0].name;
  throw cliError('invalid-input', 'workload-ambiguous', `the env has ${status.workloads.length} workloads (${status.workloads.map((w) => w.name).join(', ')}); choose one with --workload`, status.workloads.map((w) => `--workload ${w.name}`));
}

export async function submitScale(ctx: CommandContext<Pick<SharedFlags, 'wait'>>, workload: string, settings: Record<string, number>): Promise<void> {
  const { receipt } = await ctx.api.post<{ receipt: ScaleReceipt }>(ctx.api.envPath(ctx.target, '/scale'), { workload, settings });
  if (ctx.out.json && ctx.flags.wait) ctx.out.jsonLine({ receipt });
  else
    ctx.out.result({ receipt }, () =>
      [`Scale of ${receipt.workload} accepted for ${receipt.env}; applying as ${receipt.operationId}`, `  from  ${describe(receipt.previous)}`, `  to    ${describe(receipt.desired)}`, ...(receipt.notes ?? []).map((n) => `  note  ${n}`), '', 'Next:', ...receipt.next.map((n) => `  ${n}`)].join('\n'),
    );
  if (ctx.flags.wait) await watchOperation(ctx, receipt.operationId, { afterReceipt: true });
}
