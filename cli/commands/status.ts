import type { EnvStatus as Status, WorkloadStatus } from '../../functions/contract/responses.ts';
import type { CommandSpec } from '../core/command.ts';
import { ago, table } from '../core/output.ts';

export default {
  requires: ['auth', 'org', 'project', 'app', 'env'],
  async handler(ctx) {
    const { status: s } = await ctx.api.get<{ status: Status }>(ctx.api.envPath(ctx.target, '/status'));
    ctx.out.result(s, () => {
      const st = ctx.out.style;
      const state = s.activeOperation
        ? st.yellow(`${s.activeOperation.kind} ${s.activeOperation.id} in progress (${s.activeOperation.step ?? 'starting'})`)
        : s.converged
          ? st.green('converged')
          : st.yellow('not converged');
      const lines = [`${st.bold(s.env)}  release ${s.currentReleaseId ?? 'none'} (desired ${s.desiredReleaseId ?? 'none'})  ${state}`];
      if (s.lastOperation?.error) {
        const e = s.lastOperation.error;
        lines.push(st.red(`last operation ${s.lastOperation.id} failed at ${e.step} (${e.category}): ${e.message.split('\n')[0]}`));
      }
      lines.push('', table([['WORKLOAD', 'DESIRED', 'CURRENT', 'CPU/MEM', 'RELEASE'], ...s.workloads.map((w) => [w.name, desiredCount(w), currentCount(w), `${w.desired.cpu}/${w.desired.memory}`, w.desired.releaseId])], st));
      const instances = s.workloads.flatMap((w) => w.instances.map((i) => [i.id, w.name, i.state, i.releaseId, String(i.restarts), ago(i.startedAt, ctx.host.now())]));
      if (instances.length) lines.push('', table([['INSTANCE', 'WORKLOAD', 'STATE', 'RELEASE', 'RESTARTS', 'STARTED'], ...instances], st));
      if (s.endpoints.length) {
        const rows = s.endpoints.map((e) => [
          e.name,
          e.listeners.map((l) => (l.family === 'IPv6' ? `[${l.address}]:${l.port}` : `${l.address}:${l.port}`)).join(' '),
          `${e.workload} (${e.targets.length} target${e.targets.length === 1 ? '' : 's'})`,
          [e.listeners.some((l) => l.family === 'IPv4') ? 'IPv6+IPv4' : 'IPv6 only', e.proxyProtocol ? `PROXY ${e.proxyProtocol}` : '', "TLS is the app's job"].filter(Boolean).join('; '),
        ]);
        lines.push('', table([['ENDPOINT', 'ADDRESS', 'TARGETS', 'NOTES'], ...rows], st));
      }
      return lines.join('\n');
    });
  },
} satisfies CommandSpec;

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
