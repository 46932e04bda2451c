// People in an org (Flow 9.1). An admin invites by email with a role; the invite is a one-time
// code the invitee uses once to sign in (`berth login` → approval page), after which they log in
// like everyone else. Owners alone hand out or take away ownership, and an org keeps an owner.
import { createHash, randomBytes } from 'node:crypto';
import { ConflictError, NotFoundError, PermissionError } from '../errors.ts';
import type { Member, Role } from '../model.ts';
import { rank } from '../roles.ts';
import type { StateStore } from '../state-store.ts';
import { requireOrg } from './hierarchy.ts';

const INVITE_TTL_MS = 7 * 24 * 3600 * 1000;

/** Who is changing the members: their principal and their role in the org. */
export interface Caller {
  principal: string;
  role: Role;
}

const inviteHash = (code: string): string => createHash('sha256').update(code).digest('hex');

export async function inviteMember(store: StateStore, org: string, request: { email: string; role: Role }, caller: Caller): Promise<{ member: Member; code: string; expiresAt: string }> {
  await requireOrg(store, org);
  mayGrant(caller, request.role, org);
  const existing = await store.getMember(org, request.email);
  if (existing?.status === 'active') {
    throw new ConflictError('member-exists', `${request.email} is already a member of ${org} (role ${existing.role})`, { next: [`berth members role ${request.email} ${request.role}`, 'berth members list'] });
  }
  if (existing && existing.role !== request.role) mayChange(caller, existing, org);
  const code = `inv_${randomBytes(18).toString('base64url')}`;
  const hash = inviteHash(code);
  const expiresAt = new Date(Date.now() + INVITE_TTL_MS).toISOString();
  // The invite first: a member record pointing at an invite that was never written could not sign in.
  await store.putInvite({ hash, org, email: request.email, expiresAt });
  const member = existing
    ? await store.updateMember(org, request.email, { role: request.role, inviteHash: hash })
    : { org, email: request.email, role: request.role, status: 'invited' as const, invitedBy: caller.principal, createdAt: new Date().toISOString(), inviteHash: hash };
  if (!existing) await store.createMember(member);
  return { member: publicMember(member), code, expiresAt };
}

/** Signs an invited member in once: the code must be theirs, current, unused and unexpired. */
export async function redeemInvite(store: StateStore, code: string): Promise<Member> {
  const hash = inviteHash(code.trim());
  const invite = await store.getInvite(hash);
  const invalid = (why: string) => new PermissionError('invite-invalid', `the invite code is ${why}; ask an admin of the org for a new one (berth members invite <email> --role <role>)`, { httpStatus: 401 });
  if (!invite) throw invalid('unknown');
  if (invite.usedAt) throw invalid('already used');
  if (Date.parse(invite.expiresAt) <= Date.now()) throw invalid('expired');
  const member = await store.getMember(invite.org, invite.email);
  if (!member || member.inviteHash !== hash) throw invalid('replaced by a newer invite or withdrawn');
  if (!(await store.useInvite(hash, new Date().toISOString()))) throw invalid('already used');
  return publicMember(await store.updateMember(invite.org, invite.email, { status: 'active' }));
}

export async function listMembers(store: StateStore, org: string): Promise<Member[]> {
  await requireOrg(store, org);
  return (await store.listMembers(org)).map(publicMember).sort((a, b) => rank(b.role) - rank(a.role) || a.email.localeCompare(b.email));
}

export async function changeRole(store: StateStore, org: string, email: string, role: Role, caller: Caller): Promise<Member> {
  const member = await requireMember(store, org, email);
  if (member.role === role) return publicMember(member);
  mayChange(caller, member, org);
  mayGrant(caller, role, org);
  if (member.role === 'owner') await keepAnOwner(store, org, email);
  return publicMember(await store.updateMember(org, email, { role }));
}

export async function removeMember(store: StateStore, org: string, email: string, caller: Caller): Promise<Member> {
  const member = await requireMember(store, org, email);
  mayChange(caller, member, org);
  if (member.role === 'owner') await keepAnOwner(store, org, email);
  // Their login tokens stop working at once: auth checks the membership on every request.
  await store.deleteMember(org, email);
  return publicMember(member);
}

async function requireMember(store: StateStore, org: string, email: string): Promise<Member> {
  await requireOrg(store, org);
  const member = await store.getMember(org, email);
  if (!member) throw new NotFoundError('member-not-found', `${email} is not a member of ${org}`, { next: ['berth members list'] });
  return member;
}

function mayGrant(caller: Caller, role: Role, org: string): void {
  if (role === 'owner' && caller.role !== 'owner') {
    throw new PermissionError('owner-required', `only an owner of ${org} can make someone an owner; ${caller.principal} is ${caller.role}`, { next: ['berth members list'] });
  }
  if (rank(role) > rank(caller.role)) throw new PermissionError('role-above-yours', `you cannot grant ${role} as ${caller.role}`, { next: ['berth members list'] });
}

function mayChange(caller: Caller, member: Member, org: string): void {
  if (member.role === 'owner' && caller.role !== 'owner') {
    throw new PermissionError('owner-required', `only an owner of ${org} can change or remove an owner (${member.email}); ${caller.principal} is ${caller.role}`, { next: ['berth members list'] });
  }
}

async function keepAnOwner(store: StateStore, org: string, leaving: string): Promise<void> {
  const owners = (await store.listMembers(org)).filter((m) => m.role === 'owner' && m.status === 'active' && m.email !== leaving);
  if (!owners.length) {
    throw new ConflictError('last-owner', `${leaving} is the last owner of ${org}; make someone else owner first`, { next: [`berth members role <email> owner`] });
  }
}

/** A member as the API shows it: never the invite hash. */
function publicMember({ inviteHash: _hash, ...m }: Member): Member {
  return m;
}

