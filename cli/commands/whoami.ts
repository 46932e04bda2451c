import { defineCommand } from '../core/command.ts';
import { table } from '../core/output.ts';
import type { WhoAmI } from './login.ts';

export default defineCommand({
  description: 'Shows the token the CLI uses: who it acts as, its name and kind (bootstrap, session from `berth login`, ci), its org, role and expiry, and the API.',
  requires: ['auth'],
  async handler(ctx) {
    const { token: t } = await ctx.api.get<WhoAmI>('/v1/whoami');
    const api = ctx.api.baseUrl;
    ctx.out.result({ api, principal: t.principal, org: t.org, role: t.role, token: { id: t.id, name: t.name, kind: t.kind, expiresAt: t.expiresAt } }, () =>
      table([
        ['principal', t.principal],
        ['token', `${t.id} "${t.name}" (${t.kind})`],
        ['org', t.org ?? (t.kind === 'bootstrap' ? '(every org the installer is in)' : '-')],
        ['role', t.role ?? (t.kind === 'bootstrap' ? '(the installer’s role in each org)' : '-')],
        ['expires', t.expiresAt ?? 'never'],
        ['api', api ?? '-'],
      ]),
    );
  },
});
