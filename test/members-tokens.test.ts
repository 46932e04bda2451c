// Flow 9.1 through the real CLI: an owner invites people with roles and hands CI tokens out; the
// role of a token decides what it may do, a revoked or expired token does nothing, removing a
// member ends their login at once, and nobody outside an org can tell it exists.
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { issueToken } from '../functions/api/auth.ts';
import { redeemInvite } from '../functions/core/services/members.ts';
import { runBerth } from './support/cli-harness.ts';
import { startOpsPlatform, type OpsPlatform } from './support/ops-harness.ts';

let dir: string;
let cwd: string;
let ops: OpsPlatform;

const berth = (args: string[], token = ops.token, org = 'acme') =>
  runBerth(args, { cwd, env: { BERTH_HOME: join(dir, 'cli-home'), BERTH_API: ops.platform.url, BERTH_TOKEN: token, BERTH_ORG: org } });
const json = async (args: string[], token?: string, org?: string) => {
  const r = await berth([...args, '--json'], token, org);
  expect(r.code, r.stdout + r.stderr).toBe(0);
  return JSON.parse(r.stdout);
};

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'berth-members-'));
  cwd = join(dir, 'cwd');
  mkdirSync(cwd);
  ops = await startOpsPlatform(join(dir, 'home'));
  for (const org of ['acme', 'globex']) expect((await ops.call('POST', '/v1/orgs', { name: org })).status).toBe(201);
}, 30_000);

afterAll(async () => {
  await ops?.platform.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('members', () => {
  it('the creator of an org is its owner; an invite is a one-time code that makes the invitee an active member', async () => {
    expect((await json(['members', 'list'])).map((m: { email: string; role: string }) => [m.email, m.role])).toEqual([['owner', 'owner']]);
    const invited = await json(['members', 'invite', 'alice@example.com', '--role', 'deployer']);
    expect(invited.member).toMatchObject({ email: 'alice@example.com', role: 'deployer', status: 'invited' });
    expect(invited.member.inviteHash).toBeUndefined();
    const member = await redeemInvite(ops.platform.deps.store, invited.invite.code);
    expect(member).toMatchObject({ email: 'alice@example.com', status: 'active' });
    await expect(redeemInvite(ops.platform.deps.store, invited.invite.code)).rejects.toMatchObject({ code: 'invite-invalid' });
  });

  it('an admin cannot make an owner, and the last owner cannot step down', async () => {
    const { token: admin } = await issueToken(ops.platform.deps.store, { name: 'adm', kind: 'ci', principal: 'token:adm', org: 'acme', role: 'admin', createdBy: 'owner' });
    const r = await berth(['members', 'invite', 'mallory@example.com', '--role', 'owner'], admin);
    expect(r.code).toBe(6);
    expect(r.stderr).toContain('only an owner');
    const last = await berth(['members', 'role', 'owner', 'viewer']);
    expect(last.stderr).toContain('email');
    // `owner` is the installer's principal, not an email: the route refuses the name first.
    expect(last.code).toBe(2);
  });

  it('removing a member ends their login token at once', async () => {
    const invited = await json(['members', 'invite', 'bob@example.com', '--role', 'viewer']);
    await redeemInvite(ops.platform.deps.store, invited.invite.code);
    const { token } = await issueToken(ops.platform.deps.store, { name: 'laptop', kind: 'session', principal: 'bob@example.com', org: 'acme', role: 'viewer', createdBy: 'bob@example.com' });
    expect((await berth(['members', 'list'], token)).code).toBe(0);
    expect((await berth(['members', 'remove', 'bob@example.com'])).code).toBe(2);
    await json(['members', 'remove', 'bob@example.com', '--yes']);
    const after = await berth(['members', 'list', '--json'], token);
    expect(after.code).toBe(4);
    expect(JSON.parse(after.stdout).error.code).toBe('org-not-found');
  });

  it('a lowered role applies to the member’s existing login token', async () => {
    const invited = await json(['members', 'invite', 'carol@example.com', '--role', 'admin']);
    await redeemInvite(ops.platform.deps.store, invited.invite.code);
    const { token } = await issueToken(ops.platform.deps.store, { name: 'laptop', kind: 'session', principal: 'carol@example.com', org: 'acme', role: 'admin', createdBy: 'carol@example.com' });
    expect((await berth(['tokens', 'list'], token)).code).toBe(0);
    await json(['members', 'role', 'carol@example.com', 'viewer']);
    const r = await berth(['tokens', 'list', '--json'], token);
    expect(r.code).toBe(6);
    expect(JSON.parse(r.stdout).error).toMatchObject({ category: 'permission', code: 'role-insufficient' });
  });
});

describe('tokens', () => {
  it('a CI token acts with its role in its org only, is listed without its secret, and stops on revoke', async () => {
    const created = await json(['tokens', 'create', 'github-actions', '--role', 'deployer', '--expires', '30d']);
    expect(created.token).toMatch(/^berth_/);
    expect(created.record).toMatchObject({ name: 'github-actions', kind: 'ci', role: 'deployer', org: 'acme' });
    expect(Date.parse(created.record.expiresAt) - Date.now()).toBeGreaterThan(29 * 86400_000);
    const ci = created.token as string;

    // Deployer may read, not reshape the org.
    expect((await berth(['projects', 'list'], ci)).code).toBe(0);
    const denied = await berth(['projects', 'create', 'shop', '--json'], ci);
    expect(denied.code).toBe(6);
    expect(JSON.parse(denied.stdout).error).toMatchObject({ category: 'permission', code: 'role-insufficient', details: { needed: 'admin', role: 'deployer' } });
    expect((await json(['orgs', 'list'], ci)).map((o: { name: string }) => o.name)).toEqual(['acme']);

    const listed = await json(['tokens', 'list']);
    expect(JSON.stringify(listed)).not.toContain(ci);
    expect(JSON.stringify(listed)).not.toContain('"hash"');
    expect(listed.find((t: { id: string }) => t.id === created.record.id)).toMatchObject({ kind: 'ci', role: 'deployer' });

    await json(['tokens', 'revoke', created.record.id]);
    await json(['tokens', 'revoke', created.record.id]);
    const revoked = await berth(['projects', 'list', '--json'], ci);
    expect(revoked.code).toBe(6);
    expect(JSON.parse(revoked.stdout).error.code).toBe('token-revoked');
  });

  it('no token gets a role above its creator', async () => {
    const { token: deployer } = await issueToken(ops.platform.deps.store, { name: 'dep', kind: 'ci', principal: 'token:dep', org: 'acme', role: 'deployer', createdBy: 'owner' });
    // Creating tokens needs admin in the first place.
    expect((await berth(['tokens', 'create', 'ci-x', '--role', 'viewer'], deployer)).code).toBe(6);
    const { token: admin } = await issueToken(ops.platform.deps.store, { name: 'adm2', kind: 'ci', principal: 'token:adm2', org: 'acme', role: 'admin', createdBy: 'owner' });
    const r = await berth(['tokens', 'create', 'ci-y', '--role', 'owner', '--json'], admin);
    expect(r.code).toBe(6);
    expect(JSON.parse(r.stdout).error.code).toBe('role-above-yours');
  });

  it('an expired token is refused with the reason', async () => {
    const { token } = await issueToken(ops.platform.deps.store, { name: 'old', kind: 'ci', principal: 'token:old', org: 'acme', role: 'owner', createdBy: 'owner', expiresAt: new Date(Date.now() - 1000).toISOString() });
    const r = await berth(['projects', 'list', '--json'], token);
    expect(r.code).toBe(6);
    expect(JSON.parse(r.stdout).error).toMatchObject({ code: 'token-expired' });
  });
});

describe('isolation', () => {
  it('an owner token of one org gets the very answer a missing org gets, for every read and write of another', async () => {
    const { token: globexOwner } = await issueToken(ops.platform.deps.store, { name: 'g', kind: 'ci', principal: 'token:g', org: 'globex', role: 'owner', createdBy: 'owner' });
    for (const args of [['projects', 'list'], ['members', 'list'], ['tokens', 'list'], ['projects', 'create', 'steal'], ['members', 'invite', 'eve@example.com', '--role', 'owner']]) {
      const intoAcme = await berth([...args, '--json'], globexOwner, 'acme');
      const intoNowhere = await berth([...args, '--json'], globexOwner, 'no-such-org');
      expect(intoAcme.code, args.join(' ')).toBe(4);
      expect(JSON.parse(intoAcme.stdout).error.message.replace('acme', 'X')).toBe(JSON.parse(intoNowhere.stdout).error.message.replace('no-such-org', 'X'));
    }
  });
});
