// The audit log (Flow 9.2), against the embedded platform over real HTTP: every mutation leaves a
// record whatever its outcome, the record says who, what, where from and how it ended and nothing
// of the body, the JSON and CSV exports read back alike, and nothing can change a record.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { handle } from 'hono/aws-lambda';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { createApi } from '../functions/api/app.ts';
import { issueOwnerToken, issueToken } from '../functions/api/auth.ts';
import { AUDIT_NEXT_HEADER, parseAuditCsv, type AuditRecord } from '../functions/contract/audit.ts';
import { ConflictError } from '../functions/core/errors.ts';
import type { Role } from '../functions/core/model.ts';
import { startEmbeddedPlatform, type EmbeddedPlatform } from '../functions/embedded/platform.ts';
import { DynamoStateStore } from '../functions/store/dynamo-state-store.ts';
import { runBerth } from './support/cli-harness.ts';

let dir: string;
let platform: EmbeddedPlatform;
const tokens: Record<'owner' | 'admin' | 'viewer' | 'quoted' | 'outsider', { token: string; id: string }> = {} as never;
const QUOTED = 'o"neil, q@acme.test';

async function call(who: keyof typeof tokens | undefined, method: string, path: string, body?: unknown, headers: Record<string, string> = {}) {
  const res = await fetch(`${platform.url}/v1${path}`, {
    method,
    headers: { ...(who ? { authorization: `Bearer ${tokens[who].token}` } : {}), ...(body === undefined ? {} : { 'content-type': 'application/json' }), ...headers },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  return { status: res.status, headers: res.headers, text, body: text.startsWith('{') ? (JSON.parse(text) as Record<string, any>) : undefined };
}

async function audit(org: string, query = '', who: keyof typeof tokens = 'owner'): Promise<AuditRecord[]> {
  const r = await call(who, 'GET', `/orgs/${org}/audit${query ? `?${query}` : ''}`);
  expect(r.status, r.text).toBe(200);
  return r.body!.records;
}

/** The record of one request, found by the request id the API answered with. */
async function recordOf(res: { headers: Headers }, org = 'acme'): Promise<AuditRecord> {
  const requestId = res.headers.get('x-request-id');
  const found = (await audit(org)).filter((r) => r.requestId === requestId);
  expect(found, `audit record of ${requestId} in ${org}`).toHaveLength(1);
  return found[0];
}

async function member(org: string, email: string, role: Role) {
  await platform.deps.store.createMember({ org, email, role, status: 'active', invitedBy: 'owner', createdAt: new Date().toISOString() });
  const { token, record } = await issueToken(platform.deps.store, { name: `${role}-laptop`, kind: 'session', principal: email, org, role, createdBy: 'owner' });
  return { token, id: record.id };
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'berth-audit-'));
  platform = await startEmbeddedPlatform({ home: join(dir, 'home'), port: 0, version: 'test', reconcileIntervalMs: 0 });
  const owner = await issueOwnerToken(platform.deps.store, 'tester');
  tokens.owner = { token: owner.token, id: owner.record.id };
  expect((await call('owner', 'POST', '/orgs', { name: 'acme' })).status).toBe(201);
  expect((await call('owner', 'POST', '/orgs', { name: 'globex' })).status).toBe(201);
  tokens.admin = await member('acme', 'alice@acme.test', 'admin');
  tokens.viewer = await member('acme', 'victor@acme.test', 'viewer');
  tokens.quoted = await member('acme', QUOTED, 'admin');
  tokens.outsider = await member('globex', 'mallory@globex.test', 'admin');
});

afterAll(async () => {
  await platform?.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('every mutation leaves a record', () => {
  it('a success: actor, token, action template, concrete resource, request id, source ip, status', async () => {
    const res = await call('admin', 'POST', '/orgs/acme/projects', { name: 'shop' });
    expect(res.status).toBe(201);
    const record = await recordOf(res);
    expect(record).toMatchObject({
      org: 'acme',
      actor: 'alice@acme.test',
      tokenId: tokens.admin.id,
      tokenKind: 'session',
      action: 'POST /orgs/{org}/projects',
      resource: '/orgs/acme/projects',
      status: 201,
      outcome: 'success',
    });
    expect(record.id).toMatch(/^aud-[0-9A-Z]{26}$/);
    expect(Date.now() - Date.parse(record.time)).toBeLessThan(60_000);
    expect(record.sourceIp).toMatch(/127\.0\.0\.1$/);
    expect(record.errorCategory).toBeUndefined();
  });

  it('the org that POST /orgs created is the org of its record', async () => {
    const res = await call('owner', 'POST', '/orgs', { name: 'initech' });
    expect(res.status).toBe(201);
    expect(await recordOf(res, 'initech')).toMatchObject({ org: 'initech', actor: 'owner', tokenKind: 'bootstrap', action: 'POST /orgs', resource: '/orgs', outcome: 'success' });
  });

  it('a validation failure: failed, with the error category and code', async () => {
    const res = await call('admin', 'POST', '/orgs/acme/projects', { name: 'Not_A_Label' });
    expect(res.status).toBe(400);
    expect(await recordOf(res)).toMatchObject({ actor: 'alice@acme.test', status: 400, outcome: 'failed', errorCategory: 'invalid-input', errorCode: 'request-invalid' });
  });

  it('a viewer denied (403): denied, with the permission error', async () => {
    const res = await call('viewer', 'POST', '/orgs/acme/projects', { name: 'sneaky' });
    expect(res.status).toBe(403);
    expect(await recordOf(res)).toMatchObject({ actor: 'victor@acme.test', tokenId: tokens.viewer.id, action: 'POST /orgs/{org}/projects', status: 403, outcome: 'denied', errorCategory: 'permission', errorCode: 'role-insufficient' });
  });

  it('a conflict: failed, with conflict; a retry with the same Idempotency-Key runs again (a conflict is not final)', async () => {
    const first = await call('admin', 'POST', '/orgs/acme/projects', { name: 'shop' }, { 'idempotency-key': 'k-conflict-1' });
    expect(first.status).toBe(409);
    expect(await recordOf(first)).toMatchObject({ status: 409, outcome: 'failed', errorCategory: 'conflict', errorCode: 'already-exists' });
    const again = await call('admin', 'POST', '/orgs/acme/projects', { name: 'shop' }, { 'idempotency-key': 'k-conflict-1' });
    expect(again.status).toBe(409);
    expect(again.headers.get('idempotent-replayed')).toBeNull();
    const record = await recordOf(again);
    expect(record).toMatchObject({ status: 409, outcome: 'failed', errorCategory: 'conflict' });
    expect(record.replayed).toBeUndefined();
  });

  it('a replay of a final answer with the same Idempotency-Key is recorded as replayed', async () => {
    const first = await call('admin', 'POST', '/orgs/acme/projects/nowhere/apps', { name: 'web' }, { 'idempotency-key': 'k-missing-1' });
    expect(first.status).toBe(404);
    const again = await call('admin', 'POST', '/orgs/acme/projects/nowhere/apps', { name: 'web' }, { 'idempotency-key': 'k-missing-1' });
    expect(again.status).toBe(404);
    expect(await recordOf(again)).toMatchObject({ status: 404, outcome: 'failed', errorCategory: 'not-found', replayed: true });
  });

  it("a token of another org is recorded in its own org's log, never in the org it tried", async () => {
    const res = await call('outsider', 'POST', '/orgs/acme/projects', { name: 'takeover' });
    expect(res.status).toBe(404);
    expect((await audit('acme')).some((r) => r.requestId === res.headers.get('x-request-id'))).toBe(false);
    expect(await recordOf(res, 'globex')).toMatchObject({ org: 'globex', actor: 'mallory@globex.test', resource: '/orgs/acme/projects', outcome: 'denied', errorCode: 'org-not-found' });
  });

  it('a request without a valid token is not written into any org (it is logged by the server)', async () => {
    const info = vi.spyOn(console, 'info').mockImplementation(() => undefined);
    try {
      const res = await call(undefined, 'POST', '/orgs/acme/projects', { name: 'anon' });
      expect(res.status).toBe(401);
      const id = res.headers.get('x-request-id');
      expect((await audit('acme')).some((r) => r.requestId === id)).toBe(false);
      const line = info.mock.calls.map((c) => JSON.parse(String(c[0]))).find((l) => l.requestId === id);
      expect(line).toMatchObject({ msg: 'audit', actor: 'anonymous', status: 401, outcome: 'denied', errorCode: 'unauthenticated' });
    } finally {
      info.mockRestore();
    }
  });

  it('on AWS the source ip is the one API Gateway saw (HTTP API event)', async () => {
    const lambda = handle(createApi(platform.deps, { version: 'test', streaming: false }));
    const path = '/v1/orgs/acme/projects';
    const event = {
      version: '2.0',
      routeKey: '$default',
      rawPath: path,
      rawQueryString: '',
      headers: { host: 'api.example.com', 'content-type': 'application/json', authorization: `Bearer ${tokens.admin.token}`, 'x-request-id': 'req-lambda-1' },
      requestContext: { http: { method: 'POST', path, protocol: 'HTTP/1.1', sourceIp: '2001:db8::7', userAgent: 'test' }, requestId: 'gw', routeKey: '$default', stage: '$default', timeEpoch: 0 },
      body: JSON.stringify({ name: 'from-lambda' }),
      isBase64Encoded: false,
    };
    const res = (await lambda(event as never)) as { statusCode: number };
    expect(res.statusCode).toBe(201);
    const [record] = (await audit('acme')).filter((r) => r.clientRequestId === 'req-lambda-1');
    expect(record).toMatchObject({ sourceIp: '2001:db8::7', actor: 'alice@acme.test', status: 201 });
    // The client's id is kept beside the server's own, never as it.
    expect(record.requestId).toMatch(/^req-[0-9A-Z]{26}$/);
  });

  it('reads are not recorded, and reading the log needs the admin role', async () => {
    const before = (await audit('acme')).length;
    expect((await call('viewer', 'GET', '/orgs/acme/projects')).status).toBe(200);
    const denied = await call('viewer', 'GET', '/orgs/acme/audit');
    expect(denied.status).toBe(403);
    expect(denied.body!.error).toMatchObject({ category: 'permission', code: 'role-insufficient' });
    expect(await audit('acme')).toHaveLength(before);
  });
});

describe('what a record never holds', () => {
  it('no request body and no query string, in the JSON and the CSV export', async () => {
    const res = await call('admin', 'POST', '/orgs/acme/projects?note=QUERY-MARKER-7f3a', { name: 'vault', password: 'BODY-MARKER-9c1e' });
    expect(res.status).toBe(400);
    const record = await recordOf(res);
    expect(record.resource).toBe('/orgs/acme/projects');
    const json = (await call('admin', 'GET', '/orgs/acme/audit?limit=1000')).text;
    const csv = (await call('admin', 'GET', '/orgs/acme/audit?limit=1000&format=csv')).text;
    for (const exported of [json, csv]) {
      expect(exported).toContain(record.requestId);
      expect(exported).not.toContain('BODY-MARKER-9c1e');
      expect(exported).not.toContain('QUERY-MARKER-7f3a');
      expect(exported).not.toContain('vault');
    }
  });
});

describe('export', () => {
  it('CSV parses back to the same records as the JSON export (RFC 4180 quoting: commas, quotes)', async () => {
    const tricky = await call('quoted', 'POST', '/orgs/acme/projects', { name: 'quoted' }, { 'x-request-id': 'req-"a",b' });
    expect(tricky.status).toBe(201);
    const json = await audit('acme', 'limit=1000');
    const csv = await call('admin', 'GET', '/orgs/acme/audit?limit=1000&format=csv');
    expect(csv.headers.get('content-type')).toMatch(/^text\/csv/);
    expect(csv.text).toContain('"o""neil, q@acme.test"');
    expect(csv.text).toContain('"req-""a"",b"');
    const parsed = parseAuditCsv(csv.text);
    expect(parsed.length).toBeGreaterThanOrEqual(8);
    expect(parsed).toEqual(json);
  });

  it('filters by actor, action and time, and pages newest first without gaps or repeats', async () => {
    const all = await audit('acme', 'limit=1000');
    expect(all.map((r) => r.id)).toEqual(all.map((r) => r.id).sort().reverse());

    const victor = await audit('acme', 'actor=victor%40acme.test');
    expect(victor.length).toBeGreaterThan(0);
    expect(victor.every((r) => r.actor === 'victor@acme.test')).toBe(true);
    expect(victor).toEqual(all.filter((r) => r.actor === 'victor@acme.test'));

    expect(await audit('acme', 'action=projects')).toEqual(all.filter((r) => r.action.includes('projects')));
    expect(await audit('acme', `since=${encodeURIComponent(new Date(Date.now() + 60_000).toISOString())}`)).toEqual([]);
    expect(await audit('acme', `until=${encodeURIComponent(new Date(Date.parse(all[all.length - 1].time) - 1).toISOString())}`)).toEqual([]);

    const paged: AuditRecord[] = [];
    let after: string | null = null;
    do {
      const r = await call('admin', 'GET', `/orgs/acme/audit?limit=3${after ? `&after=${after}` : ''}`);
      expect(r.body!.records.length).toBeLessThanOrEqual(3);
      paged.push(...r.body!.records);
      after = r.body!.next;
    } while (after);
    // The reads above are not mutations, so the log did not move while paging.
    expect(paged).toEqual(all);

    const csvPage = await call('admin', 'GET', '/orgs/acme/audit?limit=2&format=csv');
    expect(csvPage.headers.get(AUDIT_NEXT_HEADER)).toBe(all[1].id);
    expect(parseAuditCsv(csvPage.text)).toEqual(all.slice(0, 2));
  });

  it('berth audit prints a table, and --format csv matches the API export', async () => {
    const env = { BERTH_API: platform.url, BERTH_TOKEN: tokens.admin.token, BERTH_ORG: 'acme', BERTH_HOME: join(dir, 'cli') };
    const text = await runBerth(['audit', '--actor', 'victor@acme.test'], { cwd: dir, env });
    expect(text.code, text.stderr).toBe(0);
    expect(text.stdout).toMatch(/^TIME\s+ACTOR\s+METHOD\s+RESOURCE\s+RESULT\s+TOKEN\s+FROM\n/);
    expect(text.stdout).toContain('403 denied (role-insufficient)');

    const csv = await runBerth(['audit', '--since', '1h', '--format', 'csv', '-n', '1000'], { cwd: dir, env });
    expect(csv.code, csv.stderr).toBe(0);
    expect(parseAuditCsv(csv.stdout)).toEqual(await audit('acme', `limit=1000`));

    const json = await runBerth(['audit', '--action', 'DELETE', '--json'], { cwd: dir, env });
    expect(json.code, json.stderr).toBe(0);
    expect(JSON.parse(json.stdout)).toEqual([]);
  });
});

describe('append-only', () => {
  it('the store can only add and read audit records; a second write of an id is refused and changes nothing', async () => {
    const auditMethods = Object.getOwnPropertyNames(DynamoStateStore.prototype).filter((m) => /audit/i.test(m));
    expect(auditMethods.sort()).toEqual(['appendAudit', 'listAudit']);
    const [newest] = await audit('acme', 'limit=1');
    await expect(platform.deps.store.appendAudit({ ...newest, actor: 'someone-else', status: 200, outcome: 'success' })).rejects.toBeInstanceOf(ConflictError);
    expect((await audit('acme', 'limit=1'))[0]).toEqual(newest);
  });

  it('a mutation whose record cannot be stored fails with 500 and the record goes to the server log', async () => {
    const store = platform.deps.store;
    const failing = Object.assign(Object.create(Object.getPrototypeOf(store)), store, {
      appendAudit: async () => {
        throw new Error('ProvisionedThroughputExceededException');
      },
    });
    const app = createApi({ ...platform.deps, store: failing }, { version: 'test' });
    const errors = vi.spyOn(console, 'error').mockImplementation(() => undefined);
    try {
      const res = await app.request('/v1/orgs/acme/projects', { method: 'POST', headers: { authorization: `Bearer ${tokens.admin.token}`, 'content-type': 'application/json' }, body: JSON.stringify({ name: 'unaudited' }) });
      expect(res.status).toBe(500);
      const body = (await res.json()) as { error: { code: string; message: string } };
      expect(body.error.code).toBe('audit-write-failed');
      expect(body.error.message).toContain('status 201');
      const logged = errors.mock.calls.map((c) => String(c[0])).find((l) => l.includes('audit-write-failed'));
      expect(JSON.parse(logged!).record).toMatchObject({ actor: 'alice@acme.test', action: 'POST /orgs/{org}/projects', status: 201 });
    } finally {
      errors.mockRestore();
    }
  });
});
