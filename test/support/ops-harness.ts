// Shared by the operations tests (fault matrix, concurrency): one in-process embedded platform,
// an API client with a token, an env ready to deploy (config, secret bundle, endpoint on a free
// port), a tiny HTTP app whose answer is its release, and reads of what actually runs.
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { connect } from 'node:net';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect } from 'vitest';
import { packSnapshot } from '../../cli/lib/pack-snapshot.ts';
import { issueOwnerToken } from '../../functions/api/auth.ts';
import { startEmbeddedPlatform, type EmbeddedPlatform } from '../../functions/embedded/platform.ts';
import type { ErrorCategory } from '../../functions/core/errors.ts';
import type { EnvRef, InstanceStatus, StateMachineName } from '../../functions/core/ports.ts';
import type { FaultInjector } from '../../functions/reconciler/local-orchestrator.ts';
import { pathFor } from '../../functions/contract/path.ts';
import { destroyEnv, uploadArtifact } from '../../functions/contract/routes/index.ts';
import { freePort } from './free-port.ts';
import type { OpenApiDocument } from './openapi-document.ts';
import { checkedFetch, ResponseChecker } from './response-check.ts';

export type ApiResponse = { status: number; headers: Headers; text: string; body: Record<string, any> };

export interface OpsPlatform {
  platform: EmbeddedPlatform;
  home: string;
  token: string;
  /** Checks answers against the OpenAPI document; `call` and `fetch` check every answer with it. */
  checker: ResponseChecker;
  /** fetch with the check (NDJSON streams are left to checkStream, line by line). */
  fetch: typeof fetch;
  call(method: string, path: string, body?: unknown, headers?: Record<string, string>): Promise<ApiResponse>;
}

export async function startOpsPlatform(home: string, faultInjector?: FaultInjector): Promise<OpsPlatform> {
  // reconcileIntervalMs 0: no reconcile loop racing the operations under test.
  const platform = await startEmbeddedPlatform({ home, port: 0, version: 'test', reconcileIntervalMs: 0, restartBackoffMs: [200], faultInjector });
  const { token } = await issueOwnerToken(platform.deps.store, 'ops-tester');
  const checker = new ResponseChecker((await (await fetch(`${platform.url}/v1/openapi.json`)).json()) as OpenApiDocument);
  const checked = checkedFetch(checker);
  const call = async (method: string, path: string, body?: unknown, headers: Record<string, string> = {}): Promise<ApiResponse> => {
    const res = await checked(`${platform.url}${path}`, {
      method,
      headers: { authorization: `Bearer ${token}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }), ...headers },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await res.text();
    const json = text && /json/.test(res.headers.get('content-type') ?? 'json');
    return { status: res.status, headers: res.headers, text, body: json ? (JSON.parse(text) as Record<string, any>) : {} };
  };
  return { platform, home, token, checker, fetch: checked, call };
}

export const envPath = (r: EnvRef): string => pathFor(destroyEnv, r);

/** Creates whatever of org/project/app does not exist yet, then the env, its config and a secret bundle. */
/** What creating a ready env needs: an API call with the owner token, and a way to wait for operations. */
export type EnvSetup = { call(method: string, path: string, body?: unknown): Promise<{ status: number; text: string }>; platform: { orchestrator: { idle(): Promise<void> } } };

export async function createReadyEnv(ops: EnvSetup, r: EnvRef): Promise<void> {
  const steps: [string, string][] = [
    ['/v1/orgs', r.org],
    [`/v1/orgs/${r.org}/projects`, r.project],
    [`/v1/orgs/${r.org}/projects/${r.project}/apps`, r.app],
    [`/v1/orgs/${r.org}/projects/${r.project}/apps/${r.app}/envs`, r.env],
  ];
  for (const [path, name] of steps) {
    const res = await ops.call('POST', path, { name });
    if (res.status !== 201 && res.status !== 409) throw new Error(`POST ${path} ${name}: ${res.status} ${res.text}`);
  }
  // Creating an env may start a provisioning operation; the env is ready once it has finished.
  await ops.platform.orchestrator.idle();
  const config = await ops.call('PATCH', `${envPath(r)}/config`, { set: { GREETING: 'ahoy' } });
  if (config.status !== 200) throw new Error(`config: ${config.status} ${config.text}`);
  const secret = await ops.call('PUT', `${envPath(r)}/secrets/db`, { values: { PASSWORD: 'correct-horse' } });
  if (secret.status !== 200) throw new Error(`secrets: ${secret.status} ${secret.text}`);
}

export interface HealthOptions {
  intervalSeconds?: number;
  deadlineSeconds?: number;
}

/** berth.yaml of the test app: one http workload behind an IPv6 endpoint on `port`. */
export function manifestFor(app: string, port: number, health: HealthOptions = {}): string {
  return [
    `app: ${app}`,
    'workloads:',
    '  web:',
    '    command: ["node", "server.mjs"]',
    '    ports: [8080]',
    `    healthCheck: { type: http, path: /, intervalSeconds: ${health.intervalSeconds ?? 0.2}, deadlineSeconds: ${health.deadlineSeconds ?? 10} }`,
    '    requires: { env: [GREETING], secrets: [db] }',
    'endpoints:',
    '  web:',
    '    workload: web',
    `    port: ${port}`,
    '    targetPort: 8080',
    '',
  ].join('\n');
}

/** berth.yaml of an app whose one http workload keeps its data on the volume `data` at /data. */
export function volumeManifestFor(app: string, port: number): string {
  return `app: ${app}
workloads:
  web:
    command: ["node", "server.mjs"]
    ports: [8080]
    healthCheck: { type: http, path: /, intervalSeconds: 0.2, deadlineSeconds: 10 }
    volumes: [{ volume: data, path: /data }]
endpoints:
  web: { workload: web, port: ${port}, targetPort: 8080 }
volumes:
  data: { sizeGiB: 1 }
`;
}

/** The app answers every request with its release id; `variant` only changes the artifact's bytes. */
export function serverSource(variant: string, opts: { exitAtStart?: boolean } = {}): string {
  return [
    `// variant ${variant}`,
    "import { createServer } from 'node:http';",
    ...(opts.exitAtStart ? ["console.error('refusing to start (test: a release that cannot come up)');", 'process.exit(1);'] : []),
    "const server = createServer((req, res) => { res.writeHead(200, { 'content-type': 'text/plain' }); res.end(String(process.env.BERTH_RELEASE)); });",
    'server.listen(Number(process.env.PORT));',
    '',
  ].join('\n');
}

/** Writes `server.mjs` into `appDir`, uploads the snapshot, and returns its digest. */
export async function uploadApp(ops: OpsPlatform, org: string, appDir: string, source: string): Promise<string> {
  mkdirSync(appDir, { recursive: true });
  writeFileSync(join(appDir, 'server.mjs'), source);
  const snapshot = await packSnapshot(appDir);
  const res = await ops.fetch(`${ops.platform.url}${pathFor(uploadArtifact, { org, digest: snapshot.digest })}`, {
    method: 'PUT',
    headers: { authorization: `Bearer ${ops.token}` },
    body: Buffer.from(snapshot.bytes),
  });
  if (res.status !== 201) throw new Error(`artifact upload: ${res.status} ${await res.text()}`);
  return snapshot.digest;
}

/** GET / over IPv6 (or `host`) on the endpoint's public port; resolves with the body (the release id). */
export function httpGet(port: number, path = '/', host = '::1'): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request({ host, family: host.includes(':') ? 6 : 4, port, path, method: 'GET', agent: false, timeout: 5000 }, (res) => {
      let body = '';
      res.on('data', (d) => (body += d));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('timeout', () => req.destroy(new Error(`GET ${host}:${port}${path} timed out`)));
    req.on('error', reject);
    req.end();
  });
}

/** Instance dirs present on disk (`<home>/instances/instances/<id>`). */
export function instanceDirs(home: string): string[] {
  const dir = join(home, 'instances', 'instances');
  return existsSync(dir) ? readdirSync(dir).sort() : [];
}

export const ids = (instances: InstanceStatus[]): string[] => instances.map((i) => i.id).sort();

/** Whether a TCP connection to host:port is accepted, or refused (nothing listens there). */
export function probe(host: string, port: number): Promise<'open' | 'refused'> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host, port, family: host.includes(':') ? 6 : 4 });
    socket.once('connect', () => {
      socket.destroy();
      resolve('open');
    });
    socket.once('error', (err: NodeJS.ErrnoException) => (err.code === 'ECONNREFUSED' ? resolve('refused') : reject(err)));
  });
}

/** Every path under `dir` (directories end in `/`), sorted; [] when `dir` does not exist. */
export function tree(dir: string, prefix = ''): string[] {
  if (!existsSync(join(dir, prefix))) return [];
  return readdirSync(join(dir, prefix), { withFileTypes: true })
    .flatMap((e) => (e.isDirectory() ? [`${prefix}${e.name}/`, ...tree(dir, `${prefix}${e.name}/`)] : [`${prefix}${e.name}`]))
    .sort();
}

/** The error categories a fault matrix rotates through. */
export const CATEGORIES: ErrorCategory[] = ['capacity', 'health-check', 'image-pull', 'timeout', 'internal'];

export interface MatrixRow {
  machine: string;
  state: string;
  category: string;
  outcome: string;
}

/** The fault matrix as the tests print it: one row per injected fault. */
export function formatMatrix(rows: MatrixRow[]): string {
  const w = { machine: 10, state: 28, category: 14 };
  const line = (r: MatrixRow) => `${r.machine.padEnd(w.machine)}${r.state.padEnd(w.state)}${r.category.padEnd(w.category)}${r.outcome}`;
  return ['fault matrix:', line({ machine: 'machine', state: 'state', category: 'category', outcome: 'outcome' }), ...rows.map(line)].join('\n');
}

export { freePort };

export interface ForwardTask {
  machine: StateMachineName;
  state: string;
}

export type AslState = { Type: string; Next?: string; Default?: string; End?: boolean; Catch?: { Next: string }[] };

/** A state machine as written in statemachines/ (the single definition; read, not re-declared). */
export function aslDefinition(machine: StateMachineName): { StartAt: string; States: Record<string, AslState> } {
  return JSON.parse(readFileSync(fileURLToPath(new URL(`../../statemachines/${machine}.asl.json`, import.meta.url)), 'utf8'));
}

/**
 * The forward Task states of a machine: Tasks whose failure is caught into compensation, other than
 * the compensation steps themselves. (A name filter alone would miss `SetDesiredScale`, which is
 * forward work in the scale machine despite its `Record` prefix.)
 */
export function forwardTasks(machine: StateMachineName): ForwardTask[] {
  return Object.entries(aslDefinition(machine).States)
    .filter(([name, s]) => s.Type === 'Task' && !name.startsWith('Compensate') && (s.Catch ?? []).some((c) => c.Next.startsWith('Compensate')))
    .map(([state]) => ({ machine, state }));
}

/**
 * The Task states a forward failure runs, in ASL order: the compensation steps, then the step that
 * records the failure (e.g. `RecordRolloutFailed`).
 */
export function compensationPath(machine: StateMachineName): string[] {
  const { States } = aslDefinition(machine);
  const first = Object.values(States).flatMap((s) => s.Catch ?? []).find((c) => c.Next.startsWith('Compensate'))?.Next;
  const path: string[] = [];
  for (let name = first; name; name = States[name].Next) {
    if (States[name].Type === 'Task') path.push(name);
  }
  return path;
}

/** The machine's Fail state (entered last, after the failure has been recorded). */
export function failState(machine: StateMachineName): string {
  return Object.entries(aslDefinition(machine).States).find(([, s]) => s.Type === 'Fail')![0];
}

/** The states a run enters when every Choice takes its Default (a deploy whose first batch finishes it). */
export function defaultPath(machine: StateMachineName): string[] {
  const { StartAt, States } = aslDefinition(machine);
  const path: string[] = [];
  for (let name: string | undefined = StartAt; name; ) {
    path.push(name);
    const s: AslState = States[name];
    name = s.End ? undefined : s.Type === 'Choice' ? s.Default : s.Next;
  }
  return path;
}

/**
 * What every failed, compensated operation records: `failed` at `state` with `category`, the env
 * free again, `step.started` for the failing state and after it the compensation steps in ASL
 * order, exactly one `operation.failed`, and after that only the machine's Fail state.
 */
export async function expectFailedOperation(ops: OpsPlatform, machine: StateMachineName, ref: EnvRef, operationId: string, state: string, category: string): Promise<Record<string, any>> {
  // Read from the store: a failed env-create removes the env, and with it the API's view of it.
  const op = (await ops.platform.deps.store.getOperation(ref, operationId)) as Record<string, any>;
  expect(op.status, JSON.stringify(op)).toBe('failed');
  expect(op.error.step).toBe(state);
  expect(op.error.category).toBe(category);
  expect((await ops.platform.deps.store.getEnv(ref))?.activeOperationId).toBeUndefined();
  const events = await ops.platform.deps.store.listEvents(ref, { operationId });
  const started = events.filter((e) => e.type === 'step.started').map((e) => e.step);
  expect(started).toContain(state);
  const after = started.slice(started.lastIndexOf(state) + 1);
  expect(after.filter((s) => s?.startsWith('Compensate') || s?.startsWith('Record'))).toEqual(compensationPath(machine));
  expect(events.filter((e) => e.type === 'operation.failed')).toHaveLength(1);
  const tail = events.slice(events.findIndex((e) => e.type === 'operation.failed') + 1);
  expect(new Set(tail.map((e) => e.step))).toEqual(new Set(tail.length ? [failState(machine)] : []));
  return op;
}
