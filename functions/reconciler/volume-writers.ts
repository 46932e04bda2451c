// The instances that write a volume: stopped for a restore or a consistent snapshot, and started
// again afterwards at the env's current release and scale (the same specs a rollout would use).
import { desiredWorkloads, isLive } from '../core/desired.ts';
import type { EnvRef } from '../core/ports.ts';
import { instanceSpec } from './instance-specs.ts';
import { loadEnv, type StepDeps } from './step-kit.ts';

/** The current release's workloads that mount `volume`, at the env's scale. */
async function writersOf(deps: StepDeps, ref: EnvRef, volume: string) {
  const env = await loadEnv(deps.store, ref);
  const release = env.currentReleaseId ? await deps.store.getRelease(ref, env.currentReleaseId) : undefined;
  if (!release) return { release, workloads: [] };
  return { release, workloads: desiredWorkloads(release, env.scale).filter((dw) => (dw.workload.volumes ?? []).some((m) => m.volume === volume)) };
}

/** Stops every instance that mounts `volume` (idempotent); resolves with their ids. */
export async function stopWriters(deps: StepDeps, ref: EnvRef, volume: string, operationId: string, step: string, why: string): Promise<string[]> {
  const { workloads } = await writersOf(deps, ref, volume);
  const names = new Set(workloads.map((w) => w.name));
  const ids = (await deps.compute.list(ref)).filter((i) => isLive(i) && names.has(i.workload)).map((i) => i.id);
  if (!ids.length) return [];
  for (const endpoint of await deps.endpoints.list(ref)) {
    if (endpoint.targets.some((t) => ids.includes(t.instance))) await deps.endpoints.setTargets(ref, endpoint.name, endpoint.targets.filter((t) => !ids.includes(t.instance)));
  }
  await deps.compute.stopInstances(ref, ids);
  await deps.events.record(ref, { type: 'instances.stopped', operationId, step, message: `stopped ${ids.join(', ')} (${why})` });
  return ids;
}

/** Starts the writers of `volume` back up to their desired count, waits until healthy, and routes traffic to them. */
export async function startWriters(deps: StepDeps, ref: EnvRef, volume: string, operationId: string, step: string): Promise<void> {
  const { release, workloads } = await writersOf(deps, ref, volume);
  if (!release) return;
  const started: string[] = [];
  for (const dw of workloads) {
    const running = (await deps.compute.list(ref)).filter((i) => isLive(i) && i.workload === dw.name && i.revision === dw.revision);
    const need = dw.count - running.length;
    if (need > 0) started.push(...(await deps.compute.startInstances(await instanceSpec(deps, ref, release, dw), need)));
  }
  if (!started.length) return;
  await deps.events.record(ref, { type: 'instances.starting', operationId, step, message: `starting ${started.join(', ')} (${release.id}) on volume ${volume}` });
  await deps.compute.waitHealthy(ref, started);
  const byId = new Map((await deps.compute.list(ref)).map((i) => [i.id, i]));
  for (const endpoint of await deps.endpoints.list(ref)) {
    const port = endpoint.endpoint.targetPort ?? endpoint.endpoint.port;
    const mine = started.map((id) => byId.get(id)).filter((i) => i && i.workload === endpoint.endpoint.workload && i.addresses[port]);
    if (mine.length) await deps.endpoints.setTargets(ref, endpoint.name, [...endpoint.targets, ...mine.map((i) => ({ instance: i!.id, ...i!.addresses[port] }))]);
  }
}
