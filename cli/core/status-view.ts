// The top of `berth status` (the env line and the workload table, desired beside current), shared
// with `deploy --wait`, `wait` and `scale --wait`, which end with it once the operation converged.
import type { EnvStatus, WorkloadStatus } from '../../functions/contract/responses.ts';
import { table, type Style } from './output.ts';

export function envLine(s: EnvStatus, st: Style): string {
  const state = s.activeOperation
    ? st.yellow(`${s.activeOperation.kind} ${s.activeOperation.id} in progress (${s.activeOperation.step ?? 'starting'})`)
    : s.converged
      ? st.green('converged')
      : st.yellow('not converged');
  return `${st.bold(s.env)}  release ${s.currentReleaseId ?? 'none'} (desired ${s.desiredReleaseId ?? 'none'})  ${state}`;
}

export function workloadTable(s: EnvStatus, st: Style): string {
  return table([['WORKLOAD', 'DESIRED', 'CURRENT', 'CPU/MEM', 'RELEASE'], ...s.workloads.map((w) => [w.name, desiredCount(w), currentCount(w), `${w.desired.cpu}/${w.desired.memory}`, w.desired.releaseId])], st);
}

/** `3`, or `3 (min 2, max 4)` when an autoscaling range is set. */
function desiredCount(w: WorkloadStatus): string {
  const { count, min, max } = w.desired;
  return min === undefined && max === undefined ? `${count}` : `${count} (min ${min ?? '-'}, max ${max ?? '-'})`;
}

/** `2/3 healthy`, plus what is still moving: instances not yet healthy, or on an older release or size. */
function currentCount(w: WorkloadStatus): string {
  const { running, healthy, upToDate } = w.current;
  const notes = [running !== healthy ? `${running} running` : '', upToDate < running ? `${running - upToDate} outdated` : ''].filter(Boolean);
  return `${healthy}/${w.desired.count} healthy${notes.length ? ` (${notes.join(', ')})` : ''}`;
}
