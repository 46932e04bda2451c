import type { TokenView } from '../../../functions/contract/responses.ts';
import { defineCommand } from '../../core/command.ts';
import { flag } from '../../core/flags.ts';
import { cliError } from '../../core/errors.ts';

export default defineCommand({
  description: 'For CI and other machines: a token of this org with a role (at most yours) that stops working after --expires. The token is printed once and stored only as a hash.',
  positionals: [{ name: 'name', description: 'A label: where it is used, e.g. github-actions', required: true }],
  flags: {
    ...flag('role', 'viewer | deployer | admin | owner (at most yours)'),
    expires: { type: 'string', valueName: 'days', description: 'Lifetime: 30d, 90d (default), up to 366d' },
  },
  requires: ['auth', 'org'],
  examples: ['berth tokens create github-actions --role deployer --expires 90d', 'berth tokens create dashboards --role viewer --json | jq -r .token'],
  async handler(ctx) {
    const role = ctx.flags.role;
    if (!role) throw cliError('invalid-input', 'role-missing', 'give the token a role with --role viewer|deployer|admin|owner', [`berth tokens create ${ctx.positionals[0]} --role deployer`]);
    const expires = ctx.flags.expires ?? '90d';
    const days = /^(\d+)d?$/.exec(expires)?.[1];
    if (!days) throw cliError('invalid-input', 'expires-invalid', `--expires ${JSON.stringify(expires)} is not a number of days such as 30d`, [`berth tokens create ${ctx.positionals[0]} --role ${role} --expires 30d`]);
    const created = await ctx.api.post<{ token?: string; record: TokenView; secretShownOnce?: boolean }>(`/v1/orgs/${ctx.target.org}/tokens`, { name: ctx.positionals[0], role, expiresInDays: Number(days) });
    // A retry after a dropped connection is answered from the idempotency record, which never holds the token.
    if (created.token === undefined) {
      ctx.out.result(created, () =>
        [
          `Created token ${created.record.name} (${created.record.id}), but its answer was lost on the way and the token is shown only once.`,
          'Revoke it and create another:',
          `  berth tokens revoke ${created.record.id}`,
          `  berth tokens create ${created.record.name} --role ${created.record.role}`,
        ].join('\n'),
      );
      return;
    }
    ctx.out.result(created, () =>
      [
        `Created token ${created.record.name} (${created.record.id}): ${created.record.role} in ${ctx.target.org} until ${created.record.expiresAt}.`,
        '',
        `  ${created.token}`,
        '',
        'It is shown this once. Use it as BERTH_TOKEN (with BERTH_API and BERTH_ORG); revoke it with:',
        `  berth tokens revoke ${created.record.id}`,
      ].join('\n'),
    );
  },
});
