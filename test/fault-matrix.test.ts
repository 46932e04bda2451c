// Every forward Task of every state machine, failed on purpose: the operation records the failing
// step and category, compensation runs in reverse order, and the env is left exactly as before
// (same release serving on the same instances, no extra instance, listener or instance dir).
// The cases are generated from statemachines/*.asl.json, so a new forward state is covered at once.
// The endpoint, volume and env machines have theirs in fault-matrix-resources.test.ts.
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BerthError, type ErrorCategory } from '../functions/core/errors.ts';
import type { EnvRef, StateMachineName } from '../functions/core/ports.ts';
import type { FaultInjector } from '../functions/reconciler/local-orchestrator.ts';
import {
  CATEGORIES,
  createReadyEnv,
  envPath,
  forwardTasks,
  formatMatrix,
  freePort,
  httpGet,
  ids,
  instanceDirs,
  manifestFor,
  serverSource,
  startOpsPlatform,
  uploadApp,
  type MatrixRow,
  type OpsPlatform,
} from './support/ops-harness.ts';
import { expectFailedOperation } from './support/ops-harness.ts';

const PROD: EnvRef = { org: 'acme', project: 'shop', app: 'matrix', env: 'prod' };
const STAGING: EnvRef = { ...PROD, env: 'staging' };

let armed: { machine: StateMachineName; state: string; category: ErrorCategory } | undefined;
const injector: FaultInjector = (machine, state) => {
  if (!armed || armed.machine !== machine || armed.state !== state) return;
  const { category } = armed;
  armed = undefined;
  throw new BerthError(category, 'injected-fault', `injected ${category} fault at ${machine}.${state}`);
};

const deployCases = forwardTasks('deploy').map((t, i) => ({ ...t, category: CATEGORIES[i % CATEGORIES.length] }));
const scaleCases = forwardTasks('scale').map((t, i) => ({ ...t, category: CATEGORIES[(deployCases.length + i) % CATEGORIES.length] }));
const matrix: MatrixRow[] = [];


let dir: string;
let ops: OpsPlatform;
let port: number;
let manifest: string;
let variant = 0;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'berth-faults-'));
  ops = await startOpsPlatform(join(dir, 'home'), injector);
  port = await freePort();
  manifest = manifestFor(PROD.app, port, { intervalSeconds: 0.2, deadlineSeconds: 10 });
  await createReadyEnv(ops, PROD);
  const digest = await uploadApp(ops, PROD.org, join(dir, 'app'), serverSource('rel-1'));
  const r = await ops.call('POST', `${envPath(PROD)}/deploys`, { manifest, artifactDigest: digest });
  expect(r.status, r.text).toBe(202);
  await ops.platform.orchestrator.idle();
  const op = await ops.call('GET', `${envPath(PROD)}/operations/${r.body.receipt.operationId}`);
  expect(op.body.operation.status, JSON.stringify(op.body.operation.error)).toBe('succeeded');
});

afterAll(async () => {
  if (matrix.length) console.log(formatMatrix(matrix));
  await ops?.platform.close();
  rmSync(dir, { recursive: true, force: true });
});

interface Before {
  releaseId: string;
  instances: string[];
  scale: unknown;
}

async function snapshot(ref: EnvRef): Promise<Before> {
  const env = await ops.platform.deps.store.getEnv(ref);
  const live = (await ops.platform.deps.compute.list(ref));
  expect(live.every((i) => i.state === 'healthy'), JSON.stringify(live)).toBe(true);
  return { releaseId: env!.currentReleaseId!, instances: ids(live), scale: env!.scale };
}

/** Everything a failed, compensated operation must leave behind — and nothing more. */
async function expectCompensated(machine: StateMachineName, ref: EnvRef, operationId: string, state: string, category: string, before: Before, failedRelease?: string): Promise<string> {
  const { deps } = ops.platform;
  const op = (await ops.call('GET', `${envPath(ref)}/operations/${operationId}`)).body.operation;
  const live = (await deps.compute.list(ref));
  const served = await httpGet(port);
  const outcome = `${op.status} at ${op.error?.step} (${op.error?.category}); serving ${served.body}; ${live.length} instance(s)`;

  expect(op.status).toBe('failed');
  expect(op.error.category).toBe(category);
  expect(op.error.step).toBe(state);

  const env = await deps.store.getEnv(ref);
  expect(env?.currentReleaseId).toBe(before.releaseId);
  expect(env?.desiredReleaseId).toBe(before.releaseId);
  expect(env?.activeOperationId).toBeUndefined();
  if (machine === 'scale') expect(env?.scale).toEqual(before.scale);

  expect(served).toEqual({ status: 200, body: before.releaseId });

  // The record, the compensation steps in ASL order and the single operation.failed event.
  await expectFailedOperation(ops, machine, ref, operationId, state, category);

  // The very instances that served before still do; nothing of the failed operation is left.
  expect(ids(live)).toEqual(before.instances);
  expect(live.every((i) => i.state === 'healthy' && i.releaseId === before.releaseId)).toBe(true);
  if (failedRelease) expect(live.filter((i) => i.releaseId === failedRelease)).toEqual([]);
  const endpoints = (await deps.endpoints.list(ref));
  expect(endpoints.map((e) => e.name)).toEqual(['web']);
  expect(endpoints[0].binding.listeners).toEqual([{ family: 'IPv6', address: '::1', port }]);
  expect(endpoints[0].targets.map((t) => t.instance).sort()).toEqual(before.instances);
  // Instance dirs (secret files included) exist only for running instances, in any env.
  expect(instanceDirs(ops.home)).toEqual(ids([...(await deps.compute.list(PROD)), ...(await deps.compute.list(STAGING))]));
  return outcome;
}

async function deployVariant(ref: EnvRef, source: string, manifestText = manifest): Promise<{ operationId: string; releaseId: string }> {
  const digest = await uploadApp(ops, ref.org, join(dir, `app-${++variant}`), source);
  const r = await ops.call('POST', `${envPath(ref)}/deploys`, { manifest: manifestText, artifactDigest: digest });
  expect(r.status, r.text).toBe(202);
  return r.body.receipt;
}

describe('deploy machine: a fault in each forward Task is compensated', () => {
  it('covers every forward Task of deploy.asl.json and every injected category', () => {
    expect(deployCases.map((c) => c.state)).toEqual(['PrepareRelease', 'StartNextBatch', 'WaitForBatchHealthy', 'ShiftTrafficToBatch', 'StopReplacedInstances']);
    expect(new Set([...deployCases, ...scaleCases].map((c) => c.category))).toEqual(new Set(CATEGORIES));
  });

  it.each(deployCases)('a $category fault at $state fails the deploy there and the previous release keeps serving', async ({ state, category }) => {
    const before = await snapshot(PROD);
    armed = { machine: 'deploy', state, category };
    const receipt = await deployVariant(PROD, serverSource(`fault-${state}`));
    await ops.platform.orchestrator.idle();
    expect(armed, 'the fault fired').toBeUndefined();
    const row = { machine: 'deploy', state, category, outcome: 'assertions failed' };
    matrix.push(row);
    row.outcome = await expectCompensated('deploy', PROD, receipt.operationId, state, category, before, receipt.releaseId);
    const release = (await ops.call('GET', `${envPath(PROD)}/releases/${receipt.releaseId}`)).body.release;
    expect(release.status).toBe('failed');
  });

  it('a release whose server exits at start fails with health-check at WaitForBatchHealthy (a real failure)', async () => {
    const before = await snapshot(PROD);
    const receipt = await deployVariant(PROD, serverSource('exits', { exitAtStart: true }));
    await ops.platform.orchestrator.idle();
    const row = { machine: 'deploy', state: 'WaitForBatchHealthy', category: 'health-check', outcome: 'assertions failed' };
    matrix.push(row);
    row.outcome = `(real: process.exit(1)) ${await expectCompensated('deploy', PROD, receipt.operationId, 'WaitForBatchHealthy', 'health-check', before, receipt.releaseId)}`;
    const op = (await ops.call('GET', `${envPath(PROD)}/operations/${receipt.operationId}`)).body.operation;
    expect(op.error.message).toContain('exited with code 1 before it became healthy');
    expect(op.error.message).toContain('refusing to start');
  });
});

describe('scale machine: a fault in each forward Task is compensated', () => {
  beforeAll(async () => {
    // An explicit setting, so "restored" is distinguishable from "cleared".
    const r = await ops.call('POST', `${envPath(PROD)}/scale`, { workload: 'web', settings: { count: 1 } });
    expect(r.status, r.text).toBe(202);
    await ops.platform.orchestrator.idle();
    expect((await ops.platform.deps.store.getEnv(PROD))?.scale).toEqual({ web: { count: 1 } });
  });

  it('covers every forward Task of scale.asl.json', () => {
    expect(scaleCases.map((c) => c.state)).toEqual(['SetDesiredScale', 'StartNextBatch', 'WaitForBatchHealthy', 'ShiftTrafficToBatch', 'StopReplacedInstances']);
  });

  it.each(scaleCases)('a $category fault at $state fails the scale there and the previous count keeps serving', async ({ state, category }) => {
    const before = await snapshot(PROD);
    armed = { machine: 'scale', state, category };
    const r = await ops.call('POST', `${envPath(PROD)}/scale`, { workload: 'web', settings: { count: 2 } });
    expect(r.status, r.text).toBe(202);
    expect(r.body.receipt.desired.count).toBe(2);
    await ops.platform.orchestrator.idle();
    expect(armed, 'the fault fired').toBeUndefined();
    const row = { machine: 'scale', state, category, outcome: 'assertions failed' };
    matrix.push(row);
    row.outcome = await expectCompensated('scale', PROD, r.body.receipt.operationId, state, category, before);
  });
});

describe('every state machine has a fault matrix', () => {
  it('each statemachines/*.asl.json is covered here or in fault-matrix-resources.test.ts', () => {
    const covered = { deploy: 'fault-matrix', scale: 'fault-matrix', endpoint: 'fault-matrix-resources', volume: 'fault-matrix-resources', env: 'fault-matrix-resources' };
    const machines = readdirSync(fileURLToPath(new URL('../statemachines/', import.meta.url)))
      .filter((f) => f.endsWith('.asl.json'))
      .map((f) => f.replace('.asl.json', ''));
    expect(machines.sort()).toEqual(Object.keys(covered).sort());
  });
});

describe('rollback', () => {
  it('points the env back at rel-1 without creating or rebuilding a release', async () => {
    await createReadyEnv(ops, STAGING);
    const stagingPort = await freePort();
    const stagingManifest = manifestFor(STAGING.app, stagingPort);
    const first = await deployVariant(STAGING, serverSource('staging-1'), stagingManifest);
    await ops.platform.orchestrator.idle();
    const second = await deployVariant(STAGING, serverSource('staging-2'), stagingManifest);
    await ops.platform.orchestrator.idle();
    expect([first.releaseId, second.releaseId]).toEqual(['rel-1', 'rel-2']);
    expect((await httpGet(stagingPort)).body).toBe('rel-2');
    const rel1 = (await ops.call('GET', `${envPath(STAGING)}/releases/rel-1`)).body.release;

    const r = await ops.call('POST', `${envPath(STAGING)}/rollbacks`, {});
    expect(r.status, r.text).toBe(202);
    expect(r.body.receipt).toMatchObject({ releaseId: 'rel-1', previousReleaseId: 'rel-2', artifactDigest: rel1.artifactDigest });
    await ops.platform.orchestrator.idle();

    const op = (await ops.call('GET', `${envPath(STAGING)}/operations/${r.body.receipt.operationId}`)).body.operation;
    expect(op).toMatchObject({ kind: 'rollback', status: 'succeeded', releaseId: 'rel-1' });
    const status = (await ops.call('GET', `${envPath(STAGING)}/status`)).body.status;
    expect(status).toMatchObject({ currentReleaseId: 'rel-1', desiredReleaseId: 'rel-1', converged: true, activeOperation: null });
    expect(await httpGet(stagingPort)).toEqual({ status: 200, body: 'rel-1' });
    const releases = (await ops.call('GET', `${envPath(STAGING)}/releases`)).body.releases as { id: string; status: string; artifactDigest: string }[];
    expect(releases.map((x) => `${x.id}:${x.status}`)).toEqual(['rel-2:superseded', 'rel-1:active']);
    expect(releases.find((x) => x.id === 'rel-1')?.artifactDigest).toBe(rel1.artifactDigest);
    const live = (await ops.platform.deps.compute.list(STAGING));
    expect(live.map((i) => `${i.releaseId}:${i.state}`)).toEqual(['rel-1:healthy']);
    expect(instanceDirs(ops.home)).toEqual(ids([...(await ops.platform.deps.compute.list(PROD)), ...live]));
  });
});
