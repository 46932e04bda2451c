import type { MemberView as Member } from '../../../functions/contract/responses.ts';
import { defineCommand } from '../../core/command.ts';

export default defineCommand({
  description: 'Takes effect on their next request, login tokens included. Only an owner can grant or take away owner, and an org always keeps one owner.',
  positionals: [
    { name: 'email', description: 'The member', required: true },
    { name: 'role', description: 'viewer | deployer | admin | owner', required: true },
  ],
  requires: ['auth', 'org'],
  examples: ['berth members role alice@example.com admin'],
  async handler(ctx) {
    const [email, role] = ctx.positionals;
    const { member } = await ctx.api.patch<{ member: Member }>(`/v1/orgs/${ctx.target.org}/members/${encodeURIComponent(email)}`, { role });
    ctx.out.result(member, () => `${member.email} is now ${member.role} in ${ctx.target.org}.`);
  },
});
