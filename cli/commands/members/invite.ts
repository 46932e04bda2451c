import type { MemberView as Member } from '../../../functions/contract/responses.ts';
import { defineCommand } from '../../core/command.ts';
import { flag } from '../../core/flags.ts';
import { cliError } from '../../core/errors.ts';

export default defineCommand({
  description: 'Answers a one-time invite code (good for 7 days). Hand it to the person over a channel you trust; they run `berth login --api <url>` and sign in with it on the page that opens. Only an owner can invite an owner.',
  positionals: [{ name: 'email', description: 'Their email: who they will be in the audit log', required: true }],
  flags: { ...flag('role') },
  requires: ['auth', 'org'],
  examples: ['berth members invite alice@example.com --role deployer'],
  async handler(ctx) {
    const role = ctx.flags.role;
    if (!role) throw cliError('invalid-input', 'role-missing', 'give the role with --role viewer|deployer|admin|owner', [`berth members invite ${ctx.positionals[0]} --role deployer`]);
    const created = await ctx.api.post<{ member: Member; invite: { code?: string; expiresAt: string }; secretShownOnce?: boolean }>(`/v1/orgs/${ctx.target.org}/members`, { email: ctx.positionals[0], role });
    // A retry after a dropped connection is answered from the idempotency record, which never holds the code.
    if (created.invite.code === undefined) {
      ctx.out.result(created, () =>
        [`Invited ${created.member.email} to ${ctx.target.org} as ${created.member.role}, but the answer with the invite code was lost on the way and it is shown only once.`, 'Invite them again for a new code (the lost one stops working):', `  berth members invite ${created.member.email} --role ${created.member.role}`].join('\n'),
      );
      return;
    }
    ctx.out.result(created, () =>
      [
        `Invited ${created.member.email} to ${ctx.target.org} as ${created.member.role}.`,
        '',
        `  invite code   ${created.invite.code}`,
        `  good until    ${created.invite.expiresAt} (once)`,
        '',
        'Send them the code, and this:',
        `  berth login --api ${ctx.api.baseUrl ?? '<api url>'}`,
        '  then sign in with the invite code on the page it opens.',
      ].join('\n'),
    );
  },
});
