// What the API answers to input it cannot use, one cause at a time (issue 14): bodies that are not
// JSON or not sent as JSON, bad `%` escapes in paths (the API's and the exec socket's), bodies over
// the limit on a pooled connection, reserved names and keys, NUL bytes, config and secrets too big
// to store, and client-chosen request ids. Each answer is a 4xx in the Berth envelope, and nothing
// is stored. test/api-fuzz.test.ts looks for the causes nobody listed.
import { mkdtempSync, rmSync } from 'node:fs';
import http from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { issueOwnerToken } from '../functions/api/auth.ts';
import { ErrorEnvelope } from '../functions/contract/api.ts';
import { MAX_CONFIG_BYTES, MAX_SECRET_BUNDLE_BYTES } from '../functions/contract/size-limits.ts';
import { startEmbeddedPlatform, type EmbeddedPlatform } from '../functions/embedded/platform.ts';

let dir: string;
let platform: EmbeddedPlatform;
let token: string;
const ENV = '/v1/orgs/acme/projects/shop/apps/web/envs/prod';

type Answer = { status: number; headers: Headers; text: string; body: any };

async function send(method: string, path: string, body?: string | Uint8Array<ArrayBuffer>, headers: Record<string, string> = {}): Promise<Answer> {
  const res = await fetch(`${platform.url}${path}`, { method, headers: { authorization: `Bearer ${token}`, ...headers }, body });
  const text = await res.text();
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    parsed = undefined;
  }
  return { status: res.status, headers: res.headers, text, body: parsed };
}

const json = (method: string, path: string, body: unknown, headers: Record<string, string> = {}) => send(method, path, JSON.stringify(body), { 'content-type': 'application/json', ...headers });

/** A refusal: the status, the envelope, and its category and code. */
function expectRefused(r: Answer, status: number, code: string): void {
  expect(r.status, r.text).toBe(status);
  expect(ErrorEnvelope.safeParse(r.body).success, r.text).toBe(true);
  expect(r.body.error.code).toBe(code);
}

const config = async () => (await send('GET', `${ENV}/config`)).body.config;
const bundles = async () => (await send('GET', `${ENV}/secrets`)).body.bundles;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'berth-hostile-'));
  platform = await startEmbeddedPlatform({ home: join(dir, 'home'), port: 0, version: 'test', reconcileIntervalMs: 0, console: false });
  token = (await issueOwnerToken(platform.deps.store, 'tester')).token;
  for (const [path, name] of [['/v1/orgs', 'acme'], ['/v1/orgs/acme/projects', 'shop'], ['/v1/orgs/acme/projects/shop/apps', 'web'], ['/v1/orgs/acme/projects/shop/apps/web/envs', 'prod']]) {
    expect((await json('POST', path, { name })).status).toBe(201);
  }
  expect((await json('PATCH', `${ENV}/config`, { set: { GREETING: 'hello' } })).status).toBe(200);
  await platform.orchestrator.idle();
});

afterAll(async () => {
  await platform?.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('bodies the API cannot read', () => {
  it('a body that is not JSON is a 400 that quotes the parser, and changes nothing', async () => {
    const before = await config();
    const r = await send('PATCH', `${ENV}/config`, '{"set":{"A":"1"}', { 'content-type': 'application/json' });
    expectRefused(r, 400, 'body-not-json');
    expect(r.body.error.category).toBe('invalid-input');
    expect(r.body.error.message).toMatch(/not valid JSON \(.*JSON.*\)/);
    expect(await config()).toEqual(before);
  });

  it('an empty body sent as JSON is a 400, not a 500', async () => {
    expectRefused(await send('POST', '/v1/orgs', '', { 'content-type': 'application/json' }), 400, 'body-not-json');
  });

  it('a body sent as another media type is a 415 naming what was sent and what is taken', async () => {
    const r = await send('POST', '/v1/orgs', '{"name":"plain"}', { 'content-type': 'text/plain' });
    expectRefused(r, 415, 'unsupported-media-type');
    expect(r.body.error.category).toBe('invalid-input');
    expect(r.body.error.message).toContain('Content-Type: application/json (got "text/plain")');
    expect(r.body.error.details).toEqual({ contentType: 'text/plain', accepted: ['application/json'] });
    expect((await send('GET', '/v1/orgs')).body.orgs.map((o: { name: string }) => o.name)).not.toContain('plain');
  });

  it('a body without a Content-Type is a 415 too', async () => {
    const r = await send('POST', '/v1/orgs', new TextEncoder().encode('{"name":"untyped"}'));
    expectRefused(r, 415, 'unsupported-media-type');
    expect(r.body.error.message).toContain('got no Content-Type');
  });
});

describe('forms the approval page cannot read', () => {
  it('a multipart body that does not match its boundary is a 400 page, not a 500', async () => {
    const res = await fetch(`${platform.url}/device/sign-in`, { method: 'POST', headers: { origin: platform.url, 'content-type': 'multipart/form-data; boundary=x' }, body: 'garbage' });
    expect(res.status).toBe(400);
    expect(res.headers.get('content-type')).toMatch(/^text\/html/);
    expect(await res.text()).toContain('The form could not be read');
  });
});

describe('bad % escapes in a path', () => {
  it.each(['%25zz', '%zz', '%E0%A4%A'])('org %s is a 400 naming the parameter, on a read and on a mutation', async (org) => {
    for (const r of [await send('GET', `/v1/orgs/${org}/projects`), await json('POST', `/v1/orgs/${org}/projects`, { name: 'x1' })]) {
      expectRefused(r, 400, 'request-invalid');
      expect(r.body.error.message).toContain('param org');
    }
  });

  it('a bad escape in a deeper parameter is a 400 from its validator', async () => {
    const r = await send('GET', '/v1/orgs/acme/projects/%zz/apps');
    expectRefused(r, 400, 'request-invalid');
    expect(r.body.error.details[0]).toMatchObject({ path: 'project', in: 'param' });
  });

  it('the exec socket refuses a bad escape with a 400 in the envelope before any upgrade', async () => {
    const ws = new WebSocket(`${platform.url.replace(/^http/, 'ws')}/v1/orgs/%zz/projects/shop/apps/web/envs/prod/exec?ticket=t`);
    const refused = await new Promise<{ status: number; text: string }>((resolve, reject) => {
      ws.once('unexpected-response', (_req, res) => {
        let text = '';
        res.on('data', (d: Buffer) => (text += d));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, text }));
      });
      ws.once('open', () => reject(new Error('the socket was upgraded')));
      ws.once('error', () => undefined);
    });
    expect(refused.status).toBe(400);
    const body = JSON.parse(refused.text);
    expect(ErrorEnvelope.safeParse(body).success).toBe(true);
    expect(body.error).toMatchObject({ category: 'invalid-input', code: 'path-invalid' });
  });
});

describe('a body over the limit', () => {
  /** Two requests on one pooled keep-alive connection, as the CLI's fetch makes them. */
  function pooled(agent: http.Agent, method: string, path: string, body?: Buffer, chunked = false): Promise<{ status: number; connection?: string; text: string }> {
    return new Promise((resolve, reject) => {
      const headers: Record<string, string | number> = { authorization: `Bearer ${token}`, 'content-type': 'application/json' };
      if (body && !chunked) headers['content-length'] = body.length;
      const req = http.request(`${platform.url}${path}`, { method, agent, headers }, (res) => {
        let text = '';
        res.on('data', (d: Buffer) => (text += d));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, connection: res.headers.connection, text }));
      });
      req.on('error', reject);
      if (body) req.write(body);
      req.end();
    });
  }

  it.each([
    ['with a Content-Length', false],
    ['chunked', true],
  ])('%s: is a 413 that closes the connection, and the next pooled request succeeds', async (_how, chunked) => {
    const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
    try {
      const first = await pooled(agent, 'POST', '/v1/orgs', Buffer.alloc(2 * 1024 * 1024, 0x20), chunked);
      expect(first.status).toBe(413);
      expect(JSON.parse(first.text).error).toMatchObject({ category: 'invalid-input', code: 'body-too-large' });
      expect(first.connection).toBe('close');
      const second = await pooled(agent, 'GET', '/v1/health');
      expect(second.status).toBe(200);
    } finally {
      agent.destroy();
    }
  });
});

describe('reserved names and keys', () => {
  it('a __proto__ config key is refused by name, not dropped with a 200', async () => {
    const before = await config();
    const r = await send('PATCH', `${ENV}/config`, '{"set":{"__proto__":"x","OTHER":"y"}}', { 'content-type': 'application/json' });
    expectRefused(r, 400, 'request-invalid');
    expect(r.body.error.message).toContain('set.__proto__: is reserved');
    expect(await config()).toEqual(before);
  });

  it('a __proto__ key anywhere in a body is refused', async () => {
    const r = await send('POST', '/v1/orgs', '{"name":"protoorg","__proto__":{"admin":true}}', { 'content-type': 'application/json' });
    expectRefused(r, 400, 'request-invalid');
    expect(r.body.error.details).toEqual([{ path: '__proto__', message: expect.stringContaining('is reserved'), in: 'json' }]);
  });

  it.each(['constructor', 'prototype'])('config key %s is a 400, not a marshaller crash', async (key) => {
    const r = await json('PATCH', `${ENV}/config`, { set: { [key]: 'x' } });
    expectRefused(r, 400, 'request-invalid');
    expect(r.body.error.message).toContain(`set.${key}: is reserved`);
  });

  it.each(['constructor', 'prototype'])('an org, a project and a secret bundle cannot be named %s', async (name) => {
    expectRefused(await json('POST', '/v1/orgs', { name }), 400, 'request-invalid');
    expectRefused(await json('POST', '/v1/orgs/acme/projects', { name }), 400, 'request-invalid');
    const bundle = await json('PUT', `${ENV}/secrets/${name}`, { values: { A: 'b' } });
    expectRefused(bundle, 400, 'request-invalid');
    expect(bundle.body.error.details[0]).toMatchObject({ path: 'bundle', in: 'param' });
    expect(await bundles()).toEqual([]);
  });

  it.each([
    ['a workload named constructor', 'app: web\nworkloads:\n  constructor: { command: x }\n', 'workloads.constructor'],
    ['a workload named __proto__', 'app: web\nworkloads:\n  __proto__: { command: x }\n  web: { command: x }\n', 'workloads.__proto__'],
    ['a volume named prototype', 'app: web\nworkloads:\n  web: { command: x }\nvolumes:\n  prototype: { sizeGiB: 1 }\n', 'volumes.prototype'],
    ['an env key named constructor', 'app: web\nworkloads:\n  web: { command: x, env: { constructor: y } }\n', 'workloads.web.env.constructor'],
  ])('a manifest with %s is refused with the path', async (_what, manifest, path) => {
    const r = await json('POST', `${ENV}/deploys`, { manifest, dryRun: true });
    expectRefused(r, 400, 'manifest-invalid');
    expect(r.body.error.message).toContain(`${path}: the name is reserved`);
  });
});

describe('manifests no schema can walk', () => {
  it('a YAML alias inside its own anchor is a 400 (found by the fuzz test: it was a 500 while quoting the value)', async () => {
    const r = await json('POST', `${ENV}/deploys`, { manifest: 'app: web\nworkloads: &a [*a]\n', dryRun: true });
    expectRefused(r, 400, 'manifest-yaml');
    expect(r.body.error.message).toContain('refers to a node that contains it');
  });
});

describe('NUL bytes', () => {
  it('a config value with a NUL is refused, not stored to fail every later deploy', async () => {
    const before = await config();
    const r = await json('PATCH', `${ENV}/config`, { set: { BROKEN: 'a\u0000b' } });
    expectRefused(r, 400, 'request-invalid');
    expect(r.body.error.message).toContain('set.BROKEN: contains a NUL byte');
    expect(await config()).toEqual(before);
  });

  it('an exec argument with a NUL is refused before any instance is looked up', async () => {
    const r = await json('POST', `${ENV}/exec-sessions`, { instance: 'i-1', argv: ['sh', '-c', 'echo\u0000'] });
    expectRefused(r, 400, 'request-invalid');
    expect(r.body.error.details[0]).toMatchObject({ path: 'argv[2]', in: 'json' });
  });

  it('a NUL written as a YAML escape in a command or an env value is refused with its path', async () => {
    const manifest = 'app: web\nworkloads:\n  web:\n    command: [node, "a\\0b"]\n    env: { A: "x\\0" }\n';
    const r = await json('POST', `${ENV}/deploys`, { manifest, dryRun: true });
    expectRefused(r, 400, 'manifest-invalid');
    expect(r.body.error.message).toContain('workloads.web.command[1]: contains a NUL byte');
    expect(r.body.error.message).toContain('workloads.web.env.A: contains a NUL byte');
  });

  it('a manifest text holding a raw NUL is refused', async () => {
    const r = await json('POST', `${ENV}/deploys`, { manifest: 'app: web\u0000\nworkloads: {}\n', dryRun: true });
    expectRefused(r, 400, 'request-invalid');
    expect(r.body.error.message).toContain('manifest: contains a NUL byte');
  });

  it('a secret value may hold a NUL: it reaches the instance as JSON, never as a variable', async () => {
    const r = await json('PUT', `${ENV}/secrets/binary`, { values: { KEY: 'a\u0000b' } });
    expect(r.status, r.text).toBe(200);
  });
});

describe('sizes that fit one stored item', () => {
  const big = (bytes: number) => 'x'.repeat(bytes);

  it('one config change over the limit is refused with the limit in the message', async () => {
    const r = await json('PATCH', `${ENV}/config`, { set: { HUGE: big(MAX_CONFIG_BYTES + 1) } });
    expectRefused(r, 400, 'request-invalid');
    expect(r.body.error.message).toContain(`${MAX_CONFIG_BYTES} bytes`);
    expect(r.body.error.message).toContain('350 KiB');
  });

  it('changes that fit alone but not together: the second is refused and the first is kept', async () => {
    expect((await json('PATCH', `${ENV}/config`, { set: { HALF_A: big(200 * 1024) } })).status).toBe(200);
    const before = await config();
    const r = await json('PATCH', `${ENV}/config`, { set: { HALF_B: big(200 * 1024) } });
    expectRefused(r, 400, 'config-too-large');
    expect(r.body.error.details).toMatchObject({ limitBytes: MAX_CONFIG_BYTES });
    expect(r.body.error.message).toContain(`${MAX_CONFIG_BYTES} bytes`);
    expect(await config()).toEqual(before);
    expect((await json('PATCH', `${ENV}/config`, { unset: ['HALF_A'] })).status).toBe(200);
  });

  it('a secret bundle over the limit is refused with the limit, alone or merged', async () => {
    const alone = await json('PUT', `${ENV}/secrets/large`, { values: { BLOB: big(MAX_SECRET_BUNDLE_BYTES) } });
    expectRefused(alone, 400, 'request-invalid');
    expect(alone.body.error.message).toContain(`${MAX_SECRET_BUNDLE_BYTES} bytes`);
    expect((await json('PUT', `${ENV}/secrets/large`, { values: { A: big(40 * 1024) } })).status).toBe(200);
    const merged = await json('PUT', `${ENV}/secrets/large`, { values: { B: big(40 * 1024) } });
    expectRefused(merged, 400, 'secret-bundle-too-large');
    expect(merged.body.error.message).toContain(`${MAX_SECRET_BUNDLE_BYTES} bytes`);
    const large = (await bundles()).find((b: { bundle: string }) => b.bundle === 'large');
    expect(large).toMatchObject({ version: 1, keys: ['A'] });
  });
});

describe('request ids', () => {
  const auditOf = async (requestId: string) => {
    const { records } = (await send('GET', '/v1/orgs/acme/audit?limit=1000')).body;
    return (records as { requestId: string; clientRequestId?: string }[]).filter((r) => r.requestId === requestId);
  };

  it("the audit record's request id is the server's; the client's is kept beside it, sanitized and bounded", async () => {
    // fetch refuses such a header; node:http sends what HTTP lets through (tab, bytes 0x80-0xff).
    const sent = `ci-run\t-7\u00e9\u00ff"a",b${'z'.repeat(300)}`;
    const { status, id } = await new Promise<{ status: number; id: string }>((resolve, reject) => {
      const body = JSON.stringify({ name: 'traced' });
      const req = http.request(`${platform.url}/v1/orgs/acme/projects`, { method: 'POST', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json', 'x-request-id': sent } }, (res) => {
        res.resume();
        res.on('end', () => resolve({ status: res.statusCode ?? 0, id: String(res.headers['x-request-id']) }));
      });
      req.on('error', reject);
      req.end(body);
    });
    expect(status).toBe(201);
    expect(id).toMatch(/^req-[0-9A-Z]{26}$/);
    const [record] = await auditOf(id);
    expect(record.clientRequestId).toBe(`ci-run-7"a",b${'z'.repeat(300)}`.slice(0, 128));
  });

  it('two requests sending the same id get two records with ids of their own', async () => {
    const a = await json('POST', '/v1/orgs/acme/projects', { name: 'twin-a' }, { 'x-request-id': 'same' });
    const b = await json('POST', '/v1/orgs/acme/projects', { name: 'twin-b' }, { 'x-request-id': 'same' });
    const [ra, rb] = [(await auditOf(a.headers.get('x-request-id')!))[0], (await auditOf(b.headers.get('x-request-id')!))[0]];
    expect(ra.requestId).not.toBe(rb.requestId);
    expect([ra.clientRequestId, rb.clientRequestId]).toEqual(['same', 'same']);
  });
});
