// Desired state per workload = the release's manifest overlaid by the env's scale settings.
// A workload's *revision* names what its instances run (release + every setting that needs a
// restart to change); count is not part of it, so scaling the count touches no running instance.
import { createHash } from 'node:crypto';
import { ROLLOUT_DEFAULTS, VOLUME_DEFAULTS, WORKLOAD_DEFAULTS, type Endpoint, type Volume, type Workload } from '../contract/manifest.ts';
import type { ScaleSettings } from '../contract/api.ts';
import type { Env, Release } from './model.ts';
import type { InstanceStatus } from './ports.ts';

export interface DesiredWorkload {
  name: string;
  workload: Workload;
  count: number;
  revision: string;
  /** How its rollouts go; a workload on a single-writer volume stops the old instance first. */
  rollout: { maxSurge: number; maxUnavailable: number };
  /** The single-writer volume it mounts, if any: it runs at most one instance. */
  singleWriter?: string;
}

/** The first volume `w` mounts that only one instance may write at a time (the default access). */
export function singleWriterVolume(w: Pick<Workload, 'volumes'>, volumes: Record<string, Volume> = {}): string | undefined {
  return (w.volumes ?? []).find((m) => (volumes[m.volume]?.access ?? VOLUME_DEFAULTS.access) === 'single-writer')?.volume;
}

/** Counts toward a workload's instances: running, starting, or crashed with a restart coming. */
export const isLive = (i: InstanceStatus): boolean => i.state !== 'stopping' && i.state !== 'stopped' && !(i.state === 'crashed' && !i.restartScheduled);

export function effectiveWorkload(w: Workload, scale?: ScaleSettings): Workload {
  return {
    ...w,
    ...(scale?.cpu !== undefined ? { cpu: scale.cpu } : {}),
    ...(scale?.memory !== undefined ? { memory: scale.memory } : {}),
    ...(scale?.count !== undefined ? { count: scale.count } : {}),
  };
}

export function workloadRevision(releaseId: string, w: Workload): string {
  const { count: _count, ...restartRelevant } = w;
  const hash = createHash('sha256').update(JSON.stringify([releaseId, restartRelevant])).digest('hex').slice(0, 8);
  return `${releaseId}.${hash}`;
}

/**
 * The env's endpoints: the release's, plus those created through the API (`berth endpoints
 * create`), which outlive releases. Only endpoints whose workload the release runs are kept.
 */
export function effectiveEndpoints(release: Release | undefined, env: Pick<Env, 'endpoints'>): Record<string, Endpoint> {
  if (!release) return {};
  const extra = Object.fromEntries(Object.entries(env.endpoints ?? {}).filter(([, e]) => e.workload in release.manifest.workloads));
  return { ...extra, ...(release.manifest.endpoints ?? {}) };
}

export function desiredWorkloads(release: Release, scale: Record<string, ScaleSettings> = {}): DesiredWorkload[] {
  return Object.entries(release.manifest.workloads).map(([name, manifestWorkload]) => {
    const workload = effectiveWorkload(manifestWorkload, scale[name]);
    const singleWriter = singleWriterVolume(workload, release.manifest.volumes);
    const rollout = singleWriter
      ? { maxSurge: 0, maxUnavailable: 1 }
      : { maxSurge: workload.rollout?.maxSurge ?? ROLLOUT_DEFAULTS.maxSurge, maxUnavailable: workload.rollout?.maxUnavailable ?? ROLLOUT_DEFAULTS.maxUnavailable };
    return { name, workload, count: workload.count ?? WORKLOAD_DEFAULTS.count, revision: workloadRevision(release.id, workload), rollout, ...(singleWriter ? { singleWriter } : {}) };
  });
}
