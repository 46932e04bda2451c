import type { EndpointView } from '../../../functions/contract/responses.ts';
import type { CommandDefinition } from '../../core/command.ts';
import { table } from '../../core/output.ts';
import { addresses, notesOf, workloadTargets } from './render.ts';

export default {
  command: 'endpoints list',
  summary: 'Endpoints of the env (from berth.yaml and the API): addresses, targets, notes',
  description: 'An endpoint is L4 (tcp): IPv6 by default, IPv4 only when it opts in. TLS is the app\'s job.',
  requires: ['auth', 'org', 'project', 'app', 'env'],
  examples: ['berth endpoints list', 'berth endpoints list --json'],
  async handler(ctx) {
    const { endpoints } = await ctx.api.get<{ endpoints: EndpointView[] }>(ctx.api.envPath(ctx.target, '/endpoints'));
    ctx.out.result(endpoints, () => {
      if (!endpoints.length) return 'No endpoints. Declare one under `endpoints:` in berth.yaml, or: berth endpoints create <name> --workload <w> --port <port>';
      const rows = endpoints.map((e) => [e.name, e.source, addresses(e), workloadTargets(e), notesOf(e).join('; ')]);
      return table([['NAME', 'SOURCE', 'ADDRESS', 'WORKLOAD', 'NOTES'], ...rows], ctx.out.style);
    });
  },
} satisfies CommandDefinition;
