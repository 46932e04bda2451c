// Members, tokens and the audit log of an org; logging out.
import { z } from 'zod';
import { CreateTokenBody, InviteBody, MemberParams, OrgParams, RoleBody, TokenParams } from '../api.ts';
import { AuditQuery, AuditRecord } from '../audit.ts';
import { MemberView, TokenView } from '../responses.ts';
import { defineRoute } from '../route-def.ts';

export const listMembers = defineRoute({
  operationId: 'listMembers', method: 'get', path: '/orgs/{org}/members', tag: 'members', permission: 'read', summary: 'Members of the org with their roles',
  params: OrgParams,
  responses: { 200: { description: 'Members, strongest role first', schema: z.object({ members: z.array(MemberView) }) } },
});
export const inviteMember = defineRoute({
  operationId: 'inviteMember', method: 'post', path: '/orgs/{org}/members', tag: 'members', permission: 'admin',
  summary: 'Invite someone by email with a role; answers a one-time invite code (good for 7 days) to hand them',
  params: OrgParams, body: InviteBody, requestExample: { email: 'alice@example.com', role: 'deployer' }, errors: [409], shownOnce: ['invite.code'],
  responses: { 201: { description: 'The member (invited) and the code, shown this once', schema: z.object({ member: MemberView, invite: z.object({ code: z.string(), expiresAt: z.string(), next: z.array(z.string()) }) }) } },
});
export const changeMemberRole = defineRoute({
  operationId: 'changeMemberRole', method: 'patch', path: '/orgs/{org}/members/{email}', tag: 'members', permission: 'admin', summary: "Change a member's role",
  params: MemberParams, body: RoleBody, requestExample: { role: 'admin' }, errors: [409],
  responses: { 200: { description: 'The member', schema: z.object({ member: MemberView }) } },
});
export const removeMember = defineRoute({
  operationId: 'removeMember', method: 'delete', path: '/orgs/{org}/members/{email}', tag: 'members', permission: 'admin', summary: 'Remove a member; their login tokens stop working at once',
  params: MemberParams, errors: [409],
  responses: { 200: { description: 'Who was removed', schema: z.object({ removed: MemberView }) } },
});

export const listTokens = defineRoute({
  operationId: 'listTokens', method: 'get', path: '/orgs/{org}/tokens', tag: 'tokens', permission: 'admin', summary: "The org's tokens: name, kind, role, expiry, revocation (never the token)",
  params: OrgParams,
  responses: { 200: { description: 'Tokens, newest first', schema: z.object({ tokens: z.array(TokenView) }) } },
});
export const createToken = defineRoute({
  operationId: 'createToken', method: 'post', path: '/orgs/{org}/tokens', tag: 'tokens', permission: 'admin',
  summary: 'Create a CI token with a role (at most yours) and an expiry; the token is in this answer only',
  params: OrgParams, body: CreateTokenBody, requestExample: { name: 'github-actions', role: 'deployer', expiresInDays: 90 }, shownOnce: ['token'],
  responses: { 201: { description: 'The token (shown this once) and its record', schema: z.object({ token: z.string(), record: TokenView }) } },
});
export const revokeToken = defineRoute({
  operationId: 'revokeToken', method: 'delete', path: '/orgs/{org}/tokens/{id}', tag: 'tokens', permission: 'admin', summary: 'Revoke a token of the org (idempotent)',
  params: TokenParams,
  responses: { 200: { description: 'The token with revokedAt', schema: z.object({ token: TokenView }) } },
});
export const revokeOwnToken = defineRoute({
  operationId: 'revokeOwnToken', method: 'delete', path: '/tokens/self', tag: 'identity', permission: 'authenticated', summary: 'Revoke the token that sends this request (berth logout)',
  errors: [409],
  responses: {
    200: {
      description: 'The revoked token',
      schema: z.object({ revoked: z.object({ id: z.string(), name: z.string(), kind: z.enum(['bootstrap', 'session', 'ci']), principal: z.string(), org: z.string().nullable(), revokedAt: z.string() }) }),
    },
  },
});

export const listAudit = defineRoute({
  operationId: 'listAudit', method: 'get', path: '/orgs/{org}/audit', tag: 'audit', permission: 'admin',
  summary: 'Audit log: every mutation of the org (who, what, when, from where, outcome), newest first; format=csv for RFC 4180',
  params: OrgParams, query: AuditQuery,
  responses: {
    200: {
      description: '`{ records, next }`: pass `next` as `after` for the following (older) page; null on the last',
      schema: z.object({ records: z.array(AuditRecord), next: z.string().nullable() }),
      stream: { mediaType: 'text/csv', description: 'format=csv: the same page as RFC 4180 text with a header row; the next-page cursor is in x-berth-next' },
      headers: ['x-berth-next'],
    },
  },
});

export const PEOPLE_ROUTES = [listMembers, inviteMember, changeMemberRole, removeMember, listTokens, createToken, revokeToken, revokeOwnToken, listAudit] as const;
