// People and machine tokens of an org (Flow 9.1). Who may call each route is declared here; the
// finer rules (only owners touch ownership, an org keeps an owner, no token above its creator)
// live in the services.
import { CreateTokenBody, InviteBody, MemberParams, OrgParams, RoleBody, TokenParams } from '../../contract/api.ts';
import type { PlatformDeps } from '../../core/services/deps.ts';
import { changeRole, inviteMember, listMembers, removeMember, type Caller } from '../../core/services/members.ts';
import { createCiToken, listTokens, revokeToken } from '../../core/services/tokens.ts';
import type { Api } from '../app.ts';
import { route } from '../route.ts';

export function registerMemberRoutes(api: Api, { store }: PlatformDeps): void {
  const caller = (c: { get(k: 'token'): { principal: string }; get(k: 'role'): Caller['role'] | undefined }): Caller => ({ principal: c.get('token').principal, role: c.get('role')! });

  api.openapi(route({ method: 'get', path: '/orgs/{org}/members', summary: 'Members of the org with their roles', permission: 'read', tag: 'members', params: OrgParams }), async (c) =>
    c.json({ members: await listMembers(store, c.req.valid('param').org) }, 200),
  );
  api.openapi(
    route({ method: 'post', path: '/orgs/{org}/members', summary: 'Invite someone by email with a role; answers a one-time invite code (good for 7 days) to hand them', permission: 'admin', tag: 'members', params: OrgParams, body: InviteBody, status: 201, shownOnce: ['invite.code'] }),
    async (c) => {
      const { org } = c.req.valid('param');
      const { member, code, expiresAt } = await inviteMember(store, org, c.req.valid('json'), caller(c));
      return c.json({ member, invite: { code, expiresAt, next: [`berth login --api <this API's URL>, then sign in on the page with the invite code`] } }, 201);
    },
  );
  api.openapi(route({ method: 'patch', path: '/orgs/{org}/members/{email}', summary: "Change a member's role", permission: 'admin', tag: 'members', params: MemberParams, body: RoleBody }), async (c) => {
    const { org, email } = c.req.valid('param');
    return c.json({ member: await changeRole(store, org, email, c.req.valid('json').role, caller(c)) }, 200);
  });
  api.openapi(route({ method: 'delete', path: '/orgs/{org}/members/{email}', summary: 'Remove a member; their login tokens stop working at once', permission: 'admin', tag: 'members', params: MemberParams }), async (c) => {
    const { org, email } = c.req.valid('param');
    return c.json({ removed: await removeMember(store, org, email, caller(c)) }, 200);
  });

  api.openapi(route({ method: 'get', path: '/orgs/{org}/tokens', summary: "The org's tokens: name, kind, role, expiry, revocation (never the token)", permission: 'admin', tag: 'tokens', params: OrgParams }), async (c) =>
    c.json({ tokens: await listTokens(store, c.req.valid('param').org) }, 200),
  );
  api.openapi(
    route({ method: 'post', path: '/orgs/{org}/tokens', summary: 'Create a CI token with a role (at most yours) and an expiry; the token is in this answer only', permission: 'admin', tag: 'tokens', params: OrgParams, body: CreateTokenBody, status: 201, shownOnce: ['token'] }),
    async (c) => c.json(await createCiToken(store, c.req.valid('param').org, c.req.valid('json'), caller(c)), 201),
  );
  api.openapi(route({ method: 'delete', path: '/orgs/{org}/tokens/{id}', summary: 'Revoke a token of the org (idempotent)', permission: 'admin', tag: 'tokens', params: TokenParams }), async (c) => {
    const { org, id } = c.req.valid('param');
    return c.json({ token: await revokeToken(store, org, id) }, 200);
  });
}
