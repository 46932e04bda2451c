// The fault matrix of the endpoint, volume and env machines (deploy and scale: fault-matrix.test.ts).
// Every forward Task of every operation is failed on purpose, once before its work (the Task never
// ran) and once after it (its side effect is done, then the Task fails: a Lambda timing out after
// the listener moved, the directory was set aside, the instances were stopped). Each time the
// operation must record the failing step and category and the world must be exactly as before:
// the same endpoints answering on the same families, the same volumes and files on disk, the env
// ready with its instances serving. Cases are generated from statemachines/*.asl.json.
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BerthError, HTTP_STATUS, type ErrorCategory } from '../functions/core/errors.ts';
import type { EnvRef, StateMachineName } from '../functions/core/ports.ts';
import { createEndpointSteps } from '../functions/reconciler/endpoint-steps.ts';
import { createEnvSteps } from '../functions/reconciler/env-steps.ts';
import type { FaultInjector } from '../functions/reconciler/local-orchestrator.ts';
import type { Step } from '../functions/reconciler/step-kit.ts';
import { createVolumeSteps } from '../functions/reconciler/volume-steps.ts';
import {
  CATEGORIES,
  createReadyEnv,
  envPath,
  expectFailedOperation,
  formatMatrix,
  forwardTasks,
  freePort,
  httpGet,
  ids,
  instanceDirs,
  manifestFor,
  probe,
  serverSource,
  startOpsPlatform,
  tree,
  uploadApp,
  type MatrixRow,
  type OpsPlatform,
} from './support/ops-harness.ts';

type Machine = 'endpoint' | 'volume' | 'env';
type Mode = 'before' | 'after';
const REF: EnvRef = { org: 'acme', project: 'shop', app: 'resources', env: 'prod' };
const RELEASE = 'rel-1';

let armed: { machine: StateMachineName; state: string; category: ErrorCategory; mode: Mode } | undefined;
/** The same step handlers the platform runs, for the faults that strike after a step's work. */
let handlers: Record<Machine, Record<string, Step>>;
const injector: FaultInjector = async (machine, state, input) => {
  if (!armed || armed.machine !== machine || armed.state !== state) return;
  const { category, mode } = armed;
  armed = undefined;
  if (mode === 'after') await handlers[machine as Machine][state](input);
  throw new BerthError(category, 'injected-fault', `injected ${category} fault ${mode} the work of ${machine}.${state}`);
};

// The staged-restore Tasks run only where a restore is staged (AWS Backup); embedded never enters
// them. Their failures are covered on the twin (aws-twin-volumes.test.ts: a failed restore job).
const AWS_ONLY_STATES = new Set(['WaitForVolumeRestore', 'SwapInRestoredVolume']);

let rotation = 0;
function casesOf<A extends string>(machine: Machine, actions: A[]) {
  return actions.flatMap((action) =>
    forwardTasks(machine).filter(({ state }) => !AWS_ONLY_STATES.has(state)).flatMap(({ state }) => (['before', 'after'] as const).map((mode) => ({ action, state, mode, category: CATEGORIES[rotation++ % CATEGORIES.length] }))),
  );
}
const endpointCases = casesOf('endpoint', ['create', 'update', 'delete']);
const volumeCases = casesOf('volume', ['create', 'resize', 'snapshot', 'delete']);
const envCases = casesOf('env', ['env-destroy', 'env-create']);
const matrix: MatrixRow[] = [];

let dir: string;
let ops: OpsPlatform;
let webPort: number;
const apiPorts: Record<'api' | 'legacy' | 'extra', number> = { api: 0, legacy: 0, extra: 0 };
let volumeRoot: string;

async function accepted(method: string, path: string, body?: unknown): Promise<string> {
  const r = await ops.call(method, `${envPath(REF)}${path}`, body);
  expect(r.status, r.text).toBe(202);
  return r.body.receipt.operationId;
}

async function succeeds(method: string, path: string, body?: unknown): Promise<void> {
  const operationId = await accepted(method, path, body);
  await ops.platform.orchestrator.idle();
  const op = (await ops.call('GET', `${envPath(REF)}/operations/${operationId}`)).body.operation;
  expect(op.status, JSON.stringify(op.error)).toBe('succeeded');
}

/** Runs `start` with a fault armed, waits for the operation, and checks its record and events. */
async function runFaulted(machine: Machine, c: { action: string; state: string; mode: Mode; category: ErrorCategory }, ref: EnvRef, start: () => Promise<string>) {
  armed = { machine, state: c.state, category: c.category, mode: c.mode };
  const operationId = await start();
  await ops.platform.orchestrator.idle();
  expect(armed, 'the fault fired').toBeUndefined();
  const row = { machine, state: c.state, category: c.category, outcome: `${c.action}, fault ${c.mode} the work: assertions failed` };
  matrix.push(row);
  const op = await expectFailedOperation(ops, machine, ref, operationId, c.state, c.category);
  return { op, row, prefix: `${c.action}, fault ${c.mode} the work: ${op.status} at ${op.error.step} (${op.error.category})` };
}

type EndpointView = { name: string; source: string; endpoint: { port: number; ipv4?: boolean }; listeners: { family: string; address: string; port: number }[]; targets: string[] };
const listEndpoints = async (): Promise<EndpointView[]> => (await ops.call('GET', `${envPath(REF)}/endpoints`)).body.endpoints;

/** Each endpoint answers (with the release) on exactly the families it opted into; `closed` ports refuse. */
async function expectListeners(views: EndpointView[], closed: number[]): Promise<void> {
  for (const v of views) {
    expect(v.listeners.map((l) => `${l.address}:${l.port}`), v.name).toEqual([`::1:${v.endpoint.port}`, ...(v.endpoint.ipv4 ? [`127.0.0.1:${v.endpoint.port}`] : [])]);
    expect(await httpGet(v.endpoint.port, '/', '::1'), `${v.name} over [::1]`).toEqual({ status: 200, body: RELEASE });
    if (v.endpoint.ipv4) expect(await httpGet(v.endpoint.port, '/', '127.0.0.1'), `${v.name} over 127.0.0.1`).toEqual({ status: 200, body: RELEASE });
    else expect(await probe('127.0.0.1', v.endpoint.port), `${v.name} over 127.0.0.1`).toBe('refused');
  }
  for (const port of closed) for (const host of ['::1', '127.0.0.1']) expect(await probe(host, port), `${host} ${port}`).toBe('refused');
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'berth-faults-res-'));
  ops = await startOpsPlatform(join(dir, 'home'), injector);
  const { deps } = ops.platform;
  handlers = { endpoint: createEndpointSteps(deps), volume: createVolumeSteps(deps), env: createEnvSteps(deps) };
  volumeRoot = join(ops.home, 'volumes', REF.org, REF.project, REF.app, REF.env);
  webPort = await freePort();
  for (const name of Object.keys(apiPorts) as (keyof typeof apiPorts)[]) apiPorts[name] = await freePort();
  await createReadyEnv(ops, REF);
  const digest = await uploadApp(ops, REF.org, join(dir, 'app'), serverSource('resources'));
  const r = await ops.call('POST', `${envPath(REF)}/deploys`, { manifest: manifestFor(REF.app, webPort), artifactDigest: digest });
  expect(r.status, r.text).toBe(202);
  await ops.platform.orchestrator.idle();
  // Two instances, so "the same count" after a failed destroy means something.
  await succeeds('POST', '/scale', { workload: 'web', settings: { count: 2 } });
  // `api` is IPv6-only (the update turns IPv4 on), `legacy` is dual-stack (the delete removes it).
  await succeeds('PUT', '/endpoints/api', { workload: 'web', port: apiPorts.api, targetPort: 8080 });
  await succeeds('PUT', '/endpoints/legacy', { workload: 'web', port: apiPorts.legacy, targetPort: 8080, ipv4: true });
  // `data` holds a file and one snapshot (resized and deleted below); `logs` has no snapshot yet.
  await succeeds('PUT', '/volumes/data', { sizeGiB: 1 });
  writeFileSync(join(volumeRoot, 'data', 'kept.txt'), 'written before the faults');
  await succeeds('POST', '/volumes/data/snapshots');
  await succeeds('PUT', '/volumes/logs', { sizeGiB: 1 });
  expect(await httpGet(webPort)).toEqual({ status: 200, body: RELEASE });
});

afterAll(async () => {
  if (matrix.length) console.log(formatMatrix(matrix));
  await ops?.platform.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('endpoint machine: a fault in each forward Task is compensated', () => {
  it('covers every forward Task of endpoint.asl.json, before and after its work', () => {
    expect([...new Set(endpointCases.map((c) => c.state))]).toEqual(['SetDesiredEndpoint', 'ApplyEndpointListener', 'PointEndpointAtInstances']);
    expect(new Set([...endpointCases, ...volumeCases, ...envCases].map((c) => c.category))).toEqual(new Set(CATEGORIES));
  });

  it.each(endpointCases)('$action: a $category fault $mode the work of $state leaves the endpoints as they were', async (c) => {
    const before = await listEndpoints();
    expect(before.map((e) => `${e.name}:${e.source}`)).toEqual(['api:api', 'legacy:api', 'web:manifest']);
    const { row, prefix } = await runFaulted('endpoint', c, REF, () =>
      c.action === 'delete'
        ? accepted('DELETE', '/endpoints/legacy')
        : c.action === 'create'
          ? accepted('PUT', '/endpoints/extra', { workload: 'web', port: apiPorts.extra, targetPort: 8080, ipv4: true })
          : accepted('PUT', '/endpoints/api', { workload: 'web', port: apiPorts.api, targetPort: 8080, ipv4: true }),
    );
    const after = await listEndpoints();
    expect(after).toEqual(before);
    await expectListeners(after, [apiPorts.extra]);
    expect((await ops.platform.deps.store.getEnv(REF))?.endpoints).toEqual(Object.fromEntries(before.filter((e) => e.source === 'api').map((e) => [e.name, e.endpoint])));
    row.outcome = `${prefix}; ${after.map((e) => `${e.name} ${e.listeners.map((l) => l.family).join('+')}`).join(', ')}; extra refused`;
  });
});

describe('volume machine: a fault in each forward Task is compensated', () => {
  it('covers every forward Task of volume.asl.json, before and after its work', () => {
    expect([...new Set(volumeCases.map((c) => c.state))]).toEqual(['SetDesiredVolume', 'ApplyVolumeChange']);
    expect(forwardTasks('volume').map((t) => t.state)).toEqual(['SetDesiredVolume', 'ApplyVolumeChange', ...AWS_ONLY_STATES]);
  });

  it.each(volumeCases)('$action: a $category fault $mode the work of $state leaves the volumes as they were', async (c) => {
    const listVolumes = async () => (await ops.call('GET', `${envPath(REF)}/volumes`)).body.volumes as { name: string; sizeGiB: number; snapshots: { id: string }[] }[];
    const before = { volumes: await listVolumes(), disk: tree(volumeRoot) };
    expect(before.volumes.map((v) => `${v.name}:${v.sizeGiB}:${v.snapshots.length}`)).toEqual(['data:1:1', 'logs:1:0']);
    let snapshotId: string | undefined;
    const { row, prefix } = await runFaulted('volume', c, REF, async () => {
      if (c.action === 'create') return accepted('PUT', '/volumes/scratch', { sizeGiB: 2 });
      if (c.action === 'resize') return accepted('PATCH', '/volumes/data', { sizeGiB: 5 });
      if (c.action === 'delete') return accepted('DELETE', '/volumes/data');
      const r = await ops.call('POST', `${envPath(REF)}/volumes/logs/snapshots`);
      expect(r.status, r.text).toBe(202);
      snapshotId = r.body.receipt.snapshotId;
      return r.body.receipt.operationId;
    });
    expect(await listVolumes()).toEqual(before.volumes);
    // On disk exactly the same dirs and files: a volume set aside is back (no `.deleted/`), an
    // undone snapshot leaves no `.snapshots/logs/`, an undone create no `scratch/`.
    expect(tree(volumeRoot)).toEqual(before.disk);
    expect(existsSync(join(volumeRoot, '.deleted'))).toBe(false);
    expect(existsSync(join(volumeRoot, 'scratch'))).toBe(false);
    expect(readFileSync(join(volumeRoot, 'data', 'kept.txt'), 'utf8')).toBe('written before the faults');
    if (snapshotId) expect(existsSync(join(volumeRoot, '.snapshots', 'logs'))).toBe(false);
    row.outcome = `${prefix}; volumes ${(await listVolumes()).map((v) => `${v.name} ${v.sizeGiB} GiB, ${v.snapshots.length} snapshot(s)`).join('; ')}; disk as before`;
  });
});

describe('env machine: a fault in each forward Task is compensated', () => {
  it('covers every forward Task of env.asl.json, before and after its work', () => {
    expect([...new Set(envCases.map((c) => c.state))]).toEqual(['MarkEnvTransition', 'StopEnvInstances', 'CloseEnvEndpoints', 'ProvisionEnvResources', 'DeleteEnvResources']);
  });

  const destroyCases = envCases.filter((c) => c.action === 'env-destroy');
  it.each(destroyCases)('$action: a $category fault $mode the work of $state leaves the env ready and serving', async (c) => {
    const { deps } = ops.platform;
    const beforeEnv = await deps.store.getEnv(REF);
    const beforeLive = await deps.compute.list(REF);
    expect(beforeLive.map((i) => `${i.releaseId}:${i.state}`)).toEqual([`${RELEASE}:healthy`, `${RELEASE}:healthy`]);
    const before = await listEndpoints();
    const { row, prefix } = await runFaulted('env', c, REF, () => accepted('DELETE', ''));
    const env = await deps.store.getEnv(REF);
    expect(env?.status).toBe('ready');
    expect(env?.currentReleaseId).toBe(beforeEnv?.currentReleaseId);
    expect(env?.desiredReleaseId).toBe(beforeEnv?.desiredReleaseId);
    expect(env?.scale).toEqual(beforeEnv?.scale);
    const live = await deps.compute.list(REF);
    expect(live.map((i) => `${i.releaseId}:${i.state}`)).toEqual(beforeLive.map((i) => `${i.releaseId}:${i.state}`));
    // The same endpoints and listeners, now targeting whatever instances run (restarted or not).
    const after = await listEndpoints();
    expect(after.map(({ targets: _, ...e }) => e)).toEqual(before.map(({ targets: _, ...e }) => e));
    for (const e of after) expect(e.targets.sort(), e.name).toEqual(ids(live));
    await expectListeners(after, [apiPorts.extra]);
    expect(await httpGet(webPort)).toEqual({ status: 200, body: RELEASE });
    expect(instanceDirs(ops.home)).toEqual(ids(live));
    const restarted = ids(live).join() !== ids(beforeLive).join();
    row.outcome = `${prefix}; env ${env?.status}; ${live.length} healthy instance(s)${restarted ? ' (restarted)' : ''}; serving ${RELEASE} on [::1]`;
  });

  const createCases = envCases.filter((c) => c.action === 'env-create').map((c, i) => ({ ...c, name: `born-${i + 1}` }));
  it.each(createCases)('$action: a $category fault $mode the work of $state is refused with that category and leaves the name free', async (c) => {
    const { deps } = ops.platform;
    const ref: EnvRef = { ...REF, env: c.name };
    const { row, prefix } = await runFaulted('env', c, ref, async () => {
      const r = await ops.call('POST', `/v1/orgs/${ref.org}/projects/${ref.project}/apps/${ref.app}/envs`, { name: ref.env });
      // The API waited for provisioning: the answer is the failure, in its category.
      expect(r.status, r.text).toBe(HTTP_STATUS[c.category as ErrorCategory]);
      expect(r.body.error).toMatchObject({ category: c.category });
      return r.body.error.details.operationId;
    });
    expect(await deps.store.getEnv(ref)).toBeUndefined();
    expect(await deps.compute.list(ref)).toEqual([]);
    expect(await deps.endpoints.list(ref)).toEqual([]);
    expect(existsSync(join(ops.home, 'volumes', ref.org, ref.project, ref.app, ref.env))).toBe(false);
    // The name is free again: the same create now succeeds.
    const again = await ops.call('POST', `/v1/orgs/${ref.org}/projects/${ref.project}/apps/${ref.app}/envs`, { name: ref.env });
    expect(again.status, again.text).toBe(201);
    expect(again.body.env.status).toBe('ready');
    row.outcome = `${prefix}; refused (${c.category}); nothing left, name free`;
  });
});
