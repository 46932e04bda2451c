// Requests generated from the OpenAPI document the API serves, for every operation: values that fit
// the schemas and hostile variants of them (test/support/openapi-arbitraries.ts), sent with the
// bootstrap token to the app in process. Whatever is sent: never a 5xx, every refusal in the Berth
// envelope, and a refused request writes nothing to the store but its audit record.
// Seeded and bounded: FUZZ_SEED and FUZZ_RUNS (per operation) change them for a longer hunt.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApi, type Api } from '../functions/api/app.ts';
import { issueOwnerToken } from '../functions/api/auth.ts';
import { ErrorEnvelope } from '../functions/contract/api.ts';
import { startEmbeddedPlatform, type EmbeddedPlatform } from '../functions/embedded/platform.ts';
import { pathFor } from '../functions/contract/path.ts';
import { destroyEnv } from '../functions/contract/routes/index.ts';
import { operationsOf, requestOf, type FuzzRequest, type Operation } from './support/openapi-arbitraries.ts';
import { recordStoreWrites, type StoreWrite } from './support/store-writes.ts';

const SEED = Number(process.env.FUZZ_SEED ?? 1403);
const RUNS_PER_OPERATION = Number(process.env.FUZZ_RUNS ?? 60);

const FIXTURES = { org: 'acme', project: 'shop', app: 'web', env: 'prod', bundle: 'db', name: 'data' };
const ENV = pathFor(destroyEnv, FIXTURES);

/** berth.yaml texts: one that is valid, and the hostile ones a schema of "a string" cannot produce. */
const MANIFESTS = [
  'app: web\nworkloads:\n  web:\n    command: ["node", "server.js"]\n    ports: [8080]\n',
  'app: web\nworkloads:\n  constructor:\n    command: x\n',
  'app: web\nworkloads:\n  __proto__:\n    command: x\n',
  'app: web\n__proto__: {}\nworkloads:\n  web: { command: x }\n',
  'app: web\nworkloads:\n  web:\n    command: "a\\0b"\n',
  'app: web\nworkloads:\n  web:\n    command: [node, "\\0"]\n    env: { A: "x\\0" }\n',
  'app: web\nworkloads:\n  web: { command: x }\nvolumes:\n  prototype: { sizeGiB: 1 }\n',
  'app: web\nworkloads: &a [*a]\n',
  'app: web\nworkloads:\n  web: { command: x, env: { constructor: y } }\n',
  `app: web\nworkloads:\n  web: { command: "${'x'.repeat(300_000)}" }\n`,
  'a: &a ["lol","lol"]\nb: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a]\nc: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b]\nd: [*c,*c,*c,*c,*c,*c,*c,*c,*c]\n',
];

let dir: string;
let platform: EmbeddedPlatform;
let app: Api;
let token: string;
let writes: { take(): StoreWrite[] };

async function send(r: FuzzRequest): Promise<{ status: number; text: string }> {
  const res = await app.request(r.path, { method: r.method, headers: { accept: 'application/json, text/event-stream', ...r.headers }, body: r.body });
  return { status: res.status, text: await res.text() };
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'berth-fuzz-'));
  platform = await startEmbeddedPlatform({ home: join(dir, 'home'), port: 0, version: 'test', reconcileIntervalMs: 0, console: false });
  token = (await issueOwnerToken(platform.deps.store, 'fuzzer')).token;
  // In process, no limits (thousands of requests from one token), no streams (follow=true is refused).
  app = createApi(platform.deps, { version: 'test', rateLimits: false, streaming: false });
  const setup = async (method: string, path: string, body: unknown) => {
    const res = await send({ method, path, headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' }, body: JSON.stringify(body), how: [] });
    if (res.status >= 300) throw new Error(`${method} ${path}: ${res.status} ${res.text}`);
  };
  await setup('POST', '/v1/orgs', { name: FIXTURES.org });
  await setup('POST', `/v1/orgs/${FIXTURES.org}/projects`, { name: FIXTURES.project });
  await setup('POST', `/v1/orgs/${FIXTURES.org}/projects/${FIXTURES.project}/apps`, { name: FIXTURES.app });
  await setup('POST', `/v1/orgs/${FIXTURES.org}/projects/${FIXTURES.project}/apps/${FIXTURES.app}/envs`, { name: FIXTURES.env });
  await setup('PATCH', `${ENV}/config`, { set: { GREETING: 'hello' } });
  await setup('PUT', `${ENV}/secrets/${FIXTURES.bundle}`, { values: { PASSWORD: 's3cret' } });
  await platform.orchestrator.idle();
  writes = recordStoreWrites(platform.dynamo.client);
});

afterAll(async () => {
  await platform?.close();
  rmSync(dir, { recursive: true, force: true });
});

/** What a refusal must look like: the Berth envelope, or the protocol's own on the two routes that speak one. */
function refusalProblem(path: string, text: string): string | undefined {
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    return `not JSON: ${text.slice(0, 200)}`;
  }
  // RFC 8628 / RFC 6749 §5.2: OAuth clients read {error, error_description} (routes/device.ts).
  if (/^\/v1\/device\//.test(path) && typeof (body as { error?: unknown }).error === 'string') return undefined;
  // MCP's transport answers a message it cannot take with a JSON-RPC error object.
  if (/^\/v1\/mcp/.test(path) && (body as { jsonrpc?: unknown }).jsonrpc === '2.0' && (body as { error?: unknown }).error) return undefined;
  const envelope = ErrorEnvelope.safeParse(body);
  return envelope.success ? undefined : `not the error envelope: ${text.slice(0, 200)}`;
}

/** Deletes last, so that the fixture env is there for every other operation. */
const order = (ops: Operation[]) => [...ops.filter((o) => o.method !== 'DELETE'), ...ops.filter((o) => o.method === 'DELETE')];

describe('API fuzz: requests generated from /v1/openapi.json', () => {
  it(`never answers 5xx, always answers a refusal in the envelope, and a refusal changes nothing (seed ${SEED}, ${RUNS_PER_OPERATION} per operation)`, async () => {
    // The watch sees writes: an accepted change shows up in it (so "wrote nothing" below means something).
    await send({ method: 'PATCH', path: `${ENV}/config`, headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' }, body: '{"set":{"PROBE":"1"}}', how: [] });
    expect(writes.take().some((w) => w.pks.some((pk) => !pk.startsWith('AUDIT#')))).toBe(true);
    const doc = (await (await app.request('/v1/openapi.json')).json()) as Parameters<typeof operationsOf>[0];
    const operations = order(operationsOf(doc));
    expect(operations.length).toBeGreaterThan(40);
    const failures: string[] = [];
    const statuses = new Map<number, number>();
    for (const op of operations) {
      const arbitrary = requestOf(op, { fixtures: FIXTURES, token, hints: { manifest: fc.constantFrom(...MANIFESTS) } });
      const property = fc.asyncProperty(arbitrary, async (r) => {
        writes.take();
        const { status, text } = await send(r);
        statuses.set(status, (statuses.get(status) ?? 0) + 1);
        const what = `${r.method} ${r.path.slice(0, 160)} [${r.how.join('; ')}] -> ${status}`;
        if (status >= 500) throw new Error(`${what}: ${text.slice(0, 300)}`);
        if (status < 400) {
          // A change that was accepted may start an operation; let it finish before the next request is watched.
          await platform.orchestrator.idle();
          writes.take();
          return;
        }
        const problem = refusalProblem(r.path, text);
        if (problem) throw new Error(`${what}: ${problem}`);
        const changed = writes.take().filter((w) => !w.pks.every((pk) => pk.startsWith('AUDIT#')));
        if (changed.length) throw new Error(`${what}: refused, yet wrote ${JSON.stringify(changed)}`);
      });
      // No shrinking: the failing request is reported as it was sent, which is small enough to read.
      // An operation with nothing to vary but a stray query string needs few runs.
      const numRuns = op.parameters.length || op.body ? RUNS_PER_OPERATION : Math.ceil(RUNS_PER_OPERATION / 6);
      const run = await fc.check(property, { seed: SEED, numRuns, endOnFailure: true });
      if (run.failed) failures.push(`${op.method} ${op.path}: ${run.errorInstance instanceof Error ? run.errorInstance.message : String(run.errorInstance)}`);
    }
    console.info(`api fuzz: ${[...statuses.values()].reduce((a, b) => a + b, 0)} requests over ${operations.length} operations; statuses ${JSON.stringify(Object.fromEntries([...statuses].sort(([a], [b]) => a - b)))}`);
    expect(failures).toEqual([]);
    // The generators reach every kind of refusal, and some requests get through.
    for (const status of [200, 400, 404, 413, 415]) expect(statuses.get(status), `answers ${status}`).toBeGreaterThan(0);
  }, 30_000 + RUNS_PER_OPERATION * 1000);
});
