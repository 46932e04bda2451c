// The reconcile loop's cost: a tick reads the store for the envs that changed or are due, not for
// every env. Against the embedded platform (instant compute, no loop of its own) with many idle envs
// seeded through the store port, a loop driven tick by tick with a fake clock, and every store read
// counted through a wrapper of the port. A changed env is still reconciled at the next tick, and
// drift made by hand (no event) is still found at the env's next drift check.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Env } from '../functions/core/model.ts';
import type { EnvRef } from '../functions/core/ports.ts';
import type { PlatformDeps } from '../functions/core/services/deps.ts';
import type { StateStore } from '../functions/core/state-store.ts';
import { ReconcileLoop } from '../functions/reconciler/reconcile-loop.ts';
import { benchManifest, createReadyEnv, envPath, freePort, startBenchPlatform, uploadApp, type BenchPlatform } from '../bench/support/bench-platform.ts';

const IDLE = 200;
const TICK = 5000;
const LIVE: EnvRef = { org: 'acme', project: 'shop', app: 'live', env: 'prod' };

/** The store port with every read (get…, list…, has…, query…) counted. */
function countingStore(store: StateStore): { store: StateStore; reads: () => number } {
  let reads = 0;
  const wrapped = new Proxy(store, {
    get(target, name, receiver) {
      const value = Reflect.get(target, name, receiver);
      if (typeof value !== 'function') return value;
      return (...args: unknown[]) => {
        if (/^(get|list|has|query|latest)/.test(String(name))) reads++;
        return value.apply(target, args);
      };
    },
  });
  return { store: wrapped, reads: () => reads };
}

let bp: BenchPlatform;
let loop: ReconcileLoop;
let counted: ReturnType<typeof countingStore>;
const errors: unknown[] = [];

/** Store reads and reconcile operations started by one tick at `at`. */
async function tickAt(at: number): Promise<{ reads: number }> {
  const before = counted.reads();
  await loop.tick(at);
  await bp.platform.orchestrator.idle();
  return { reads: counted.reads() - before };
}

const reconcileEvents = async () => (await bp.call('GET', `${envPath(LIVE)}/events`, undefined, 200)).events.filter((e: { type: string }) => e.type === 'drift.detected');

beforeAll(async () => {
  bp = await startBenchPlatform();
  const { store } = bp.platform.deps;
  await createReadyEnv(bp, LIVE);
  const digest = await uploadApp(bp, LIVE.org);
  const { receipt } = await bp.call('POST', `${envPath(LIVE)}/deploys`, { manifest: benchManifest(LIVE.app, await freePort()), artifactDigest: digest }, 202);
  await bp.platform.orchestrator.idle();
  expect((await store.getOperation(LIVE, receipt.operationId))?.status).toBe('succeeded');
  // Idle envs: created, never deployed (what 1,000 empty envs look like).
  const now = new Date().toISOString();
  await store.createApp({ org: 'acme', project: 'shop', name: 'idle', createdAt: now, createdBy: 'test' });
  for (let i = 0; i < IDLE; i++) {
    const env: Env = { org: 'acme', project: 'shop', app: 'idle', env: `e${i}`, version: 0, status: 'ready', createdAt: now, updatedAt: now, createdBy: 'test' };
    await store.createEnv(env);
  }
  counted = countingStore(store);
  const deps: PlatformDeps = { ...bp.platform.deps, store: counted.store };
  loop = new ReconcileLoop(deps, { intervalMs: TICK }, (err) => errors.push(err));
  // As startReconcileLoop wires it: every event recorded for an env marks it changed.
  bp.platform.deps.events.onRecord((env) => loop.markChanged(env));
}, 60_000);

afterAll(async () => {
  await bp?.close();
});

describe('the reconcile loop', () => {
  it('looks at every env at its first tick (the sweep after a start)', async () => {
    const { reads } = await tickAt(1_000_000);
    console.log(`reconcile sweep over ${IDLE + 1} envs: ${reads} store reads`);
    expect(reads).toBeGreaterThanOrEqual(IDLE + 1);
    expect(errors).toEqual([]);
  });

  it(`reads nothing at a tick when none of ${IDLE + 1} envs changed or is due`, async () => {
    expect((await tickAt(1_000_000 + TICK)).reads).toBe(0);
    expect((await tickAt(1_000_000 + 2 * TICK)).reads).toBe(0);
  });

  it('reads only the env that changed, and reconciles it at the next tick', async () => {
    const before = (await reconcileEvents()).length;
    const [victim] = await bp.platform.deps.compute.list(LIVE);
    // Stopped by hand: the compute driver's event is the cue.
    await bp.platform.deps.compute.stopInstances(LIVE, [victim.id]);
    expect(await bp.platform.deps.compute.list(LIVE)).toHaveLength(0);
    const { reads } = await tickAt(1_000_000 + 3 * TICK);
    console.log(`reconcile tick, 1 changed env among ${IDLE + 1}: ${reads} store reads`);
    // The env, its release, its operation (reading no idle env: far below IDLE).
    expect(reads).toBeGreaterThan(0);
    expect(reads).toBeLessThanOrEqual(6);
    const drift = await reconcileEvents();
    expect(drift.length).toBe(before + 1);
    expect(drift.at(-1).message).toContain('web has 0 of 1 instance');
    expect(await bp.platform.deps.compute.list(LIVE)).toHaveLength(1);
  });

  it('finds drift made by hand without any event at the env’s next drift check, still without reading idle envs', async () => {
    const before = (await reconcileEvents()).length;
    // Let the reconcile's own events settle: one look finds the env converged.
    await tickAt(1_000_000 + 4 * TICK);
    await bp.platform.deps.endpoints.remove(LIVE, 'web');
    const quiet = await tickAt(1_000_000 + 5 * TICK);
    expect(quiet.reads).toBe(0);
    const { reads } = await tickAt(1_000_000 + 4 * TICK + 6 * TICK);
    expect(reads).toBeLessThanOrEqual(6);
    const drift = await reconcileEvents();
    expect(drift.length).toBe(before + 1);
    expect(drift.at(-1).message).toContain('endpoint web has no listener');
    expect((await bp.platform.deps.endpoints.list(LIVE)).map((e) => e.name)).toEqual(['web']);
  });

  it('sweeps every env again after sweepMs (60 ticks): envs changed by another process are seen', async () => {
    const { reads } = await tickAt(1_000_000 + 61 * TICK);
    expect(reads).toBeGreaterThanOrEqual(IDLE + 1);
    expect(errors).toEqual([]);
  });
});
