import type { TokenView } from '../../../functions/contract/responses.ts';
import { defineCommand } from '../../core/command.ts';
import { ago, table } from '../../core/output.ts';

export default defineCommand({
  description: 'Login (session) and CI tokens of the org, never the tokens themselves.',
  requires: ['auth', 'org'],
  async handler(ctx) {
    const { tokens } = await ctx.api.get<{ tokens: TokenView[] }>(`/v1/orgs/${ctx.target.org}/tokens`);
    const now = ctx.host.now();
    const state = (t: TokenView) => (t.revokedAt ? 'revoked' : t.expiresAt && Date.parse(t.expiresAt) <= now ? 'expired' : 'active');
    ctx.out.result(tokens, () =>
      tokens.length
        ? table([['ID', 'NAME', 'KIND', 'WHO', 'ROLE', 'STATE', 'EXPIRES', 'CREATED'], ...tokens.map((t) => [t.id, t.name, t.kind, t.principal, t.role ?? '-', state(t), t.expiresAt ?? 'never', ago(t.createdAt, now)])], ctx.out.style)
        : 'No tokens yet. Create one for CI: berth tokens create <name> --role deployer',
    );
  },
});
