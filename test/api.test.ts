// The HTTP API of the embedded platform, in-process: the error envelope, auth, validation, the
// OpenAPI document, and one operation per env under concurrent deploys.
import { mkdtempSync, rmSync, writeFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { packSnapshot } from '../cli/lib/pack-snapshot.ts';
import { issueOwnerToken } from '../functions/api/auth.ts';
import { startEmbeddedPlatform, type EmbeddedPlatform } from '../functions/embedded/platform.ts';

let dir: string;
let platform: EmbeddedPlatform;
let token: string;
const ENV = '/v1/orgs/acme/projects/shop/apps/slow/envs/prod';

async function call(method: string, path: string, body?: unknown, auth = true) {
  const res = await fetch(`${platform.url}${path}`, {
    method,
    headers: { ...(auth ? { authorization: `Bearer ${token}` } : {}), ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  return { status: res.status, body: (await res.json()) as Record<string, any> };
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'berth-api-'));
  platform = await startEmbeddedPlatform({ home: join(dir, 'home'), port: 0, version: 'test' });
  token = (await issueOwnerToken(platform.deps.store, 'tester')).token;
  await call('POST', '/v1/orgs', { name: 'acme' });
  await call('POST', '/v1/orgs/acme/projects', { name: 'shop' });
  await call('POST', '/v1/orgs/acme/projects/shop/apps', { name: 'slow' });
  await call('POST', '/v1/orgs/acme/projects/shop/apps/slow/envs', { name: 'prod' });
});

afterAll(async () => {
  await platform.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('API error envelope', () => {
  it('answers 401 with a permission error and the fix when no token is sent', async () => {
    const r = await call('GET', '/v1/orgs', undefined, false);
    expect(r.status).toBe(401);
    expect(r.body.error).toMatchObject({ category: 'permission', code: 'unauthenticated' });
    expect(r.body.error.next).toContain('berth login');
  });

  it('rejects an invalid name with invalid-input naming the field', async () => {
    const r = await call('POST', '/v1/orgs', { name: 'Not_A_Label' });
    expect(r.status).toBe(400);
    expect(r.body.error.category).toBe('invalid-input');
    expect(r.body.error.details[0]).toMatchObject({ path: 'name', in: 'json' });
    expect(r.body.error.message).toContain('DNS label');
  });

  it('answers a missing env with not-found and the command that creates it', async () => {
    const r = await call('GET', '/v1/orgs/acme/projects/shop/apps/slow/envs/nope/status');
    expect(r.status).toBe(404);
    expect(r.body.error).toMatchObject({ category: 'not-found', code: 'env-not-found', next: ['berth envs create nope', 'berth envs list'] });
  });

  it('answers a duplicate create with conflict', async () => {
    const r = await call('POST', '/v1/orgs', { name: 'acme' });
    expect(r.status).toBe(409);
    expect(r.body.error).toMatchObject({ category: 'conflict', code: 'already-exists' });
  });

  it('rejects a manifest with the path of the bad field', async () => {
    const r = await call('POST', `${ENV}/deploys`, { manifest: 'app: slow\nworkloads:\n  web:\n    command: x\n    ports: [70000]\n', artifactDigest: `sha256:${'0'.repeat(64)}` });
    expect(r.status).toBe(400);
    expect(r.body.error).toMatchObject({ category: 'invalid-input', code: 'manifest-invalid' });
    expect(r.body.error.message).toContain('workloads.web.ports[0]');
  });

  it('publishes an OpenAPI document generated from the zod schemas', async () => {
    const res = await fetch(`${platform.url}/v1/openapi.json`);
    const doc = (await res.json()) as { openapi: string; paths: Record<string, Record<string, unknown>> };
    expect(doc.openapi).toBe('3.1.0');
    expect(Object.keys(doc.paths)).toContain('/v1/orgs/{org}/projects/{project}/apps/{app}/envs/{env}/deploys');
    expect(JSON.stringify(doc.paths['/v1/orgs/{org}/projects/{project}/apps/{app}/envs/{env}/deploys'].post)).toContain('artifactDigest');
  });
});

describe('cost allocation tags', () => {
  it('are refused embedded with invalid-input and the way to run them on AWS', async () => {
    const r = await call('POST', '/v1/cost-allocation-tags', {});
    expect(r.status).toBe(400);
    expect(r.body.error).toMatchObject({ category: 'invalid-input', code: 'no-bill-embedded' });
  });
});

describe('one operation per env', () => {
  it('accepts one of two concurrent deploys and answers the other with a conflict naming the running operation', async () => {
    const app = join(dir, 'slow');
    mkdirSync(app);
    // Never becomes healthy quickly: the first operation holds the env while the second arrives.
    writeFileSync(join(app, 'sleep.js'), 'setInterval(() => {}, 1000);\n');
    const manifest = 'app: slow\nworkloads:\n  worker:\n    command: ["node", "sleep.js"]\n';
    const snapshot = await packSnapshot(app);
    const put = await fetch(`${platform.url}/v1/orgs/acme/artifacts/${snapshot.digest}`, { method: 'PUT', headers: { authorization: `Bearer ${token}` }, body: Buffer.from(snapshot.bytes) });
    expect(put.status).toBe(201);
    const [a, b] = await Promise.all([
      call('POST', `${ENV}/deploys`, { manifest, artifactDigest: snapshot.digest }),
      call('POST', `${ENV}/deploys`, { manifest, artifactDigest: snapshot.digest }),
    ]);
    const statuses = [a.status, b.status].sort();
    expect(statuses).toEqual([202, 409]);
    const accepted = a.status === 202 ? a : b;
    const refused = a.status === 202 ? b : a;
    expect(['operation-in-progress', 'env-changed']).toContain(refused.body.error.code);
    const releases = await call('GET', `${ENV}/releases`);
    expect(releases.body.releases.map((r: { id: string }) => r.id)).toEqual([accepted.body.receipt.releaseId]);
    await platform.orchestrator.idle();
    const op = await call('GET', `${ENV}/operations/${accepted.body.receipt.operationId}`);
    expect(op.body.operation.status).toBe('succeeded');
  });
});

describe('OpenAPI reads', () => {
  it('declares no request body on GET routes', async () => {
    const doc = (await (await fetch(`${platform.url}/v1/openapi.json`)).json()) as { paths: Record<string, Record<string, { requestBody?: unknown }>> };
    const withBody = Object.entries(doc.paths).flatMap(([p, ops]) => Object.entries(ops).filter(([m, op]) => m === 'get' && op.requestBody).map(() => p));
    expect(withBody).toEqual([]);
  });
});

describe('deploy artifacts', () => {
  it('refuses --image embedded, naming the field and the fix', async () => {
    const r = await call('POST', `${ENV}/deploys`, { manifest: 'app: slow\nworkloads:\n  web:\n    command: x\n', image: `registry.example.com/web@sha256:${'a'.repeat(64)}` });
    expect(r.status).toBe(400);
    expect(r.body.error).toMatchObject({ category: 'invalid-input', code: 'image-unsupported-embedded', details: { path: 'image' } });
  });

  it('refuses an image given by tag: releases are immutable', async () => {
    const r = await call('POST', `${ENV}/deploys`, { manifest: 'app: slow\nworkloads:\n  web:\n    command: x\n', image: 'registry.example.com/web:latest' });
    expect(r.status).toBe(400);
    expect(r.body.error.details[0]).toMatchObject({ path: 'image' });
  });
});
