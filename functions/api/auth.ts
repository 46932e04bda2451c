// Bearer-token auth and the one place that decides access. Tokens are random and opaque; only
// their sha256 is stored, so a leaked table does not leak a usable token. Every route declares its
// permission (route.ts); `authorize` checks it against the caller's role in the route's org, and a
// caller with no role there gets exactly the answer a missing org gets, so orgs do not leak.
import type { Context, MiddlewareHandler } from 'hono';
import { Name } from '../contract/manifest.ts';
import { BerthError, InvalidInputError, NotFoundError, PermissionError } from '../core/errors.ts';
import type { Role, TokenRecord } from '../core/model.ts';
import { hashToken } from '../core/token-mint.ts';
import { MINIMUM_ROLE, roleAllows, weaker, type Permission } from '../core/roles.ts';
import type { Actor } from '../core/services/deps.ts';
import { orgNotFound } from '../core/services/hierarchy.ts';
import type { StateStore } from '../core/state-store.ts';

export { hashToken, INSTALLER, issueOwnerToken, issueToken, type NewToken } from '../core/token-mint.ts';

/** The token's record if it may be used now; otherwise the 401 that says why. */
export async function verifyToken(store: StateStore, token: string, now = Date.now()): Promise<TokenRecord> {
  const record = await store.getTokenByHash(hashToken(token));
  if (!record) throw new BerthError('permission', 'invalid-token', 'the API token is not valid (unknown)', { next: ['berth login'], httpStatus: 401 });
  if (record.revokedAt) throw new BerthError('permission', 'token-revoked', `the API token "${record.name}" was revoked at ${record.revokedAt}`, { next: ['berth login'], httpStatus: 401 });
  if (record.expiresAt && Date.parse(record.expiresAt) <= now) {
    throw new BerthError('permission', 'token-expired', `the API token "${record.name}" expired at ${record.expiresAt}`, { next: ['berth login', 'berth tokens create <name> --role <role> --expires 90d'], httpStatus: 401 });
  }
  return record;
}

export type AuthVariables = {
  actor: Actor;
  token: TokenRecord;
  /** The server's own id for the request (request-id.ts). */
  requestId: string;
  /** The `X-Request-Id` the client sent, sanitized; kept beside the server's id, never as it. */
  clientRequestId?: string;
  store: StateStore;
  role?: Role;
  /** Who acted, for the audit log, when it was not an API token (the approval page's signed-in member). */
  auditSubject?: { org: string; actor: string; tokenId: string; tokenKind: TokenRecord['kind'] };
};

export function bearerAuth(store: StateStore): MiddlewareHandler<{ Variables: AuthVariables }> {
  return async (c, next) => {
    const match = /^Bearer\s+(\S+)$/i.exec(c.req.header('authorization') ?? '');
    if (!match) {
      throw new BerthError('permission', 'unauthenticated', 'no API token was sent; send `Authorization: Bearer <token>`', {
        next: ['berth login', 'export BERTH_TOKEN=<token>'],
        httpStatus: 401,
      });
    }
    const record = await verifyToken(store, match[1]);
    c.set('token', record);
    c.set('store', store);
    c.set('actor', { id: record.id, name: record.principal });
    await next();
  };
}

/** The caller's role in `org`, or undefined when they have none there. */
export async function roleIn(store: StateStore, token: TokenRecord, org: string): Promise<Role | undefined> {
  if (token.kind === 'bootstrap') return (await store.getMember(org, token.principal))?.role;
  if (token.org !== org || !token.role) return undefined;
  if (token.kind === 'ci') return token.role;
  // A login token follows its member: a lowered role or a removal takes effect at once.
  const member = await store.getMember(org, token.principal);
  return member ? weaker(token.role, member.role) : undefined;
}

/** The route guard: `permission` is what the route declared in its spec. */
export function authorize(permission: Permission): MiddlewareHandler<{ Variables: AuthVariables }> {
  return async (c, next) => {
    const token = c.get('token');
    if (permission === 'authenticated' || permission === 'public') return next();
    if (permission === 'platform') {
      if (token.kind !== 'bootstrap') {
        throw new PermissionError('platform-token-required', 'this needs the installer’s bootstrap token (printed by the first `npm start`; on AWS the one created under “First login” in infra/README.md); org tokens cannot do it', {
          next: ['berth whoami'],
          httpStatus: 403,
        });
      }
      return next();
    }
    const org = orgOf(c);
    const role = await roleIn(c.get('store'), token, org);
    if (!role) throw orgNotFound(org);
    if (!roleAllows(role, permission)) {
      const needed = MINIMUM_ROLE[permission];
      throw new PermissionError('role-insufficient', `${c.req.method} ${new URL(c.req.url).pathname} needs the role ${needed} or higher in org "${org}"; ${token.principal} has ${role}`, {
        details: { needed, role, org },
        // A CI token's role is fixed: the fix is another token, not a member's role.
        next: token.kind === 'ci' ? [`ask an admin of ${org} for a token with that role: berth tokens create <name> --role ${needed}`, 'berth whoami'] : [`ask an admin of ${org}: berth members role ${token.principal} ${needed}`, 'berth whoami'],
        httpStatus: 403,
      });
    }
    c.set('role', role);
    return next();
  };
}

/**
 * The route's org, checked here because the guard runs before the route's validators. Hono has
 * decoded the parameter already (and left a bad `%` escape as it came); decoding it again would
 * turn `%25zz` into a URIError.
 */
function orgOf(c: Context): string {
  const org = c.req.param('org');
  if (org === undefined) throw new Error(`route ${c.req.routePath} declares an org permission but has no {org} parameter`);
  const name = Name.safeParse(org);
  if (!name.success) {
    const message = name.error.issues[0]?.message ?? 'must be a DNS label';
    throw new InvalidInputError('request-invalid', `the request is not valid: param org: ${message} (got ${JSON.stringify(org)})`, { details: [{ path: 'org', message, in: 'param' }] });
  }
  return name.data;
}
