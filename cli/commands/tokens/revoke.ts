import type { TokenView } from '../../../functions/contract/responses.ts';
import { defineCommand } from '../../core/command.ts';

export default defineCommand({
  description: 'The token stops working on its next request. Revoking it again changes nothing.',
  positionals: [{ name: 'id', description: 'Token id from `berth tokens list` (tok-…)', required: true }],
  requires: ['auth', 'org'],
  examples: ['berth tokens revoke tok-0123456789ab'],
  async handler(ctx) {
    const { token } = await ctx.api.delete<{ token: TokenView }>(`/v1/orgs/${ctx.target.org}/tokens/${ctx.positionals[0]}`);
    ctx.out.result(token, () => `Revoked ${token.name} (${token.id}) at ${token.revokedAt}.`);
  },
});
