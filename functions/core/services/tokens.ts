// Tokens an org hands to machines (CI): a role no higher than the creator's and an expiry. They
// are listed by their metadata only; the token itself is shown once, when created.
import type { TokenView } from '../../contract/responses.ts';
import { issueToken } from '../token-mint.ts';
import { NotFoundError, PermissionError } from '../errors.ts';
import type { Role, TokenRecord } from '../model.ts';
import { rank } from '../roles.ts';
import type { StateStore } from '../state-store.ts';
import { requireOrg } from './hierarchy.ts';
import type { Caller } from './members.ts';



export async function createCiToken(store: StateStore, org: string, request: { name: string; role: Role; expiresInDays: number }, caller: Caller): Promise<{ token: string; record: TokenView }> {
  await requireOrg(store, org);
  if (rank(request.role) > rank(caller.role)) {
    throw new PermissionError('role-above-yours', `a token cannot have more than its creator: ${caller.principal} is ${caller.role} in ${org}, the token asks for ${request.role}`, { next: [`berth tokens create ${request.name} --role ${caller.role}`] });
  }
  const expiresAt = new Date(Date.now() + request.expiresInDays * 24 * 3600 * 1000).toISOString();
  const { token, record } = await issueToken(store, { name: request.name, kind: 'ci', principal: `token:${request.name}`, org, role: request.role, createdBy: caller.principal, expiresAt });
  return { token, record: view(record) };
}

export async function listTokens(store: StateStore, org: string): Promise<TokenView[]> {
  await requireOrg(store, org);
  return (await store.listTokens(org)).map(view).sort((a, b) => b.createdAt.localeCompare(a.createdAt));
}

/** Revokes one of the org's tokens; revoking it again answers the same. */
export async function revokeToken(store: StateStore, org: string, id: string): Promise<TokenView> {
  const found = (await store.listTokens(org)).find((t) => t.id === id);
  if (!found) throw new NotFoundError('token-not-found', `no token ${id} in ${org}`, { next: ['berth tokens list'] });
  const at = new Date().toISOString();
  await store.revokeToken(found, at);
  return view({ ...found, revokedAt: found.revokedAt ?? at });
}

function view({ hash: _hash, ...t }: TokenRecord): TokenView {
  return t;
}
