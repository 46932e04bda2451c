import type { EnvStatus as Status } from '../../functions/contract/responses.ts';
import { defineCommand } from '../core/command.ts';
import { ago, table } from '../core/output.ts';
import { envLine, workloadTable } from '../core/status-view.ts';

export default defineCommand({
  requires: ['auth', 'org', 'project', 'app', 'env'],
  async handler(ctx) {
    const { status: s } = await ctx.api.get<{ status: Status }>(ctx.api.envPath(ctx.target, '/status'));
    ctx.out.result(s, () => {
      const st = ctx.out.style;
      const lines = [envLine(s, st)];
      if (s.lastOperation?.error) {
        const e = s.lastOperation.error;
        lines.push(st.red(`last operation ${s.lastOperation.id} ${s.lastOperation.status === 'cancelled' ? 'was cancelled' : 'failed'} at ${e.step} (${e.category}): ${e.message.split('\n')[0]}`));
      }
      if (s.failing) lines.push(st.red(`${s.failing.message}; see: ${s.failing.next.join(' · ')}`));
      lines.push('', workloadTable(s, st));
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
      // Said on every status where it holds: a platform that cannot sandbox or limit instances.
      if (s.isolation && !s.isolation.isolated) lines.push('', st.yellow(`isolation: ${s.isolation.summary}`));
      else if (s.isolation && !s.isolation.limitsEnforced) lines.push('', st.yellow(`limits: cpu and memory are not enforced on this platform (${s.isolation.summary})`));
      return lines.join('\n');
    });
  },
});

