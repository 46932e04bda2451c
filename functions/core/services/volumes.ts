// Volumes of an env: create, resize, snapshot, delete, each a saga. Attaching is the manifest's
// job (`workloads.<w>.volumes`), so a volume outlives releases.
import { Volume as VolumeSchema, type Volume } from '../../contract/manifest.ts';
import type { VolumeReceipt, VolumeView } from '../../contract/responses.ts';
import { ConflictError, InvalidInputError, NotFoundError } from '../errors.ts';
import { ulid } from '../ids.ts';
import type { VolumeAction } from '../model.ts';
import type { EnvRef } from '../ports.ts';
import type { Actor, PlatformDeps } from './deps.ts';
import { requireEnv } from './hierarchy.ts';
import { envLabel, startOperation } from './operations.ts';

export type { VolumeView };

export async function listVolumes(deps: PlatformDeps, ref: EnvRef): Promise<VolumeView[]> {
  const env = await requireEnv(deps.store, ref);
  const release = env.currentReleaseId ? await deps.store.getRelease(ref, env.currentReleaseId) : undefined;
  return Object.entries(env.volumes ?? {})
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([name, v]) => ({
      name,
      ...v,
      attachedTo: Object.entries(release?.manifest.workloads ?? {}).flatMap(([workload, w]) => (w.volumes ?? []).filter((m) => m.volume === name).map((m) => ({ workload, path: m.path }))),
      placement: v.zone
        ? `One Zone volume in ${v.zone}: workloads that mount it run only in ${v.zone} (on AWS, that zone's subnet); if the zone is down, so are they`
        : 'Regional volume: mountable from every availability zone',
      operations: [`berth volumes resize ${name} --size <GiB>`, `berth volumes snapshot ${name} [--stop]`, `berth volumes snapshots ${name}`, `berth volumes restore ${name} --snapshot <id>`, `berth volumes delete ${name}`],
    }));
}

type Action = VolumeAction;

/** What a snapshot or a restore is asked to do beyond its name. */
export interface VolumeOptions {
  /** restore: the snapshot to restore; create: the snapshot (of any volume of the env) to start from. */
  snapshot?: string;
  /** snapshot: stop the writers first, for a copy no writer was changing. */
  stop?: boolean;
}

function refuseRestoreWhereUnsupported(deps: PlatformDeps, name: string, snapshot: string | undefined): void {
  if (deps.volumes.restoresSnapshots === false) {
    throw new InvalidInputError('restore-not-supported', `this platform's volume driver cannot restore snapshots (its swap-task settings are missing); restore the recovery point of ${snapshot} with AWS Backup instead`, { details: { volume: name, snapshot } });
  }
}

export async function changeVolume(deps: PlatformDeps, ref: EnvRef, name: string, action: Action, input: Partial<Volume>, actor: Actor, options: VolumeOptions = {}): Promise<VolumeReceipt> {
  const env = await requireEnv(deps.store, ref);
  const previous = env.volumes?.[name];
  if (action === 'create' && previous) throw new ConflictError('already-exists', `volume ${name} already exists`, { next: [`berth volumes show ${name}`] });
  if (action !== 'create' && !previous) throw new NotFoundError('volume-not-found', `volume ${name} does not exist in ${ref.env}`, { next: ['berth volumes list'] });
  let volume: Volume | undefined;
  if (action === 'create' || action === 'resize') {
    const parsed = VolumeSchema.safeParse({ ...(previous ? { sizeGiB: previous.sizeGiB, ...(previous.zone ? { zone: previous.zone } : {}) } : {}), ...input });
    if (!parsed.success) throw new InvalidInputError('volume-invalid', parsed.error.issues.map((i) => `${i.path.join('.') || 'volume'}: ${i.message}`).join('; '));
    volume = parsed.data;
    if (action === 'resize' && previous && volume.sizeGiB < previous.sizeGiB) {
      // EFS grows on demand and a directory has no size; shrinking below the data is never safe.
      throw new InvalidInputError('volume-shrink', `volume ${name} is ${previous.sizeGiB} GiB; it can grow but not shrink`, { details: { path: 'sizeGiB', value: volume.sizeGiB } });
    }
  }
  if (action === 'delete') {
    const release = env.currentReleaseId ? await deps.store.getRelease(ref, env.currentReleaseId) : undefined;
    const users = Object.entries(release?.manifest.workloads ?? {}).filter(([, w]) => (w.volumes ?? []).some((m) => m.volume === name)).map(([w]) => w);
    if (users.length) throw new ConflictError('volume-in-use', `volume ${name} is mounted by ${users.join(', ')} in ${release!.id}; remove the mount from berth.yaml and deploy first`, { next: ['berth deploy'] });
  }
  let fromVolume: string | undefined;
  if (action === 'create' && options.snapshot) {
    const source = Object.entries(env.volumes ?? {}).find(([, v]) => (v.snapshots ?? []).some((s) => s.id === options.snapshot));
    if (!source) {
      const all = Object.entries(env.volumes ?? {}).flatMap(([n, v]) => (v.snapshots ?? []).map((s) => `${s.id} (${n})`));
      throw new NotFoundError('snapshot-not-found', `no volume of ${ref.env} has a snapshot ${options.snapshot}; the env's snapshots: ${all.join(', ') || 'none'}`, {
        details: { path: 'fromSnapshot', value: options.snapshot },
        next: ['berth volumes list'],
      });
    }
    fromVolume = source[0];
    if (volume!.sizeGiB < source[1].sizeGiB) {
      throw new InvalidInputError('volume-too-small', `volume ${name} would be ${volume!.sizeGiB} GiB, smaller than ${fromVolume} (${source[1].sizeGiB} GiB) whose snapshot it starts from; use --size ${source[1].sizeGiB} or more`, {
        details: { path: 'sizeGiB', value: volume!.sizeGiB },
      });
    }
    refuseRestoreWhereUnsupported(deps, name, options.snapshot);
  }
  if (action === 'restore') {
    const known = previous!.snapshots ?? [];
    if (!options.snapshot || !known.some((s) => s.id === options.snapshot)) {
      throw new NotFoundError('snapshot-not-found', `volume ${name} has no snapshot ${options.snapshot ?? '(none given)'}; it has ${known.map((s) => s.id).join(', ') || 'none'}`, {
        details: { path: 'snapshot', value: options.snapshot ?? null },
        next: [`berth volumes snapshots ${name}`],
      });
    }
    refuseRestoreWhereUnsupported(deps, name, options.snapshot);
  }
  const snapshotId = action === 'snapshot' ? `snap-${ulid().slice(-10).toLowerCase()}` : action === 'restore' || fromVolume ? options.snapshot : undefined;
  const operationId = await startOperation(
    deps,
    env,
    {
      kind: 'volume',
      previousReleaseId: env.currentReleaseId,
      volumeChange: { name, action, ...(volume ? { volume } : {}), ...(previous ? { previous } : {}), ...(snapshotId ? { snapshotId } : {}), ...(fromVolume ? { fromVolume } : {}), ...(action === 'snapshot' && options.stop ? { stopWriters: true } : {}) },
      prepare: async (opId) => ({ releaseId: env.currentReleaseId ?? '', acceptedMessage: `volume ${opId} accepted: ${action} ${name}${snapshotId ? ` (${snapshotId})` : ''} by ${actor.name}` }),
    },
    actor,
  );
  const downtime = action === 'restore' || (action === 'snapshot' && options.stop) ? [`the workloads that mount ${name} stop until the ${action === 'restore' ? 'restore' : 'copy'} is done`] : [];
  return { accepted: true, env: envLabel(ref), operationId, name, action, volume: volume ?? null, snapshotId: snapshotId ?? null, ...(downtime.length ? { notes: downtime } : {}), next: [`berth wait ${operationId}`, `berth volumes show ${name}`] };
}
