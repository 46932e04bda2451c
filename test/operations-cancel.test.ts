// Issue 13: a crash loop is a failure, not a siege. A release that keeps crashing after going live
// is shown as failing (with the rollback command); the reconcile loop does not hold the env for it;
// a user's rollback supersedes a running system reconcile instead of getting `conflict`; and
// `operations cancel` ends a running deploy through its compensation, as `cancelled`.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { inProcessCli } from '../bench/support/cli-in-process.ts';
import type { EnvRef } from '../functions/core/ports.ts';
import { startOperation } from '../functions/core/services/operations.ts';
import { reconcileEnv } from '../functions/reconciler/reconcile-env.ts';
import type { FaultInjector } from '../functions/reconciler/local-orchestrator.ts';
import { createReadyEnv, envPath, freePort, httpGet, manifestFor, serverSource, startOpsPlatform, uploadApp, type OpsPlatform } from './support/ops-harness.ts';

const REF: EnvRef = { org: 'acme', project: 'shop', app: 'loop', env: 'prod' };

// Healthy for a moment after every start, then exits: a release that goes live and crash-loops.
const CRASHING = `import { createServer } from 'node:http';
createServer((req, res) => res.end(String(process.env.BERTH_RELEASE))).listen(Number(process.env.PORT));
setTimeout(() => { console.error('fatal: lost the database connection'); process.exit(3); }, 600);
`;
// Listens but never passes its health check: a deploy that waits until it is cancelled.
const NEVER_HEALTHY = `import { createServer } from 'node:http';
createServer((req, res) => { res.statusCode = 503; res.end('warming up'); }).listen(Number(process.env.PORT));
`;

let dir: string;
let ops: OpsPlatform;
let port: number;
let holdReconciles = true;

// A reconcile that is slow at its first step: it is still running when the user's command arrives,
// and it goes on to its next step once asked to stop (where the cancellation check ends it).
const slowReconcile: FaultInjector = async (machine, state, input) => {
  if (!holdReconciles || input.operation.kind !== 'reconcile' || state !== 'StartNextBatch') return;
  for (let i = 0; i < 600; i++) {
    const op = await ops.platform.deps.store.getOperation(REF, input.operation.operationId);
    if (op?.cancelRequested) return;
    await new Promise((r) => setTimeout(r, 50));
  }
};

async function deploy(source: string, variant: string, health: { deadlineSeconds?: number } = {}): Promise<{ status: number; receipt: Record<string, any>; text: string }> {
  const digest = await uploadApp(ops, REF.org, join(dir, variant), source);
  const res = await ops.call('POST', `${envPath(REF)}/deploys`, { artifactDigest: digest, manifest: manifestFor(REF.app, port, health) });
  return { status: res.status, receipt: res.body.receipt, text: res.text };
}

const operation = async (id: string) => (await ops.call('GET', `${envPath(REF)}/operations/${id}`)).body.operation;
const status = async () => (await ops.call('GET', `${envPath(REF)}/status`)).body.status;

async function until<T>(what: string, probe: () => Promise<T | undefined>, tries = 300): Promise<T> {
  for (let i = 0; i < tries; i++) {
    const value = await probe();
    if (value !== undefined) return value;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`timed out waiting for ${what}`);
}

let rel1: string;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'berth-cancel-'));
  ops = await startOpsPlatform(join(dir, 'home'), slowReconcile);
  await createReadyEnv(ops, REF);
  port = await freePort();
  const first = await deploy(serverSource('v1'), 'v1');
  expect(first.status, first.text).toBe(202);
  await ops.platform.orchestrator.idle();
  rel1 = first.receipt.releaseId;
  expect((await operation(first.receipt.operationId)).status).toBe('succeeded');
}, 60_000);

afterAll(async () => {
  await ops?.platform.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('a release that crash-loops after going live', () => {
  let rel2: string;

  it('is shown as failing, with the rollback command', async () => {
    const second = await deploy(CRASHING, 'v2');
    expect(second.status, second.text).toBe(202);
    await ops.platform.orchestrator.idle();
    rel2 = second.receipt.releaseId;
    expect((await operation(second.receipt.operationId)).status).toBe('succeeded');
    const failing = await until('the release to be marked failing', async () => (await status()).failing ?? undefined, 400);
    expect(failing.releaseId).toBe(rel2);
    expect(failing.restarts).toBeGreaterThanOrEqual(3);
    expect(failing.message).toMatch(new RegExp(`release ${rel2} is failing: instance i-\\S+ has crashed \\d+ times after going live \\(last exit code 3`));
    expect(failing.next).toContain('berth rollback');
  }, 60_000);

  it('does not hold the env in reconciles (the restarts are the driver\'s; the code needs a rollback)', async () => {
    for (let i = 0; i < 10; i++) expect(await reconcileEnv(ops.platform.deps, REF)).toBeUndefined();
    expect((await status()).activeOperation).toBeNull();
  });

  it('lets a rollback supersede a running system reconcile, which ends cancelled', async () => {
    const env = (await ops.platform.deps.store.getEnv(REF))!;
    const reconcile = await startOperation(
      ops.platform.deps,
      env,
      { kind: 'reconcile', previousReleaseId: rel2, prepare: async () => ({ releaseId: rel2, acceptedMessage: 'reconcile (test)' }) },
      { id: 'reconciler', name: 'reconciler' },
    );
    expect((await operation(reconcile)).status).toBe('running');
    const rollback = await ops.call('POST', `${envPath(REF)}/rollbacks`, { releaseId: rel1 });
    expect(rollback.status, rollback.text).toBe(202);
    await ops.platform.orchestrator.idle();
    const superseded = await operation(reconcile);
    expect(superseded.status).toBe('cancelled');
    expect(superseded.cancelRequested.reason).toBe('superseded by a rollback from owner');
    expect(superseded.error.code).toBe('operation-cancelled');
    expect((await operation(rollback.body.receipt.operationId)).status).toBe('succeeded');
    expect((await httpGet(port)).body).toBe(rel1);
    const after = await status();
    expect(after.currentReleaseId).toBe(rel1);
    expect(after.failing).toBeNull();
    const events = (await ops.call('GET', `${envPath(REF)}/events?operation=${reconcile}`)).body.events.map((e: { type: string }) => e.type);
    expect(events.indexOf('operation.cancelling')).toBeGreaterThan(0);
    expect(events.indexOf('operation.cancelled')).toBeGreaterThan(events.indexOf('operation.cancelling'));
    expect(events).not.toContain('operation.failed');
  }, 60_000);
});

describe('operations cancel', () => {
  let deployOp: string;

  it('ends a deploy waiting for health through its compensation: the previous release keeps serving', async () => {
    holdReconciles = false;
    const stuck = await deploy(NEVER_HEALTHY, 'v3', { deadlineSeconds: 300 });
    expect(stuck.status, stuck.text).toBe(202);
    deployOp = stuck.receipt.operationId;
    await until('the deploy to wait for health', async () => ((await operation(deployOp)).step === 'WaitForBatchHealthy' ? true : undefined));
    const res = await ops.call('POST', `${envPath(REF)}/operations/${deployOp}/cancel`);
    expect(res.status, res.text).toBe(202);
    expect(res.body.operation.cancelRequested.reason).toBe('cancelled by owner');
    await ops.platform.orchestrator.idle();
    const op = await operation(deployOp);
    expect(op.status).toBe('cancelled');
    expect(op.error).toMatchObject({ category: 'conflict', code: 'operation-cancelled', step: 'WaitForBatchHealthy' });
    expect((await httpGet(port)).body).toBe(rel1);
    const s = await status();
    expect(s.currentReleaseId).toBe(rel1);
    expect(s.desiredReleaseId).toBe(rel1);
    expect(s.workloads.flatMap((w: { instances: { releaseId: string }[] }) => w.instances.map((i) => i.releaseId))).toEqual([rel1]);
    expect((await ops.call('GET', `${envPath(REF)}/releases/${stuck.receipt.releaseId}`)).body.release.status).toBe('failed');
  }, 60_000);

  it('is idempotent, and refuses an operation that has already finished (conflict, with what to do)', async () => {
    const again = await ops.call('POST', `${envPath(REF)}/operations/${deployOp}/cancel`);
    expect(again.status).toBe(202);
    expect(again.body.operation.status).toBe('cancelled');
    const s = await status();
    const done = await ops.call('POST', `${envPath(REF)}/operations/${s.lastOperation.id}/cancel`);
    expect(done.status).toBe(202); // the last one is the cancelled deploy itself
    const rollbackOp = (await ops.call('GET', `${envPath(REF)}/events`)).body.events.find((e: { type: string; message: string }) => e.type === 'operation.accepted' && e.message.includes('rollback'))?.operationId;
    const finished = await ops.call('POST', `${envPath(REF)}/operations/${rollbackOp}/cancel`);
    expect(finished.status, finished.text).toBe(409);
    expect(finished.body.error).toMatchObject({ category: 'conflict', code: 'operation-finished' });
    const missing = await ops.call('POST', `${envPath(REF)}/operations/op-01J00000000000000000000000/cancel`);
    expect(missing.status).toBe(404);
  });

  it('through the CLI: `berth operations cancel` cancels the running operation, and --wait ends with conflict', async () => {
    const berth = inProcessCli(ops.platform.url, ops.token, REF);
    const idle = await berth(['operations', 'cancel'], true, { check: false });
    expect(idle.code).toBe(4);
    expect(idle.stderr).toContain(`no operation is running in ${REF.env}; nothing to cancel`);
    const stuck = await deploy(NEVER_HEALTHY, 'v4', { deadlineSeconds: 300 });
    await until('the deploy to wait for health', async () => ((await operation(stuck.receipt.operationId)).step === 'WaitForBatchHealthy' ? true : undefined));
    const r = await berth(['operations', 'cancel', '--wait'], true, { check: false });
    expect(r.stdout).toContain(`Cancelling deploy ${stuck.receipt.operationId}: it undoes its changes at its next step.`);
    expect(r.stderr).toContain(`${stuck.receipt.operationId} was cancelled at step WaitForBatchHealthy`);
    expect(r.code).toBe(5);
    expect((await httpGet(port)).body).toBe(rel1);
  }, 60_000);
});
