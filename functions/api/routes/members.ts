// People and machine tokens of an org (Flow 9.1). Who may call each route is declared here; the
// finer rules (only owners touch ownership, an org keeps an owner, no token above its creator)
// live in the services.
import { CreateTokenBody, InviteBody, MemberParams, OrgParams, RoleBody, TokenParams } from '../../contract/api.ts';
import type { PlatformDeps } from '../../core/services/deps.ts';
import { changeRole, inviteMember, listMembers, removeMember, type Caller } from '../../core/services/members.ts';
import { createCiToken, listTokens, revokeToken } from '../../core/services/tokens.ts';
import type { Api } from '../app.ts';
import * as R from '../../contract/routes/index.ts';
import { register } from '../route.ts';

export function registerMemberRoutes(api: Api, { store }: PlatformDeps): void {
  const caller = (c: { get(k: 'token'): { principal: string }; get(k: 'role'): Caller['role'] | undefined }): Caller => ({ principal: c.get('token').principal, role: c.get('role')! });

  register(api, R.listMembers, async (c) =>
    c.json({ members: await listMembers(store, c.req.valid('param').org) }, 200),
  );
  register(api, R.inviteMember, async (c) => {
      const { org } = c.req.valid('param');
      const { member, code, expiresAt } = await inviteMember(store, org, c.req.valid('json'), caller(c));
      return c.json({ member, invite: { code, expiresAt, next: [`berth login --api <this API's URL>, then sign in on the page with the invite code`] } }, 201);
    },
  );
  register(api, R.changeMemberRole, async (c) => {
    const { org, email } = c.req.valid('param');
    return c.json({ member: await changeRole(store, org, email, c.req.valid('json').role, caller(c)) }, 200);
  });
  register(api, R.removeMember, async (c) => {
    const { org, email } = c.req.valid('param');
    return c.json({ removed: await removeMember(store, org, email, caller(c)) }, 200);
  });

  register(api, R.listTokens, async (c) =>
    c.json({ tokens: await listTokens(store, c.req.valid('param').org) }, 200),
  );
  register(api, R.createToken, async (c) => c.json(await createCiToken(store, c.req.valid('param').org, c.req.valid('json'), caller(c)), 201),
  );
  register(api, R.revokeToken, async (c) => {
    const { org, id } = c.req.valid('param');
    return c.json({ token: await revokeToken(store, org, id) }, 200);
  });
}
