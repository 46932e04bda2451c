// The rolling replacement shared by `deploy` (new release) and `scale` (new count or size): batches
// of start → wait healthy → shift traffic → stop replaced, until every workload runs its desired
// revision at its desired count. Each step reads the actual instances, so a step can be repeated
// (retries, recovery) without starting or stopping twice. Compensation converges back to the
// previous desired state, in the reverse order of the forward steps.
import type { Endpoint } from '../contract/manifest.ts';
import type { ScaleSettings } from '../contract/api.ts';
import { desiredWorkloads, effectiveEndpoints, isLive as live, type DesiredWorkload } from '../core/desired.ts';
import type { Release } from '../core/model.ts';
import type { EndpointTarget, EnvRef, InstanceStatus } from '../core/ports.ts';
import { planBatch } from './batch-plan.ts';
import { instanceSpec } from './instance-specs.ts';
import { envOf, loadEnv, loadRelease, type OperationInput, type Step, type StepDeps } from './step-kit.ts';

const byStart = (a: InstanceStatus, b: InstanceStatus) => a.startedAt.localeCompare(b.startedAt);

/** Where the operation is going: its release at the env's current scale settings. */
async function forwardTarget(deps: StepDeps, op: OperationInput): Promise<{ release: Release; desired: DesiredWorkload[]; endpoints: Record<string, Endpoint> }> {
  const env = await loadEnv(deps.store, envOf(op));
  const release = await loadRelease(deps.store, envOf(op), op.releaseId);
  return { release, desired: desiredWorkloads(release, env.scale), endpoints: effectiveEndpoints(release, env) };
}

/** Where compensation returns to: the previous release at the scale settings from before. */
async function previousTarget(deps: StepDeps, op: OperationInput): Promise<{ release?: Release; desired: DesiredWorkload[]; endpoints: Record<string, Endpoint> }> {
  const ref = envOf(op);
  const record = await deps.store.getOperation(ref, op.operationId);
  const env = await loadEnv(deps.store, ref);
  const scale: Record<string, ScaleSettings> | undefined = record?.previousScale ?? env.scale;
  if (!op.previousReleaseId) return { desired: [], endpoints: {} };
  const release = await loadRelease(deps.store, ref, op.previousReleaseId);
  return { release, desired: desiredWorkloads(release, scale), endpoints: effectiveEndpoints(release, env) };
}

async function startMissing(deps: StepDeps, env: EnvRef, release: Release, dw: DesiredWorkload, running: InstanceStatus[], limit: number): Promise<string[]> {
  const need = Math.min(dw.count - running.length, limit);
  if (need <= 0) return [];
  return deps.compute.startInstances(await instanceSpec(deps, env, release, dw), need);
}

/** Makes the env's endpoints those of `manifest`, targeting `targetsOf(workload)`; optionally removes the rest. */
export async function pointEndpoints(deps: StepDeps, op: OperationInput, step: string, declared: Record<string, Endpoint>, targetsOf: (workload: string) => InstanceStatus[], removeOthers: boolean): Promise<void> {
  const env = envOf(op);
  for (const [name, endpoint] of Object.entries(declared)) {
    const binding = await deps.endpoints.ensure(env, name, endpoint);
    const port = endpoint.targetPort ?? endpoint.port;
    const targets: EndpointTarget[] = targetsOf(endpoint.workload).flatMap((i) => (i.addresses[port] ? [{ instance: i.id, ...i.addresses[port] }] : []));
    const before = (await deps.endpoints.list(env)).find((e) => e.name === name)?.targets.map((t) => t.instance).sort().join(',');
    await deps.endpoints.setTargets(env, name, targets);
    if (before !== targets.map((t) => t.instance).sort().join(',')) {
      const where = binding.listeners.map((l) => (l.family === 'IPv6' ? `[${l.address}]:${l.port}` : `${l.address}:${l.port}`)).join(' and ');
      await deps.events.record(env, { type: 'endpoint.updated', operationId: op.operationId, step, message: `endpoint ${name}: ${where} → ${targets.map((t) => t.instance).join(', ') || 'no instances'}` });
    }
  }
  if (!removeOthers) return;
  for (const existing of (await deps.endpoints.list(env))) {
    if (!(existing.name in declared)) {
      await deps.endpoints.remove(env, existing.name);
      await deps.events.record(env, { type: 'endpoint.removed', operationId: op.operationId, step, message: `endpoint ${existing.name} removed` });
    }
  }
}

/** Makes the env's listeners and targets match its effective endpoints and its current release. */
export async function convergeEndpoints(deps: StepDeps, op: OperationInput, step: string): Promise<void> {
  const ref = envOf(op);
  const env = await loadEnv(deps.store, ref);
  const release = env.currentReleaseId ? await deps.store.getRelease(ref, env.currentReleaseId) : undefined;
  const revisions = new Map((release ? desiredWorkloads(release, env.scale) : []).map((d) => [d.name, d.revision]));
  const healthy = (await deps.compute.list(ref)).filter((i) => i.state === 'healthy');
  await pointEndpoints(deps, op, step, effectiveEndpoints(release, env), (w) => healthy.filter((i) => i.workload === w && i.revision === revisions.get(w)), true);
}

async function stopInstances(deps: StepDeps, op: OperationInput, step: string, ids: string[], why: string): Promise<void> {
  if (!ids.length) return;
  const env = envOf(op);
  await deps.compute.stopInstances(env, ids);
  await deps.events.record(env, { type: 'instances.stopped', operationId: op.operationId, step, message: `stopped ${ids.join(', ')} (${why})` });
}

export function createRollingSteps(deps: StepDeps): Record<string, Step> {
  const { compute, events } = deps;
  return {
    async StartNextBatch({ operation: op }) {
      const env = envOf(op);
      const { release, desired } = await forwardTarget(deps, op);
      const all = (await compute.list(env)).filter(live);
      const waitFor: string[] = [];
      const plans = desired.map((dw) => {
        const mine = all.filter((i) => i.workload === dw.name && i.revision === dw.revision);
        const old = all.filter((i) => i.workload === dw.name && i.revision !== dw.revision);
        const healthy = (i: InstanceStatus) => ({ id: i.id, healthy: i.state === 'healthy' });
        return { dw, mine, plan: planBatch({ count: dw.count, ...dw.rollout, fresh: mine.map(healthy), old: old.sort(byStart).map(healthy) }) };
      });
      // maxSurge leaves no room: old instances leave traffic and stop before their replacements start.
      const stopFirst = plans.flatMap((p) => p.plan.stopFirst);
      if (stopFirst.length) {
        const gone = new Set(stopFirst);
        for (const endpoint of await deps.endpoints.list(env)) {
          if (endpoint.targets.some((t) => gone.has(t.instance))) await deps.endpoints.setTargets(env, endpoint.name, endpoint.targets.filter((t) => !gone.has(t.instance)));
        }
        const why = plans.filter((p) => p.plan.stopFirst.length).map((p) => (p.dw.singleWriter ? `single-writer volume ${p.dw.singleWriter}: the old instance stops before the new one starts` : `maxSurge ${p.dw.rollout.maxSurge}, maxUnavailable ${p.dw.rollout.maxUnavailable}`));
        await stopInstances(deps, op, 'StartNextBatch', stopFirst, why.join('; '));
      }
      for (const { dw, mine, plan } of plans) {
        const started = plan.start > 0 ? await deps.compute.startInstances(await instanceSpec(deps, env, release, dw), plan.start) : [];
        if (started.length) {
          await events.record(env, { type: 'instances.starting', operationId: op.operationId, step: 'StartNextBatch', workload: dw.name, message: `starting ${started.length} of ${dw.count} ${dw.name} instance${dw.count === 1 ? '' : 's'} (${release.id}): ${started.join(', ')}` });
        }
        // Instances of this revision that are not healthy yet are part of the batch too.
        waitFor.push(...started, ...mine.filter((i) => i.state !== 'healthy').map((i) => i.id));
      }
      return { instances: waitFor };
    },

    async WaitForBatchHealthy({ operation: op, instances = [] }) {
      if (!instances.length) return {};
      await compute.waitHealthy(envOf(op), instances);
      await events.record(envOf(op), { type: 'instances.healthy', operationId: op.operationId, step: 'WaitForBatchHealthy', message: `healthy: ${instances.join(', ')}` });
      return {};
    },

    async ShiftTrafficToBatch({ operation: op }) {
      const env = envOf(op);
      const { desired, endpoints } = await forwardTarget(deps, op);
      const all = (await compute.list(env)).filter(live);
      const keep = new Map<string, InstanceStatus[]>();
      const stop: string[] = [];
      let done = true;
      for (const dw of desired) {
        const mine = all.filter((i) => i.workload === dw.name);
        const fresh = mine.filter((i) => i.revision === dw.revision && i.state === 'healthy').sort(byStart);
        const keepNew = fresh.slice(0, dw.count);
        stop.push(...fresh.slice(dw.count).map((i) => i.id));
        // One old instance leaves for each new one that is healthy; StartNextBatch stops old ones
        // earlier only where maxSurge leaves no room, as far as maxUnavailable allows.
        const keepOldCount = Math.max(0, dw.count - keepNew.length);
        const old = mine.filter((i) => i.revision !== dw.revision).sort((a, b) => Number(b.state === 'healthy') - Number(a.state === 'healthy') || byStart(a, b));
        const keepOld = old.slice(0, keepOldCount);
        stop.push(...old.slice(keepOldCount).map((i) => i.id));
        keep.set(dw.name, [...keepNew, ...keepOld.filter((i) => i.state === 'healthy')]);
        if (keepNew.length < dw.count || keepOld.length > 0) done = false;
      }
      if (done) {
        // Workloads the release no longer declares go once everything else has converged.
        const names = new Set(desired.map((d) => d.name));
        stop.push(...all.filter((i) => !names.has(i.workload)).map((i) => i.id));
        // Instances that crashed before ever being healthy are not restarted: clear them away.
        stop.push(...(await compute.list(env)).filter((i) => i.state === 'crashed' && !i.restartScheduled).map((i) => i.id));
      }
      await pointEndpoints(deps, op, 'ShiftTrafficToBatch', endpoints, (w) => keep.get(w) ?? [], done);
      return { stop, done };
    },

    async StopReplacedInstances({ operation: op, stop = [] }) {
      await stopInstances(deps, op, 'StopReplacedInstances', stop, 'replaced; no traffic is sent to them');
      return {};
    },

    async CompensateRestartReplacedInstances({ operation: op }) {
      const env = envOf(op);
      const { release, desired } = await previousTarget(deps, op);
      if (!release) return {};
      const all = (await compute.list(env)).filter(live);
      const waitFor: string[] = [];
      for (const dw of desired) {
        const mine = all.filter((i) => i.workload === dw.name && i.revision === dw.revision);
        const started = await startMissing(deps, env, release, dw, mine, Infinity);
        if (started.length) {
          await events.record(env, { type: 'instances.starting', operationId: op.operationId, step: 'CompensateRestartReplacedInstances', workload: dw.name, message: `restarting ${started.length} ${dw.name} instance${started.length === 1 ? '' : 's'} of ${release.id}: ${started.join(', ')}` });
        }
        waitFor.push(...started, ...mine.filter((i) => i.state !== 'healthy').map((i) => i.id));
      }
      if (waitFor.length) await compute.waitHealthy(env, waitFor);
      return {};
    },

    async CompensateRestoreEndpointTargets({ operation: op }) {
      const env = envOf(op);
      const { desired, endpoints } = await previousTarget(deps, op);
      // Target only the instances CompensateStopNewInstances keeps (the oldest `count` of the previous
      // revision): a failed scale-up's surplus instances share that revision, are stopped next, and
      // must not stay behind as targets (their freed ports may go to another instance).
      const instances = await compute.list(env);
      const kept = new Map(desired.map((d) => [d.name, instances.filter((i) => live(i) && i.workload === d.name && i.revision === d.revision).sort(byStart).slice(0, d.count)]));
      await pointEndpoints(deps, op, 'CompensateRestoreEndpointTargets', endpoints, (w) => (kept.get(w) ?? []).filter((i) => i.state === 'healthy'), true);
      return {};
    },

    async CompensateStopNewInstances({ operation: op }) {
      const env = envOf(op);
      const { desired } = await previousTarget(deps, op);
      const keep = new Set(desired.map((d) => `${d.name}/${d.revision}`));
      // Crashed ones included: an instance that never became healthy is still there to inspect.
      const extra = (await compute.list(env)).filter((i) => i.state !== 'stopping' && i.state !== 'stopped' && !keep.has(`${i.workload}/${i.revision}`));
      // The previous desired count wins: surplus instances of the previous revision go too.
      for (const dw of desired) {
        const mine = (await compute.list(env)).filter((i) => live(i) && i.workload === dw.name && i.revision === dw.revision).sort(byStart);
        extra.push(...mine.slice(dw.count));
      }
      await stopInstances(deps, op, 'CompensateStopNewInstances', extra.map((i) => i.id), 'undoing the failed operation; their logs stay readable');
      return {};
    },
  };
}
