import type { MemberView as Member } from '../../../functions/contract/responses.ts';
import { defineCommand } from '../../core/command.ts';
import { flag } from '../../core/flags.ts';
import { requireYes } from '../confirm.ts';

export default defineCommand({
  description: 'Their login tokens stop working at once. CI tokens they created stay until revoked (`berth tokens list`).',
  positionals: [{ name: 'email', description: 'The member', required: true }],
  flags: { ...flag('yes', 'Confirm') },
  requires: ['auth', 'org'],
  examples: ['berth members remove bob@example.com --yes'],
  async handler(ctx) {
    const email = ctx.positionals[0];
    requireYes(ctx, `removing ${email} from ${ctx.target.org} ends their access and`, `berth members remove ${email}`);
    const { removed } = await ctx.api.delete<{ removed: Member }>(`/v1/orgs/${ctx.target.org}/members/${encodeURIComponent(email)}`);
    ctx.out.result(removed, () => `Removed ${removed.email} (${removed.role}) from ${ctx.target.org}. Their login tokens no longer work.`);
  },
});
