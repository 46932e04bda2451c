import type { MemberView as Member } from '../../../functions/contract/responses.ts';
import { defineCommand } from '../../core/command.ts';
import { ago, table } from '../../core/output.ts';

export default defineCommand({
  requires: ['auth', 'org'],
  async handler(ctx) {
    const { members } = await ctx.api.get<{ members: Member[] }>(`/v1/orgs/${ctx.target.org}/members`);
    ctx.out.result(members, () =>
      table([['EMAIL', 'ROLE', 'STATUS', 'SINCE', 'INVITED BY'], ...members.map((m) => [m.email, m.role, m.status, ago(m.createdAt, ctx.host.now()), m.invitedBy])], ctx.out.style),
    );
  },
});
