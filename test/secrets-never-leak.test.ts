// Issue 6: a secret goes in and never comes back out. Secrets with recognisable values go through
// set, a bad request, deploys that work and one that fails, rollback, exec, logs, events, audit
// exports and every read route; then every API response body, event, audit record, log file and
// the state store's own files on disk are searched for the values. The only place they may be is
// the instances' secret files, which is how they are delivered.
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort } from './support/free-port.ts';
import { createReadyEnv, envPath, manifestFor, serverSource, startOpsPlatform, uploadApp, type ApiResponse, type OpsPlatform } from './support/ops-harness.ts';

const REF = { org: 'acme', project: 'vault', app: 'api', env: 'prod' };
const MARK = `s3cr3t${Math.random().toString(36).slice(2, 10)}`;
const SECRETS = { DB_PASSWORD: `${MARK}-db-password`, API_KEY: `${MARK}-api-key`, TRICKY: `"${MARK}-quote\\n<tag>&amp;` };
// What a leak could look like: the raw values, and the distinctive core they all share.
const NEEDLES = [MARK, ...Object.values(SECRETS)];

let dir: string;
let ops: OpsPlatform;
const responses: { what: string; text: string }[] = [];

async function call(method: string, path: string, body?: unknown): Promise<ApiResponse> {
  const res = await ops.call(method, path, body);
  responses.push({ what: `${method} ${path} → ${res.status}`, text: res.text });
  return res;
}

function hits(text: string): string[] {
  return NEEDLES.filter((n) => text.includes(n));
}

function filesUnder(root: string): string[] {
  const out: string[] = [];
  const walk = (d: string) => {
    for (const name of readdirSync(d)) {
      const p = join(d, name);
      if (statSync(p).isDirectory()) walk(p);
      else out.push(p);
    }
  };
  walk(root);
  return out;
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'berth-secrets-'));
  ops = await startOpsPlatform(join(dir, 'home'));
  await createReadyEnv(ops, REF);
  const env = envPath(REF);
  expect((await call('PUT', `${env}/secrets/db`, { values: SECRETS })).status).toBe(200);
  // A bad request carrying a secret value: the error must name the field, not echo the value.
  expect((await call('PUT', `${env}/secrets/db`, { values: { 'not a key': SECRETS.DB_PASSWORD } })).status).toBe(400);
  expect((await call('PUT', `${env}/secrets/db`, { values: SECRETS.API_KEY })).status).toBe(400);

  const port = await freePort();
  const good = await uploadApp(ops, REF.org, join(dir, 'good'), serverSource('good'));
  expect((await call('POST', `${env}/deploys`, { manifest: manifestFor(REF.app, port), artifactDigest: good })).status).toBe(202);
  await ops.platform.orchestrator.idle();
  const bad = await uploadApp(ops, REF.org, join(dir, 'bad'), serverSource('bad', { exitAtStart: true }));
  expect((await call('POST', `${env}/deploys`, { manifest: manifestFor(REF.app, port, { deadlineSeconds: 2 }), artifactDigest: bad })).status).toBe(202);
  await ops.platform.orchestrator.idle();
  const good2 = await uploadApp(ops, REF.org, join(dir, 'good2'), serverSource('good2'));
  expect((await call('POST', `${env}/deploys`, { manifest: manifestFor(REF.app, port), artifactDigest: good2 })).status).toBe(202);
  await ops.platform.orchestrator.idle();
  expect((await call('POST', `${env}/rollbacks`, {})).status).toBe(202);
  await ops.platform.orchestrator.idle();

  const { body } = await call('GET', `${env}/status`);
  const instance = body.status.workloads[0].instances[0].id as string;
  // exec is handed a session; the command's own output is the user's business, not checked here.
  expect((await call('POST', `${env}/exec-sessions`, { instance, argv: ['cat', '/dev/null'], tty: false })).status).toBe(201);

  const reads = [
    `${env}/status`,
    `${env}/releases`,
    `${env}/releases/rel-1`,
    `${env}/releases/rel-2`,
    `${env}/secrets`,
    `${env}/config`,
    `${env}/events?limit=500`,
    `${env}/logs?source=all&limit=1000`,
    `${env}/endpoints`,
    `/v1/orgs/${REF.org}/endpoints`,
    `/v1/orgs/${REF.org}/audit?format=json&limit=1000`,
    '/v1/whoami',
    '/v1/openapi.json',
  ];
  for (const path of reads) await call('GET', path);
  const csv = await fetch(`${ops.platform.url}/v1/orgs/${REF.org}/audit?format=csv&limit=1000`, { headers: { authorization: `Bearer ${ops.token}` } });
  responses.push({ what: `GET audit?format=csv → ${csv.status}`, text: await csv.text() });
}, 90_000);

afterAll(async () => {
  await ops?.platform.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('GIVEN secrets with recognisable values, used by deploys, a failure, a rollback and exec', () => {
  it('THEN no API response body contains them', () => {
    expect(responses.length).toBeGreaterThan(20);
    const leaks = responses.filter((r) => hits(r.text).length).map((r) => r.what);
    expect(leaks).toEqual([]);
  });

  it('THEN the events and the audit export were read and hold none of them', () => {
    const events = responses.find((r) => r.what.includes('/events'))!;
    expect(JSON.parse(events.text).events.length).toBeGreaterThan(10);
    const audit = responses.find((r) => r.what.includes('audit?format=json'))!;
    expect(audit.text).toContain('/secrets/db');
    expect(hits(events.text).concat(hits(audit.text))).toEqual([]);
  });

  it('THEN no log file and no file of the state store holds them (the store keeps ciphertext)', () => {
    const home = join(dir, 'home');
    const scanned = [...filesUnder(join(home, 'logs')), ...filesUnder(join(home, 'dynamo'))];
    expect(scanned.length).toBeGreaterThan(3);
    const leaks = scanned.filter((f) => hits(readFileSync(f).toString('latin1')).length);
    expect(leaks).toEqual([]);
  });

  it('THEN the values did reach the instances, as files (the test looks for them where they belong)', () => {
    const home = join(dir, 'home');
    const delivered = filesUnder(join(home, 'instances')).filter((f) => hits(readFileSync(f, 'utf8')).length);
    expect(delivered.length).toBeGreaterThan(0);
    expect(delivered.every((f) => /secrets/.test(f))).toBe(true);
  });
});
