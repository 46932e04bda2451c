// Scale: a workload's count (within min/max), cpu and memory, kept on the env across releases.
import type { ScaleSettings } from '../../contract/api.ts';
import type { ScaleReceipt } from '../../contract/responses.ts';
import { FARGATE_MEMORY, WORKLOAD_DEFAULTS } from '../../contract/manifest.ts';
import { effectiveWorkload, singleWriterVolume } from '../desired.ts';
import { InvalidInputError, NotFoundError } from '../errors.ts';
import type { EnvRef } from '../ports.ts';
import type { Actor, PlatformDeps } from './deps.ts';
import { requireEnv } from './hierarchy.ts';
import { envLabel, startOperation } from './operations.ts';

export type { ScaleReceipt };

export async function scale(deps: PlatformDeps, ref: EnvRef, request: { workload: string; settings: ScaleSettings }, actor: Actor): Promise<ScaleReceipt> {
  const env = await requireEnv(deps.store, ref);
  const release = env.currentReleaseId ? await deps.store.getRelease(ref, env.currentReleaseId) : undefined;
  if (!release) throw new NotFoundError('nothing-to-scale', `env ${ref.env} has no running release yet`, { next: ['berth deploy'] });
  const manifestWorkload = release.manifest.workloads[request.workload];
  if (!manifestWorkload) {
    throw new NotFoundError('workload-not-found', `workload "${request.workload}" is not in ${release.id}; it has ${Object.keys(release.manifest.workloads).join(', ')}`, { next: ['berth status'] });
  }
  const before = { ...(env.scale?.[request.workload] ?? {}) };
  const after = { ...before, ...request.settings };
  const effective = (s: ScaleSettings) => {
    const w = effectiveWorkload(manifestWorkload, s);
    return { ...s, count: w.count ?? WORKLOAD_DEFAULTS.count, cpu: w.cpu ?? WORKLOAD_DEFAULTS.cpu, memory: w.memory ?? WORKLOAD_DEFAULTS.memory };
  };
  const desired = effective(after);
  validate(desired, request.workload);
  const singleWriter = singleWriterVolume(manifestWorkload, release.manifest.volumes);
  if (singleWriter && (desired.count > 1 || (desired.max ?? 0) > 1)) {
    const field = desired.count > 1 ? 'count' : 'max';
    throw new InvalidInputError(
      'single-writer-volume',
      `${field} ${desired[field]} would run ${request.workload} more than once, but it mounts volume "${singleWriter}", which is single-writer (one instance at a time); set \`volumes.${singleWriter}.access: shared\` in berth.yaml and deploy if the app handles concurrent writers, or give each instance a volume of its own`,
      { details: { path: `settings.${field}`, value: desired[field], volume: singleWriter }, next: [`berth scale count 1 --workload ${request.workload}`] },
    );
  }
  const operationId = await startOperation(
    deps,
    env,
    {
      kind: 'scale',
      previousReleaseId: release.id,
      scaleChange: { workload: request.workload, settings: request.settings },
      prepare: async (opId) => ({ releaseId: release.id, acceptedMessage: `scale ${opId} accepted: ${request.workload} → count ${desired.count}, cpu ${desired.cpu}, memory ${desired.memory} by ${actor.name}` }),
    },
    actor,
  );
  const notes = singleWriter && (desired.cpu !== effective(before).cpu || desired.memory !== effective(before).memory) ? [downtimeNote(singleWriter)] : [];
  return { accepted: true, env: envLabel(ref), operationId, workload: request.workload, previous: effective(before), desired, ...(notes.length ? { notes } : {}), next: [`berth wait ${operationId}`, 'berth status'] };
}

function validate(s: ScaleSettings & { count: number; cpu: number; memory: number }, workload: string): void {
  const allowed = FARGATE_MEMORY[s.cpu];
  if (!allowed) throw new InvalidInputError('cpu-invalid', `cpu ${s.cpu} is not a Fargate size; use one of ${Object.keys(FARGATE_MEMORY).join(', ')}`, { details: { path: 'settings.cpu', value: s.cpu } });
  if (!allowed.includes(s.memory)) {
    throw new InvalidInputError('memory-invalid', `memory ${s.memory} MiB does not fit cpu ${s.cpu}; use one of ${allowed.join(', ')}`, { details: { path: 'settings.memory', value: s.memory }, next: [`berth scale vm --workload ${workload} --cpu ${s.cpu} --memory ${allowed[0]}`] });
  }
  if (s.min !== undefined && s.max !== undefined && s.min > s.max) throw new InvalidInputError('scale-range-invalid', `min ${s.min} is above max ${s.max}`, { details: { path: 'settings.min', value: s.min } });
  if (s.min !== undefined && s.count < s.min) throw new InvalidInputError('count-below-min', `count ${s.count} is below min ${s.min}; raise the count or lower min`, { details: { path: 'settings.count', value: s.count } });
  if (s.max !== undefined && s.count > s.max) throw new InvalidInputError('count-above-max', `count ${s.count} is above max ${s.max}; lower the count or raise max`, { details: { path: 'settings.count', value: s.count } });
}

/** What a receipt says when replacing an instance means stopping it first. */
export function downtimeNote(volume: string): string {
  return `brief downtime: single-writer volume ${volume} (the old instance stops before the new one starts)`;
}
