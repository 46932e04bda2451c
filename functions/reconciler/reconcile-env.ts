// The reconcile of one env: compare desired (the env's current release at its scale) with actual
// (instances, endpoint listeners and targets); on drift, start a `reconcile` operation that runs
// the deploy state machine onto the current release, which starts what is missing, stops what is
// extra and re-points the endpoints, with events. The embedded loop (reconcile-loop.ts) and the
// scheduled Lambda (lambda/reconcile.ts) both call it.
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

/**
 * What one look at an env found: `gone` (deleted), `idle` (nothing that can drift: no release yet,
 * destroyed or being destroyed), `busy` (an operation runs; it converges the env), `converged`, or
 * `reconciling` (drift found, `operationId` started to correct it, unless someone else's operation
 * took the env first).
 */
export type EnvCheck = { state: 'gone' | 'idle' | 'busy' | 'converged' | 'failing' } | { state: 'reconciling'; operationId?: string };

export async function checkEnv(deps: PlatformDeps, ref: EnvRef): Promise<EnvCheck> {
  const env = await deps.store.getEnv(ref);
  if (!env) return { state: 'gone' };
  if (!env.currentReleaseId || env.status === 'destroyed' || env.status === 'destroying') return { state: 'idle' };
  if (env.activeOperationId && (await deps.store.getOperation(ref, env.activeOperationId))?.status === 'running') return { state: 'busy' };
  const drift = await findDrift(deps, env);
  if (!drift.length) return { state: 'converged' };
  const releaseId = env.currentReleaseId;
  // The driver restarts crashed instances itself; a reconcile cannot fix the code, and holding the
  // env would only stand in the way of the rollback that can. Status shows the release as failing.
  if (crashLoopOf(await deps.compute.list(env), releaseId, Date.now())) return { state: 'failing' };
  await deps.events.record(ref, { type: 'drift.detected', message: `drift: ${drift.join('; ')}` });
  const operationId = await startOperation(
    deps,
    env,
    { kind: 'reconcile', previousReleaseId: releaseId, prepare: async (opId) => ({ releaseId, acceptedMessage: `reconcile ${opId} started: converging to ${releaseId} (${drift.join('; ')})` }) },
    RECONCILER,
  ).catch((err) => {
    // Someone else took the env first (a deploy): their operation converges it anyway.
    if ((err as { category?: string }).category === 'conflict') return undefined;
    throw err;
  });
  return { state: 'reconciling', operationId };
}

/** One look at an env; the id of the reconcile operation it started, if any. */
export async function reconcileEnv(deps: PlatformDeps, ref: EnvRef): Promise<string | undefined> {
  const check = await checkEnv(deps, ref);
  return check.state === 'reconciling' ? check.operationId : undefined;
}

