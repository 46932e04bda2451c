// Limits: token buckets per API token and per source ip (429 with Retry-After and the error
// envelope), request body sizes (413 naming the limit and the fix), and the HTTP API stage's
// throttling on AWS. Rates are tiny (one request per 1000 s refills), so no test depends on timing.
import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { App } from 'aws-cdk-lib';
import { CfnStage } from 'aws-cdk-lib/aws-apigatewayv2';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApi } from '../functions/api/app.ts';
import { issueOwnerToken, issueToken } from '../functions/api/auth.ts';
import { MAX_JSON_BODY_BYTES } from '../functions/api/body-limit.ts';
import { TokenBuckets } from '../functions/api/rate-limit.ts';
import { MAX_ARTIFACT_BYTES } from '../functions/api/routes/artifacts.ts';
import { startEmbeddedPlatform, type EmbeddedPlatform } from '../functions/embedded/platform.ts';
import { API_STAGE_THROTTLE, BerthStack } from '../infra/berth-stack.ts';

let dir: string;
let platform: EmbeddedPlatform;
let owner: string;

const SLOW = 0.001;
/** Bindings as @hono/node-server passes them, from a given address. */
const from = (remoteAddress: string) => ({ incoming: { socket: { remoteAddress } } });

async function ciToken(name: string): Promise<string> {
  return (await issueToken(platform.deps.store, { name, kind: 'ci', principal: `${name}@acme.test`, org: 'acme', role: 'admin', createdBy: 'owner' })).token;
}

const get = (app: ReturnType<typeof createApi>, token: string | undefined, env?: object) =>
  app.request('/v1/orgs/acme/projects', { headers: token ? { authorization: `Bearer ${token}` } : {} }, env);

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'berth-limits-'));
  platform = await startEmbeddedPlatform({ home: join(dir, 'home'), port: 0, version: 'test', reconcileIntervalMs: 0 });
  owner = (await issueOwnerToken(platform.deps.store, 'tester')).token;
  const res = await fetch(`${platform.url}/v1/orgs`, { method: 'POST', headers: { authorization: `Bearer ${owner}`, 'content-type': 'application/json' }, body: JSON.stringify({ name: 'acme' }) });
  expect(res.status).toBe(201);
});

afterAll(async () => {
  await platform?.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('rate limits per token', () => {
  it('answers 429 with Retry-After and the quota envelope once the burst is spent; other tokens are unaffected', async () => {
    const app = createApi(platform.deps, { version: 'test', rateLimits: { perToken: { ratePerSecond: SLOW, burst: 3 }, perSourceIp: { ratePerSecond: SLOW, burst: 100 } } });
    const [a, b] = [await ciToken('job-a'), await ciToken('job-b')];
    for (let i = 0; i < 3; i++) expect((await get(app, a)).status).toBe(200);
    const limited = await get(app, a);
    expect(limited.status).toBe(429);
    const retryAfter = Number(limited.headers.get('retry-after'));
    expect(Number.isInteger(retryAfter) && retryAfter >= 1).toBe(true);
    const body = (await limited.json()) as { error: { category: string; code: string; message: string; next: string[]; details: Record<string, number> } };
    expect(body.error).toMatchObject({ category: 'quota', code: 'rate-limited', details: { retryAfterSeconds: retryAfter, burst: 3 } });
    expect(body.error.next.length).toBeGreaterThan(0);
    expect(limited.headers.get('x-request-id')).toMatch(/^req-/);
    // A second token has its own bucket.
    expect((await get(app, b)).status).toBe(200);
  });

  it('a rate-limited mutation is audited as denied (quota)', async () => {
    const app = createApi(platform.deps, { version: 'test', rateLimits: { perToken: { ratePerSecond: SLOW, burst: 1 }, perSourceIp: { ratePerSecond: SLOW, burst: 100 } } });
    const token = await ciToken('job-c');
    const post = () => app.request('/v1/orgs/acme/projects', { method: 'POST', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' }, body: JSON.stringify({ name: 'burst' }) });
    expect((await post()).status).toBe(201);
    const limited = await post();
    expect(limited.status).toBe(429);
    const { records } = await platform.deps.store.listAudit('acme', { limit: 10, actor: 'job-c@acme.test' });
    expect(records.map((r) => [r.status, r.outcome, r.errorCode ?? null])).toEqual([
      [429, 'denied', 'rate-limited'],
      [201, 'success', null],
    ]);
    expect(records[0].requestId).toBe(limited.headers.get('x-request-id'));
  });
});

describe('rate limits per source address (no valid token)', () => {
  it('requests without a valid token spend their ip bucket; then that ip gets 429, other ips do not', async () => {
    const app = createApi(platform.deps, { version: 'test', rateLimits: { perToken: { ratePerSecond: SLOW, burst: 100 }, perSourceIp: { ratePerSecond: SLOW, burst: 2 } } });
    const attacker = from('203.0.113.7');
    expect((await get(app, undefined, attacker)).status).toBe(401);
    expect((await get(app, 'berth_guessed-token', attacker)).status).toBe(401);
    const limited = await get(app, 'berth_another-guess', attacker);
    expect(limited.status).toBe(429);
    expect(Number(limited.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
    expect(((await limited.json()) as { error: { code: string } }).error.code).toBe('rate-limited');
    expect((await get(app, undefined, from('198.51.100.9'))).status).toBe(401);
  });

  it('valid tokens do not spend the ip bucket, and loopback is not limited per ip', async () => {
    const app = createApi(platform.deps, { version: 'test', rateLimits: { perToken: { ratePerSecond: SLOW, burst: 100 }, perSourceIp: { ratePerSecond: SLOW, burst: 1 } } });
    const token = await ciToken('job-d');
    for (let i = 0; i < 3; i++) expect((await get(app, token, from('192.0.2.10'))).status).toBe(200);
    for (let i = 0; i < 3; i++) expect((await get(app, undefined, from('::ffff:127.0.0.1'))).status).toBe(401);
  });

  it('buckets refill at the configured rate', () => {
    let now = 0;
    const buckets = new TokenBuckets({ ratePerSecond: 2, burst: 2 }, () => now);
    expect([buckets.take('k'), buckets.take('k'), buckets.take('k')]).toEqual([0, 0, 1]);
    now += 500;
    expect([buckets.take('k'), buckets.take('k')]).toEqual([0, 1]);
    now += 10_000;
    expect([buckets.take('k'), buckets.take('k'), buckets.take('k')]).toEqual([0, 0, 1]);
  });
});

describe('request body limits', () => {
  const app = () => createApi(platform.deps, { version: 'test', rateLimits: false });
  const auth = () => ({ authorization: `Bearer ${owner}` });

  it('a JSON body over 1 MiB is refused with 413, naming the limit and the fix', async () => {
    const body = JSON.stringify({ name: 'big', padding: 'x'.repeat(MAX_JSON_BODY_BYTES) });
    const res = await app().request('/v1/orgs/acme/projects', { method: 'POST', headers: { ...auth(), 'content-type': 'application/json', 'content-length': String(body.length) }, body });
    expect(res.status).toBe(413);
    const { error } = (await res.json()) as { error: { category: string; code: string; message: string; details: Record<string, number>; next: string[] } };
    expect(error).toMatchObject({ category: 'invalid-input', code: 'body-too-large', details: { limitBytes: MAX_JSON_BODY_BYTES, receivedBytes: body.length } });
    expect(error.message).toContain('1 MiB');
    expect(error.next.join(' ')).toMatch(/artifact or on a volume/);
  });

  it('a chunked body (no Content-Length) is cut off at the limit too', async () => {
    const chunk = new Uint8Array(256 * 1024).fill(0x20);
    let sent = 0;
    const stream = new ReadableStream<Uint8Array>({
      pull(controller) {
        if (sent >= 5) return controller.close();
        sent++;
        controller.enqueue(chunk);
      },
    });
    const res = await app().request('/v1/orgs/acme/projects', { method: 'POST', headers: { ...auth(), 'content-type': 'application/json' }, body: stream, duplex: 'half' } as RequestInit);
    expect(res.status).toBe(413);
    expect(((await res.json()) as { error: { code: string } }).error.code).toBe('body-too-large');
  });

  it('an artifact may be larger than the JSON limit, up to its own limit', async () => {
    const bytes = randomBytes(MAX_JSON_BODY_BYTES + 1024);
    const digest = `sha256:${createHash('sha256').update(bytes).digest('hex')}`;
    const ok = await app().request(`/v1/orgs/acme/artifacts/${digest}`, { method: 'PUT', headers: { ...auth(), 'content-type': 'application/octet-stream' }, body: bytes });
    expect(ok.status).toBe(201);
    const tooBig = await app().request(`/v1/orgs/acme/artifacts/${digest}`, { method: 'PUT', headers: { ...auth(), 'content-type': 'application/octet-stream', 'content-length': String(MAX_ARTIFACT_BYTES + 1) }, body: new Uint8Array(1) });
    expect(tooBig.status).toBe(413);
    const { error } = (await tooBig.json()) as { error: { message: string; details: Record<string, number>; next: string[] } };
    expect(error.details.limitBytes).toBe(MAX_ARTIFACT_BYTES);
    expect(error.message).toContain('artifact');
    expect(error.next.join(' ')).toContain('.berthignore');
  });
});

describe('AWS: the HTTP API stage throttles all callers together', () => {
  // The stage's own CloudFormation properties, read from the construct tree: a full
  // Template.fromStack takes over half a minute here, and test/infra-stack.test.ts already pays it.
  it('GIVEN the stack WHEN built THEN the $default stage has default route throttling', () => {
    const stack = new BerthStack(new App({ context: { 'aws:cdk:bundling-stacks': [] } }), 'Berth');
    const stages = stack.node.findAll().filter((c): c is CfnStage => c instanceof CfnStage);
    expect(stages.map((s) => [s.stageName, stack.resolve(s.defaultRouteSettings)])).toEqual([
      ['$default', { throttlingRateLimit: API_STAGE_THROTTLE.rateLimit, throttlingBurstLimit: API_STAGE_THROTTLE.burstLimit }],
    ]);
  });
});
