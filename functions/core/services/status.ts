// Desired vs current, side by side: what `berth status` prints after every mutation.
import type { EndpointStatus, EnvStatus, WorkloadStatus } from '../../contract/responses.ts';
import type { EnvRef, InstanceStatus } from '../ports.ts';
import type { PlatformDeps } from './deps.ts';
import { WORKLOAD_DEFAULTS } from '../../contract/manifest.ts';
import { crashLoopOf } from '../crash-loop.ts';
import { desiredWorkloads } from '../desired.ts';
import { requireEnv } from './hierarchy.ts';
import { envLabel } from './deploys.ts';

export async function envStatus(deps: PlatformDeps, ref: EnvRef): Promise<EnvStatus> {
  const env = await requireEnv(deps.store, ref);
  const desired = env.desiredReleaseId ? await deps.store.getRelease(ref, env.desiredReleaseId) : undefined;
  const active = env.activeOperationId ? await deps.store.getOperation(ref, env.activeOperationId) : undefined;
  const last = env.lastOperationId ? (active?.id === env.lastOperationId ? active : await deps.store.getOperation(ref, env.lastOperationId)) : undefined;
  const instances = (await deps.compute.list(ref));
  const wanted = desired ? desiredWorkloads(desired, env.scale) : [];
  const workloadNames = [...new Set([...Object.keys(desired?.manifest.workloads ?? {}), ...instances.map((i) => i.workload)])].sort();
  const workloads: WorkloadStatus[] = workloadNames.map((name) => {
    const mine = instances.filter((i) => i.workload === name);
    const spec = wanted.find((d) => d.name === name);
    const range = env.scale?.[name] ?? {};
    return {
      name,
      desired: {
        count: spec?.count ?? 0,
        ...(range.min !== undefined ? { min: range.min } : {}),
        ...(range.max !== undefined ? { max: range.max } : {}),
        cpu: spec?.workload.cpu ?? WORKLOAD_DEFAULTS.cpu,
        memory: spec?.workload.memory ?? WORKLOAD_DEFAULTS.memory,
        releaseId: spec ? desired!.id : '-',
      },
      current: {
        running: mine.length,
        healthy: mine.filter((i) => i.state === 'healthy').length,
        upToDate: spec ? mine.filter((i) => i.revision === spec.revision).length : 0,
        releases: [...new Set(mine.map((i) => i.releaseId))].sort(),
      },
      instances: mine.map(({ id, state, releaseId, restarts, startedAt, lastExit }) => ({ id, state, releaseId, restarts, startedAt, lastExit })),
    };
  });
  const endpoints: EndpointStatus[] = (await deps.endpoints.list(ref)).map((e) => ({
    name: e.name,
    workload: e.endpoint.workload,
    listeners: e.binding.listeners,
    targets: e.targets.map((t) => t.instance),
    proxyProtocol: e.endpoint.proxyProtocol ?? null,
  }));
  const converged =
    !active &&
    env.desiredReleaseId === env.currentReleaseId &&
    workloads.every((w) => w.current.healthy === w.desired.count && w.current.running === w.desired.count && w.current.upToDate === w.desired.count && w.current.releases.every((r) => r === w.desired.releaseId));
  return {
    env: envLabel(ref),
    version: env.version,
    desiredReleaseId: env.desiredReleaseId ?? null,
    currentReleaseId: env.currentReleaseId ?? null,
    converged,
    activeOperation: active?.status === 'running' ? { id: active.id, kind: active.kind, step: active.step ?? null } : null,
    lastOperation: last ? { id: last.id, status: last.status, error: last.error ? { category: last.error.category, step: last.error.step, message: last.error.message } : null } : null,
    workloads,
    endpoints,
    ...(deps.isolation ? { isolation: deps.isolation } : {}),
    failing: failingOf(instances, env.currentReleaseId),
  };
}

function failingOf(instances: InstanceStatus[], releaseId: string | undefined): EnvStatus['failing'] {
  const loop = releaseId ? crashLoopOf(instances, releaseId, Date.now()) : undefined;
  return loop ? { releaseId: loop.releaseId, instances: loop.instances, restarts: loop.restarts, message: loop.message, next: loop.next } : null;
}
