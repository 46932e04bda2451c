// Deploy and rollback: validate, gate on config, create an immutable release (deploy) or pick an
// earlier one (rollback), then start the rollout operation and answer with a receipt at once.
import type { Manifest } from '../../contract/manifest.ts';
import { parseManifest } from '../../contract/parse-manifest.ts';
import type { DeployReceipt } from '../../contract/responses.ts';
import { assertNoMissingConfig, findMissingConfig } from '../config-gate.ts';
import { singleWriterVolume } from '../desired.ts';
import { diffConfig, diffManifests, diffSecretVersions, type ReleaseDiff } from '../diff.ts';
import { ConflictError, InvalidInputError, NotFoundError } from '../errors.ts';
import { releaseId as toReleaseId } from '../ids.ts';
import { ROLLBACK_WINDOW } from '../rollback-window.ts';
import type { Release } from '../model.ts';
import type { EnvRef } from '../ports.ts';
import type { Actor, PlatformDeps } from './deps.ts';
import { requireEnv } from './hierarchy.ts';
import { envLabel, startOperation } from './operations.ts';
import { downtimeNote } from './scale.ts';

export { envLabel };

export interface DeployRequest {
  manifest: string;
  /** The uploaded snapshot (embedded). */
  artifactDigest?: string;
  /** An image pinned by digest (AWS); every workload runs it. */
  image?: string;
  dryRun?: boolean;
}

export async function deploy(deps: PlatformDeps, ref: EnvRef, request: DeployRequest, actor: Actor): Promise<DeployReceipt> {
  const { store } = deps;
  const env = await requireEnv(store, ref);
  const parsed = parseManifest(request.manifest);
  if (parsed.app !== ref.app) {
    throw new InvalidInputError('manifest-app-mismatch', `berth.yaml declares app "${parsed.app}" but the deploy targets app "${ref.app}"`, {
      details: { path: 'app', value: parsed.app },
      next: [`berth deploy --app ${parsed.app}`, `or set \`app: ${ref.app}\` in berth.yaml`],
    });
  }
  const { manifest, artifactDigest } = await resolveArtifact(deps, ref, parsed, request);

  const config = await store.latestConfig(ref);
  const bundles = await store.latestSecretVersions(ref);
  assertNoMissingConfig(findMissingConfig(manifest, new Set(Object.keys(config?.values ?? {})), new Set(Object.keys(bundles))), ref.env);

  const previous = env.currentReleaseId ? await store.getRelease(ref, env.currentReleaseId) : undefined;
  const secretVersions = Object.fromEntries(Object.values(bundles).map((b) => [b.bundle, b.version]));
  const target = { manifest, artifactDigest, configVersion: config?.version ?? 0, secretVersions };
  const base = { env: envLabel(ref), previousReleaseId: previous?.id ?? null, artifactDigest, configVersion: target.configVersion, secretVersions, diff: await releaseDiff(deps, ref, previous, target), ...volumeNotes(manifest, previous !== undefined) };

  if (request.dryRun) {
    const latest = await store.latestRelease(ref);
    return { ...base, accepted: false, dryRun: true, operationId: null, releaseId: toReleaseId((latest?.seq ?? 0) + 1), next: ['berth deploy (without --dry-run) to apply'] };
  }

  let releaseId = '';
  const operationId = await startOperation(
    deps,
    env,
    {
      kind: 'deploy',
      previousReleaseId: previous?.id,
      prepare: async (opId) => {
        const release = await appendRelease(deps, ref, { ...target, operationId: opId, actor });
        releaseId = release.id;
        return { releaseId, acceptedMessage: `deploy ${opId} accepted: ${release.id} (${artifactDigest.slice(0, 19)}…) by ${actor.name}` };
      },
    },
    actor,
  );
  return { ...base, accepted: true, dryRun: false, operationId, releaseId, next: followUps(operationId) };
}

/** Points the env back at an earlier release: its code, config and secret versions, untouched. */
export async function rollback(deps: PlatformDeps, ref: EnvRef, request: { releaseId?: string }, actor: Actor): Promise<DeployReceipt> {
  const { store } = deps;
  const env = await requireEnv(store, ref);
  const current = env.currentReleaseId ? await store.getRelease(ref, env.currentReleaseId) : undefined;
  if (!current) throw new NotFoundError('nothing-to-roll-back', `env ${ref.env} has no running release to roll back from`, { next: ['berth releases', 'berth deploy'] });
  const target = request.releaseId ? await store.getRelease(ref, request.releaseId) : await previousGood(deps, ref, current);
  if (!target) {
    throw new NotFoundError('release-not-found', request.releaseId ? `release ${request.releaseId} does not exist in ${ref.env}` : `no earlier release of ${ref.env} ever went live`, { next: ['berth releases'] });
  }
  if (target.id === current.id) throw new InvalidInputError('already-current', `${target.id} is already the running release of ${ref.env}`, { next: ['berth releases'] });
  if (target.status === 'failed' || target.status === 'pending') {
    throw new InvalidInputError('release-never-live', `${target.id} never went live (status ${target.status}); roll back to a release that did`, { next: ['berth releases'] });
  }
  // Releases beyond the rollback window lose their snapshot to the garbage collector.
  if (deps.artifacts.kind === 'snapshot' && !(await deps.artifacts.has(target.artifactDigest))) {
    throw new NotFoundError('release-artifact-collected', `the snapshot of ${target.id} (${target.artifactDigest}) is no longer stored: only the latest ${ROLLBACK_WINDOW} releases of an env keep theirs; deploy that code again from source instead`, {
      details: { releaseId: target.id, artifactDigest: target.artifactDigest, rollbackWindow: ROLLBACK_WINDOW },
      next: ['berth releases', 'berth deploy'],
    });
  }
  const diff = await releaseDiff(deps, ref, current, target);
  const operationId = await startOperation(
    deps,
    env,
    { kind: 'rollback', previousReleaseId: current.id, prepare: async (opId) => ({ releaseId: target.id, acceptedMessage: `rollback ${opId} accepted: ${current.id} → ${target.id} (code, config v${target.configVersion} and secret versions of ${target.id}) by ${actor.name}` }) },
    actor,
  );
  return {
    accepted: true,
    dryRun: false,
    env: envLabel(ref),
    operationId,
    releaseId: target.id,
    previousReleaseId: current.id,
    artifactDigest: target.artifactDigest,
    configVersion: target.configVersion,
    secretVersions: target.secretVersions,
    diff,
    ...volumeNotes(target.manifest, true),
    next: followUps(operationId),
  };
}

/** What a rollout means for the volumes the release's workloads mount, said on the receipt. */
function volumeNotes(manifest: Manifest, replacing: boolean): { notes?: string[] } {
  const notes: string[] = [];
  for (const [name, w] of Object.entries(manifest.workloads)) {
    const singleWriter = singleWriterVolume(w, manifest.volumes);
    if (singleWriter && replacing) notes.push(`${name}: ${downtimeNote(singleWriter)}`);
    for (const mount of w.volumes ?? []) {
      if (manifest.volumes?.[mount.volume]?.access === 'shared') notes.push(`${name}: volume ${mount.volume} is shared: several instances (and old and new ones during a rollout) write to it at once; the app must handle concurrent writers`);
    }
  }
  return notes.length ? { notes } : {};
}

/**
 * What the release runs. Embedded: an uploaded snapshot of the app directory. AWS: an image pinned
 * by digest, written into every workload of the release's manifest so the release says exactly what
 * runs. The platform accepts only the kind its compute can run, and says so.
 */
async function resolveArtifact(deps: PlatformDeps, ref: EnvRef, manifest: Manifest, request: DeployRequest): Promise<{ manifest: Manifest; artifactDigest: string }> {
  if (deps.artifacts.kind === 'image') {
    if (!request.image) {
      throw new InvalidInputError('image-required', 'this platform runs on AWS, where a release is an image pinned by digest; no snapshot can be uploaded', {
        details: { path: 'image' },
        next: ['docker push <repository>:<tag>, then: berth deploy --image <repository>@sha256:<digest>'],
      });
    }
    const digest = request.image.slice(request.image.indexOf('@') + 1);
    const workloads = Object.fromEntries(Object.entries(manifest.workloads).map(([name, w]) => [name, { ...w, image: request.image! }]));
    return { manifest: { ...manifest, workloads }, artifactDigest: digest };
  }
  if (request.image) {
    throw new InvalidInputError('image-unsupported-embedded', 'the embedded platform runs each workload\'s command in a snapshot of the app directory, not images', {
      details: { path: 'image', value: request.image },
      next: ['berth deploy (without --image)'],
    });
  }
  const digest = request.artifactDigest;
  if (!digest) throw new InvalidInputError('artifact-required', 'give the digest of an uploaded snapshot (artifactDigest)', { details: { path: 'artifactDigest' }, next: ['berth deploy'] });
  if (!(await deps.store.hasArtifactRef(ref.org, digest)) || !(await deps.artifacts.has(digest))) {
    throw new NotFoundError('artifact-not-found', `artifact ${digest} was not uploaded to org "${ref.org}"`, { next: ['berth deploy (uploads the snapshot first)'] });
  }
  return { manifest, artifactDigest: digest };
}

const followUps = (operationId: string) => [`berth wait ${operationId}`, `berth events --operation ${operationId} --follow`, 'berth status'];

async function previousGood(deps: PlatformDeps, ref: EnvRef, current: Release): Promise<Release | undefined> {
  const releases = await deps.store.listReleases(ref, ROLLBACK_WINDOW);
  return releases.find((r) => r.seq < current.seq && (r.status === 'superseded' || r.status === 'active'));
}

async function releaseDiff(
  deps: PlatformDeps,
  ref: EnvRef,
  from: Release | undefined,
  to: { manifest: Manifest; artifactDigest: string; configVersion: number; secretVersions: Record<string, number> },
): Promise<ReleaseDiff> {
  const config = async (v: number | undefined) => (v ? ((await deps.store.getConfigVersion(ref, v))?.values ?? {}) : {});
  return {
    ...diffManifests(from?.manifest, to.manifest),
    config: { from: from?.configVersion ?? 0, to: to.configVersion, keys: diffConfig(await config(from?.configVersion), await config(to.configVersion)) },
    secrets: diffSecretVersions(from?.secretVersions ?? {}, to.secretVersions),
    artifact: { from: from?.artifactDigest ?? null, to: to.artifactDigest },
  };
}

async function appendRelease(
  deps: PlatformDeps,
  ref: EnvRef,
  r: { manifest: Manifest; artifactDigest: string; configVersion: number; secretVersions: Record<string, number>; operationId: string; actor: Actor },
): Promise<Release> {
  // The env is claimed, so only a number left over by an abandoned attempt can be taken: skip it.
  for (let attempt = 0; attempt < 5; attempt++) {
    const seq = ((await deps.store.latestRelease(ref))?.seq ?? 0) + 1;
    const release: Release = {
      id: toReleaseId(seq),
      seq,
      env: ref,
      artifactDigest: r.artifactDigest,
      manifest: r.manifest,
      configVersion: r.configVersion,
      secretVersions: r.secretVersions,
      createdAt: new Date().toISOString(),
      createdBy: r.actor.name,
      operationId: r.operationId,
      status: 'pending',
    };
    try {
      await deps.store.putRelease(release);
      return release;
    } catch (err) {
      if (!(err instanceof ConflictError)) throw err;
    }
  }
  throw new ConflictError('release-number-taken', 'could not allocate a release number; try again');
}
