// The periodic reconcile: compare desired (the env's current release at its scale) with actual
// (instances, endpoint listeners and targets); on drift, start a `reconcile` operation that runs
// the deploy state machine onto the current release, which starts what is missing, stops what is
// extra and re-points the endpoints, with events. Embedded this is a timer; on AWS an EventBridge
// schedule invokes the same `findDrift` + `startOperation`.
import { crashLoopOf } from '../core/crash-loop.ts';
import { desiredWorkloads, effectiveEndpoints, isLive } from '../core/desired.ts';
import type { Env } from '../core/model.ts';
import type { EnvRef } from '../core/ports.ts';
import type { Actor, PlatformDeps } from '../core/services/deps.ts';
import { startOperation } from '../core/services/operations.ts';

const RECONCILER: Actor = { id: 'reconciler', name: 'reconciler' };

/** What differs between desired and actual, in words; empty when converged. */
export async function findDrift(deps: PlatformDeps, env: Env): Promise<string[]> {
  if (!env.currentReleaseId) return [];
  const release = await deps.store.getRelease(env, env.currentReleaseId);
  if (!release) return [];
  const instances = (await deps.compute.list(env)).filter(isLive);
  const drift: string[] = [];
  const desired = desiredWorkloads(release, env.scale);
  for (const dw of desired) {
    const mine = instances.filter((i) => i.workload === dw.name && i.revision === dw.revision);
    if (mine.length !== dw.count) drift.push(`${dw.name} has ${mine.length} of ${dw.count} instance${dw.count === 1 ? '' : 's'}`);
    const stale = instances.filter((i) => i.workload === dw.name && i.revision !== dw.revision);
    if (stale.length) drift.push(`${dw.name} runs ${stale.length} instance${stale.length === 1 ? '' : 's'} of another revision`);
  }
  const names = new Set(desired.map((d) => d.name));
  const strays = instances.filter((i) => !names.has(i.workload));
  if (strays.length) drift.push(`${strays.length} instance${strays.length === 1 ? '' : 's'} of undeclared workloads`);
  const listeners = new Map((await deps.endpoints.list(env)).map((e) => [e.name, e]));
  for (const [name, endpoint] of Object.entries(effectiveEndpoints(release, env))) {
    const actual = listeners.get(name);
    if (!actual) {
      drift.push(`endpoint ${name} has no listener`);
      continue;
    }
    const dw = desired.find((d) => d.name === endpoint.workload);
    const healthy = instances.filter((i) => i.workload === endpoint.workload && i.revision === dw?.revision && i.state === 'healthy').map((i) => i.id).sort();
    if (healthy.join() !== actual.targets.map((t) => t.instance).sort().join()) drift.push(`endpoint ${name} targets ${actual.targets.length} instead of ${healthy.length} healthy instances`);
  }
  return drift;
}

export async function reconcileEnv(deps: PlatformDeps, ref: EnvRef): Promise<string | undefined> {
  const env = await deps.store.getEnv(ref);
  if (!env || !env.currentReleaseId || env.status === 'destroyed' || env.status === 'destroying') return undefined;
  if (env.activeOperationId && (await deps.store.getOperation(ref, env.activeOperationId))?.status === 'running') return undefined;
  const drift = await findDrift(deps, env);
  if (!drift.length) return undefined;
  const releaseId = env.currentReleaseId;
  // The driver restarts crashed instances itself; a reconcile cannot fix the code, and holding the
  // env would only stand in the way of the rollback that can. Status shows the release as failing.
  if (crashLoopOf(await deps.compute.list(env), releaseId, Date.now())) return undefined;
  await deps.events.record(ref, { type: 'drift.detected', message: `drift: ${drift.join('; ')}` });
  return startOperation(
    deps,
    env,
    { kind: 'reconcile', previousReleaseId: releaseId, prepare: async (opId) => ({ releaseId, acceptedMessage: `reconcile ${opId} started: converging to ${releaseId} (${drift.join('; ')})` }) },
    RECONCILER,
  ).catch((err) => {
    // Someone else took the env first (a deploy): their operation converges it anyway.
    if ((err as { category?: string }).category === 'conflict') return undefined;
    throw err;
  });
}

/**
 * Starts the periodic reconcile. The function returned stops it and resolves once a pass still in
 * flight has ended, so the caller may then shut down compute and the store under it.
 */
export function startReconcileLoop(deps: PlatformDeps, intervalMs: number, onError: (err: unknown) => void): () => Promise<void> {
  let running: Promise<void> | undefined;
  let stopped = false;
  const pass = async () => {
    try {
      for (const ref of await deps.store.listAllEnvs()) {
        if (stopped) return;
        await reconcileEnv(deps, ref).catch(onError);
      }
    } catch (err) {
      onError(err);
    }
  };
  const tick = () => {
    if (running || stopped) return;
    running = pass().finally(() => (running = undefined));
  };
  const timer = setInterval(tick, intervalMs);
  timer.unref();
  tick();
  return async () => {
    stopped = true;
    clearInterval(timer);
    await running;
  };
}
