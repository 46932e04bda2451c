// Who is signed in on the approval page. A person proves membership once, with a one-time invite
// code (an invited member's first login) or an API token they hold (the installer's bootstrap
// token, or a login token); that buys an hour-long browser session: an opaque cookie, stored only
// as its sha256, like API tokens. The session can do one thing: approve device logins, for the
// orgs its sign-in proved, never above the role of the token it signed in with.
import { createHash, createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { PermissionError } from '../core/errors.ts';
import type { Role, WebSession } from '../core/model.ts';
import { weaker } from '../core/roles.ts';
import { redeemInvite } from '../core/services/members.ts';
import type { StateStore } from '../core/state-store.ts';
import { verifyToken } from './auth.ts';

export const SESSION_COOKIE = 'berth_device_session';
export const SESSION_TTL_SECONDS = 3600;

const sha256 = (value: string): string => createHash('sha256').update(value).digest('hex');

/** Exactly one of them: the page's two sign-in forms. */
export interface Credentials {
  invite?: string;
  token?: string;
}

/** Checks the credential and opens a session; throws a PermissionError that says why not. */
export async function signIn(store: StateStore, credentials: Credentials, now: number): Promise<{ cookie: string; session: WebSession }> {
  const proof = await prove(store, credentials, now);
  const cookie = randomBytes(32).toString('base64url');
  const session: WebSession = { hash: sha256(cookie), ...proof, createdAt: new Date(now).toISOString(), expiresAt: Math.floor(now / 1000) + SESSION_TTL_SECONDS };
  await store.putWebSession(session);
  return { cookie, session };
}

type Proof = Pick<WebSession, 'principal' | 'via' | 'orgs' | 'maxRole' | 'viaTokenHash'>;

async function prove(store: StateStore, credentials: Credentials, now: number): Promise<Proof> {
  if (credentials.invite) {
    // The invite proves the membership it was made for, and only that one: whoever issued it
    // could have typed any email, so it must not open that email's other orgs.
    const member = await redeemInvite(store, credentials.invite);
    return { principal: member.email, via: 'invite', orgs: [member.org] };
  }
  if (!credentials.token) throw new PermissionError('sign-in-missing', 'paste an invite code or an API token to sign in', { httpStatus: 401 });
  const token = await verifyToken(store, credentials.token.trim(), now);
  if (token.kind === 'bootstrap') return { principal: token.principal, via: 'bootstrap', viaTokenHash: token.hash };
  if (token.kind === 'ci' || !token.org || !token.role) {
    throw new PermissionError('sign-in-ci-token', `"${token.name}" is a CI token: it acts for a machine, not a person, so it cannot approve logins; sign in with your invite code or your own login token`, { httpStatus: 403 });
  }
  return { principal: token.principal, via: 'session', orgs: [token.org], maxRole: token.role, viaTokenHash: token.hash };
}

/** The session behind a cookie, while it and the token it signed in with are good. */
export async function currentSession(store: StateStore, cookie: string | undefined, now: number): Promise<WebSession | undefined> {
  if (!cookie) return undefined;
  const session = await store.getWebSession(sha256(cookie));
  if (!session || session.expiresAt * 1000 <= now) return undefined;
  if (session.viaTokenHash) {
    // Revoking (or the expiry of) the token it signed in with ends the session at once.
    const token = await store.getTokenByHash(session.viaTokenHash);
    if (!token || token.revokedAt || (token.expiresAt && Date.parse(token.expiresAt) <= now)) return undefined;
  }
  return session;
}

export async function signOut(store: StateStore, cookie: string): Promise<void> {
  await store.deleteWebSession(sha256(cookie));
}

/**
 * The CSRF token of the session's forms: an HMAC keyed by the cookie value, which a cross-site
 * page can neither read (HttpOnly) nor derive. Nothing extra is stored.
 */
export function csrfToken(cookie: string): string {
  return createHmac('sha256', cookie).update('berth device approval').digest('base64url');
}

export function csrfMatches(cookie: string, given: string | undefined): boolean {
  if (!given) return false;
  const expected = Buffer.from(csrfToken(cookie));
  const actual = Buffer.from(given);
  return expected.length === actual.length && timingSafeEqual(expected, actual);
}

/** The orgs this session may approve a login for, with the role the login token would get. */
export async function approvalChoices(store: StateStore, session: WebSession): Promise<{ org: string; role: Role }[]> {
  const orgs = session.orgs ?? (await store.listMemberships(session.principal)).map((m) => m.org);
  const choices: { org: string; role: Role }[] = [];
  for (const org of orgs) {
    const member = await store.getMember(org, session.principal);
    if (member?.status !== 'active') continue;
    choices.push({ org, role: session.maxRole ? weaker(session.maxRole, member.role) : member.role });
  }
  return choices.sort((a, b) => a.org.localeCompare(b.org));
}

/** `Set-Cookie` for the session: HttpOnly, SameSite=Strict, scoped to the page, Secure over https. */
export function sessionCookie(value: string, secure: boolean, maxAge = SESSION_TTL_SECONDS): string {
  return `${SESSION_COOKIE}=${value}; Path=/device; Max-Age=${maxAge}; HttpOnly; SameSite=Strict${secure ? '; Secure' : ''}`;
}
