// Idempotency-Key, after Powertools' idempotency utility: a claim left in progress by a killed
// platform is taken over once it expires (exactly one taker wins), only final answers are replayed,
// and an answer that carries a credential is never stored, so its replay says it was shown once.
// The middleware runs against dynalite with a fake clock and a handler whose answers the test picks;
// the credential cases run against the embedded platform's real routes, and scan the whole table.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { UpdateItemCommand } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, ScanCommand } from '@aws-sdk/lib-dynamodb';
import { Hono } from 'hono';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { issueOwnerToken } from '../functions/api/auth.ts';
import type { AuthVariables } from '../functions/api/auth.ts';
import { IN_PROGRESS_TIMEOUT_MS, idempotency, isFinalStatus, requestHashOf } from '../functions/api/idempotency.ts';
import { BerthError } from '../functions/core/errors.ts';
import type { Actor } from '../functions/core/services/deps.ts';
import { startEmbeddedPlatform, type EmbeddedPlatform } from '../functions/embedded/platform.ts';
import { startLocalDynamo, type LocalDynamo } from '../functions/embedded/local-dynamo.ts';
import { DynamoStateStore } from '../functions/store/dynamo-state-store.ts';
import { DEFAULT_TABLE_NAME } from '../functions/store/table.ts';

const T0 = Date.parse('2025-01-01T00:00:00Z');

describe('the Idempotency-Key middleware', () => {
  let dir: string;
  let dynamo: LocalDynamo;
  let store: DynamoStateStore;
  let clock = T0;
  let runs = 0;
  /** The statuses the handler answers with, in turn (201 once they run out). */
  let answers: number[] = [];
  /** When set, the handler waits for it: a request still in flight. */
  let gate: Promise<void> | undefined;

  const app = new Hono<{ Variables: AuthVariables }>();
  app.onError((err, c) => (err instanceof BerthError ? c.json({ error: err.toBody() }, err.httpStatus as 400) : c.json({ error: String(err) }, 500)));
  app.use('*', async (c, next) => {
    c.set('actor', { id: 'tok-test', name: 'tester' } as Actor);
    await next();
  });
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'berth-idem-'));
    dynamo = await startLocalDynamo(join(dir, 'dynamo'), 'berth');
    store = new DynamoStateStore(dynamo.client, 'berth');
    app.use('*', idempotency(store, { now: () => clock }));
    app.post('/things', async (c) => {
      runs++;
      const run = runs;
      if (gate) await gate;
      return c.json({ run }, (answers.shift() ?? 201) as 201);
    });
  });
  afterAll(async () => {
    await dynamo.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const post = async (key: string, body = '{"name":"a"}') => {
    const res = await app.request('/things', { method: 'POST', headers: { 'idempotency-key': key, 'content-type': 'application/json' }, body });
    return { status: res.status, replayed: res.headers.get('idempotent-replayed') === 'true', body: (await res.json()) as Record<string, any> };
  };
  const reset = () => {
    runs = 0;
    answers = [];
    gate = undefined;
  };

  it('decides which answers are final: 2xx and deterministic 4xx, never 408/409/423/425/429 or 5xx', () => {
    expect([200, 201, 202, 204, 400, 401, 403, 404, 413, 415, 422].filter(isFinalStatus)).toEqual([200, 201, 202, 204, 400, 401, 403, 404, 413, 415, 422]);
    expect([408, 409, 423, 425, 429, 500, 502, 503, 504].filter(isFinalStatus)).toEqual([]);
  });

  it('takes over a claim a killed platform left in progress once its in-progress expiry passed', async () => {
    reset();
    clock = T0;
    // What a platform killed mid-request leaves: an in-progress claim nobody will complete.
    const crashed = await store.claimIdempotencyKey('tok-test', 'k-crash', { requestHash: requestHashOf('POST', '/things', new TextEncoder().encode('{"name":"a"}')), now: clock, inProgressMs: IN_PROGRESS_TIMEOUT_MS });
    expect(crashed.claimed).toBe(true);

    clock = T0 + IN_PROGRESS_TIMEOUT_MS - 1000;
    const early = await post('k-crash');
    expect(early.status).toBe(409);
    expect(early.body.error).toMatchObject({ category: 'conflict', code: 'idempotency-key-in-progress', details: { idempotencyKey: 'k-crash', retryAfterSeconds: 1 } });
    expect(runs).toBe(0);

    clock = T0 + IN_PROGRESS_TIMEOUT_MS + 1;
    const retried = await post('k-crash');
    expect(retried).toMatchObject({ status: 201, replayed: false, body: { run: 1 } });
    const again = await post('k-crash');
    expect(again).toMatchObject({ status: 201, replayed: true, body: { run: 1 } });
    expect(runs).toBe(1);
  });

  it('takes over a stuck claim written before claims expired (no inProgressExpiresAt)', async () => {
    reset();
    clock = T0;
    const legacy = await store.claimIdempotencyKey('tok-test', 'k-legacy', { requestHash: 'old', now: clock, inProgressMs: IN_PROGRESS_TIMEOUT_MS });
    expect(legacy.claimed).toBe(true);
    await dynamo.client.send(new UpdateItemCommand({ TableName: 'berth', Key: { pk: { S: 'IDEMPOTENCY#tok-test' }, sk: { S: 'k-legacy' } }, UpdateExpression: 'REMOVE inProgressExpiresAt' }));
    expect(await post('k-legacy')).toMatchObject({ status: 201, replayed: false });
  });

  it('lets exactly one of 20 concurrent takers of an expired claim win', async () => {
    clock = T0;
    await store.claimIdempotencyKey('tok-test', 'k-race', { requestHash: 'h', now: clock, inProgressMs: IN_PROGRESS_TIMEOUT_MS });
    const later = T0 + IN_PROGRESS_TIMEOUT_MS + 1;
    const claims = await Promise.all(Array.from({ length: 20 }, () => store.claimIdempotencyKey('tok-test', 'k-race', { requestHash: 'h', now: later, inProgressMs: IN_PROGRESS_TIMEOUT_MS })));
    expect(claims.filter((c) => c.claimed)).toHaveLength(1);
    // The losers see the winner's claim, alive until its own expiry.
    for (const c of claims.filter((c) => !c.claimed)) expect(c).toMatchObject({ claimed: false, existing: { state: 'in-progress', inProgressExpiresAt: later + IN_PROGRESS_TIMEOUT_MS } });
  });

  it('runs the request once when 10 retries with one key arrive together; the rest are told it is in progress', async () => {
    reset();
    clock = T0;
    let open!: () => void;
    gate = new Promise((resolve) => (open = resolve));
    const inFlight = Array.from({ length: 10 }, () => post('k-together'));
    // Wait until the winner is inside the handler, then let it finish.
    while (runs === 0) await new Promise((resolve) => setImmediate(resolve));
    open();
    const results = await Promise.all(inFlight);
    expect(runs).toBe(1);
    expect(results.filter((r) => r.status === 201 && !r.replayed)).toHaveLength(1);
    expect(results.filter((r) => r.status !== 201).every((r) => r.status === 409 && r.body.error.code === 'idempotency-key-in-progress')).toBe(true);
  });

  it('an old claim taken over cannot overwrite its successor: its completion is dropped', async () => {
    clock = T0;
    const old = await store.claimIdempotencyKey('tok-test', 'k-slow', { requestHash: 'h', now: clock, inProgressMs: IN_PROGRESS_TIMEOUT_MS });
    const successor = await store.claimIdempotencyKey('tok-test', 'k-slow', { requestHash: 'h', now: T0 + IN_PROGRESS_TIMEOUT_MS + 1, inProgressMs: IN_PROGRESS_TIMEOUT_MS });
    if (!old.claimed || !successor.claimed) throw new Error('both claims should have been granted');
    expect(await store.completeIdempotencyKey('tok-test', 'k-slow', old.claimId, { response: { status: 201, body: '{"who":"old"}' } })).toBe(false);
    await store.releaseIdempotencyKey('tok-test', 'k-slow', old.claimId);
    expect(await store.completeIdempotencyKey('tok-test', 'k-slow', successor.claimId, { response: { status: 201, body: '{"who":"successor"}' } })).toBe(true);
    const seen = await store.claimIdempotencyKey('tok-test', 'k-slow', { requestHash: 'h', now: T0 + IN_PROGRESS_TIMEOUT_MS + 2, inProgressMs: IN_PROGRESS_TIMEOUT_MS });
    expect(seen).toMatchObject({ claimed: false, existing: { state: 'done', response: { body: '{"who":"successor"}' } } });
  });

  it('does not replay a transient 409: the retry with the same key runs again and its success is kept', async () => {
    reset();
    answers = [409];
    expect(await post('k-conflict')).toMatchObject({ status: 409, replayed: false, body: { run: 1 } });
    expect(await post('k-conflict')).toMatchObject({ status: 201, replayed: false, body: { run: 2 } });
    expect(await post('k-conflict')).toMatchObject({ status: 201, replayed: true, body: { run: 2 } });
    expect(runs).toBe(2);
  });

  it('does not replay a 429 or a 503 either', async () => {
    reset();
    answers = [429, 503];
    expect((await post('k-busy')).status).toBe(429);
    expect((await post('k-busy')).status).toBe(503);
    expect(await post('k-busy')).toMatchObject({ status: 201, replayed: false, body: { run: 3 } });
  });

  it('replays a final 404 without running the request again', async () => {
    reset();
    answers = [404];
    expect(await post('k-missing')).toMatchObject({ status: 404, replayed: false });
    expect(await post('k-missing')).toMatchObject({ status: 404, replayed: true, body: { run: 1 } });
    expect(runs).toBe(1);
  });
});

describe('answers that carry a credential', () => {
  let dir: string;
  let platform: EmbeddedPlatform;
  let owner: string;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'berth-idem-api-'));
    platform = await startEmbeddedPlatform({ home: join(dir, 'home'), port: 0, version: 'test', reconcileIntervalMs: 0 });
    owner = (await issueOwnerToken(platform.deps.store, 'tester')).token;
    expect((await call('POST', '/orgs', { name: 'acme' })).status).toBe(201);
  });
  afterAll(async () => {
    await platform?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  async function call(method: string, path: string, body: unknown, key?: string) {
    const res = await fetch(`${platform.url}/v1${path}`, {
      method,
      headers: { authorization: `Bearer ${owner}`, 'content-type': 'application/json', ...(key ? { 'idempotency-key': key } : {}) },
      body: JSON.stringify(body),
    });
    return { status: res.status, replayed: res.headers.get('idempotent-replayed') === 'true', body: (await res.json()) as Record<string, any> };
  }

  /** Every item of the table, as text: what someone with read access to DynamoDB would see. */
  async function tableText(): Promise<string> {
    const items: unknown[] = [];
    let start: Record<string, any> | undefined;
    do {
      const out = await DynamoDBDocumentClient.from(platform.dynamo.client).send(new ScanCommand({ TableName: DEFAULT_TABLE_NAME, ExclusiveStartKey: start }));
      items.push(...(out.Items ?? []));
      start = out.LastEvaluatedKey;
    } while (start);
    return JSON.stringify(items);
  }

  it('replays POST /orgs/{org}/tokens without the token, saying it was shown once; the table never holds it', async () => {
    const request = { name: 'ci', role: 'deployer', expiresInDays: 30 };
    const first = await call('POST', '/orgs/acme/tokens', request, 'k-token');
    expect(first.status).toBe(201);
    expect(first.body.token).toMatch(/\S{20,}/);
    const replay = await call('POST', '/orgs/acme/tokens', request, 'k-token');
    expect(replay).toMatchObject({ status: 201, replayed: true, body: { record: { id: first.body.record.id, name: 'ci' }, secretShownOnce: true } });
    expect(replay.body).not.toHaveProperty('token');
    expect(replay.body.note).toMatch(/token was shown once/);
    // One token was created, not two.
    const list = await fetch(`${platform.url}/v1/orgs/acme/tokens`, { headers: { authorization: `Bearer ${owner}` } });
    expect(((await list.json()) as { tokens: { name: string }[] }).tokens.filter((t) => t.name === 'ci')).toHaveLength(1);

    const table = await tableText();
    expect(table).toContain('k-token');
    expect(table).not.toContain(first.body.token);
    expect(table).toContain('redactedDigests');
  });

  it('replays an invite without its code; the table never holds the code', async () => {
    const request = { email: 'bob@acme.test', role: 'viewer' };
    const first = await call('POST', '/orgs/acme/members', request, 'k-invite');
    expect(first.status).toBe(201);
    const code: string = first.body.invite.code;
    expect(code.length).toBeGreaterThan(6);
    const replay = await call('POST', '/orgs/acme/members', request, 'k-invite');
    expect(replay).toMatchObject({ status: 201, replayed: true, body: { member: { email: 'bob@acme.test' }, invite: { expiresAt: first.body.invite.expiresAt }, secretShownOnce: true } });
    expect(replay.body.invite).not.toHaveProperty('code');
    expect(await tableText()).not.toContain(code);
  });

  it('stores an answer without a credential as it was', async () => {
    const first = await call('POST', '/orgs/acme/projects', { name: 'shop' }, 'k-project');
    const replay = await call('POST', '/orgs/acme/projects', { name: 'shop' }, 'k-project');
    expect(replay).toMatchObject({ status: 201, replayed: true });
    expect(replay.body).toEqual(first.body);
  });
});
