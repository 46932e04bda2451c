import type { EndpointView } from '../../../functions/contract/responses.ts';
import { defineCommand, type CommandContext } from '../../core/command.ts';
import { cliError } from '../../core/errors.ts';
import { table } from '../../core/output.ts';
import { addresses, notesOf, workloadTargets } from './render.ts';

export default defineCommand({
  description: 'An endpoint is L4 (tcp): IPv6 by default, IPv4 only when it opts in. TLS is the app\'s job.',
  flags: { all: { type: 'boolean', description: 'Every endpoint of every env of the org: what is exposed to the internet' } },
  requires: ['auth', 'org'],
  examples: ['berth endpoints list', 'berth endpoints list --all', 'berth endpoints list --json'],
  async handler(ctx) {
    if (ctx.flags.all) return listAll(ctx);
    for (const level of ['project', 'app', 'env'] as const) {
      if (!ctx.target[level]) throw cliError('invalid-input', `${level}-not-selected`, `no ${level} selected`, [`--${level} <name>`, 'berth endpoints list --all (every env of the org)']);
    }
    const { endpoints } = await ctx.api.get<{ endpoints: EndpointView[] }>(ctx.api.envPath(ctx.target, '/endpoints'));
    ctx.out.result(endpoints, () => {
      if (!endpoints.length) return 'No endpoints. Declare one under `endpoints:` in berth.yaml, or: berth endpoints create <name> --workload <w> --port <port>';
      const rows = endpoints.map((e) => [e.name, e.source, addresses(e), workloadTargets(e), notesOf(e).join('; ')]);
      return table([['NAME', 'SOURCE', 'ADDRESS', 'WORKLOAD', 'NOTES'], ...rows], ctx.out.style);
    });
  },
});

async function listAll(ctx: CommandContext): Promise<void> {
  const endpoints: (EndpointView & { env: string })[] = [];
  // Every page: the question is "what is exposed", so the answer is the whole list.
  for (let after: string | null = null, first = true; first || after; first = false) {
    const page: { endpoints: (EndpointView & { env: string })[]; next: string | null } = await ctx.api.get(`/v1/orgs/${ctx.target.org}/endpoints${after ? `?after=${encodeURIComponent(after)}` : ''}`);
    endpoints.push(...page.endpoints);
    after = page.next;
  }
  ctx.out.result(endpoints, () => {
    if (!endpoints.length) return `Nothing of org ${ctx.target.org} is exposed: no env has an endpoint.`;
    const rows = endpoints.map((e) => [e.env, e.name, addresses(e), workloadTargets(e), e.endpoint.ipv4 ? 'IPv6+IPv4' : 'IPv6 only', e.endpoint.proxyProtocol ? `PROXY ${e.endpoint.proxyProtocol}` : '-']);
    return table([['ENV', 'ENDPOINT', 'ADDRESS', 'WORKLOAD', 'FAMILIES', 'PROXY'], ...rows], ctx.out.style);
  });
}
