// A deploy: validate, gate on config, create an immutable release, claim the env for one operation,
// start the rollout state machine and answer with a receipt at once.
import type { Manifest } from '../../contract/manifest.ts';
import { parseManifest } from '../../contract/parse-manifest.ts';
import type { DeployReceipt } from '../../contract/responses.ts';
import { assertNoMissingConfig, findMissingConfig } from '../config-gate.ts';
import { diffConfig, diffManifests, diffSecretVersions, type ReleaseDiff } from '../diff.ts';
import { BerthError, ConflictError, InvalidInputError, NotFoundError } from '../errors.ts';
import { operationId as newOperationId, releaseId as toReleaseId } from '../ids.ts';
import type { Env, Operation, Release } from '../model.ts';
import type { EnvRef } from '../ports.ts';
import type { Actor, PlatformDeps } from './deps.ts';
import { requireEnv } from './hierarchy.ts';

export interface DeployRequest {
  manifest: string;
  artifactDigest: string;
  dryRun?: boolean;
}

export const envLabel = (r: EnvRef): string => `${r.org}/${r.project}/${r.app}/${r.env}`;

export async function deploy(deps: PlatformDeps, ref: EnvRef, request: DeployRequest, actor: Actor): Promise<DeployReceipt> {
  const { store } = deps;
  let env = await requireEnv(store, ref);
  const manifest = parseManifest(request.manifest);
  if (manifest.app !== ref.app) {
    throw new InvalidInputError('manifest-app-mismatch', `berth.yaml declares app "${manifest.app}" but the deploy targets app "${ref.app}"`, {
      details: { path: 'app', value: manifest.app },
      next: [`berth deploy --app ${manifest.app}`, `or set \`app: ${ref.app}\` in berth.yaml`],
    });
  }
  if (!(await store.hasArtifactRef(ref.org, request.artifactDigest)) || !(await deps.artifacts.has(request.artifactDigest))) {
    throw new NotFoundError('artifact-not-found', `artifact ${request.artifactDigest} was not uploaded to org "${ref.org}"`, { next: ['berth deploy (uploads the snapshot first)'] });
  }

  const config = await store.latestConfig(ref);
  const bundles = await store.latestSecretVersions(ref);
  assertNoMissingConfig(findMissingConfig(manifest, new Set(Object.keys(config?.values ?? {})), new Set(Object.keys(bundles))), ref.env);

  const previous = env.currentReleaseId ? await store.getRelease(ref, env.currentReleaseId) : undefined;
  const previousConfig = previous && previous.configVersion > 0 ? await store.getConfigVersion(ref, previous.configVersion) : undefined;
  const secretVersions = Object.fromEntries(Object.values(bundles).map((b) => [b.bundle, b.version]));
  const diff: ReleaseDiff = {
    ...diffManifests(previous?.manifest, manifest),
    config: { from: previous?.configVersion ?? 0, to: config?.version ?? 0, keys: diffConfig(previousConfig?.values ?? {}, config?.values ?? {}) },
    secrets: diffSecretVersions(previous?.secretVersions ?? {}, secretVersions),
    artifact: { from: previous?.artifactDigest ?? null, to: request.artifactDigest },
  };
  const base = {
    env: envLabel(ref),
    previousReleaseId: previous?.id ?? null,
    artifactDigest: request.artifactDigest,
    configVersion: config?.version ?? 0,
    secretVersions,
    diff,
  };

  if (request.dryRun) {
    const latest = await store.latestRelease(ref);
    return { ...base, accepted: false, dryRun: true, operationId: null, releaseId: toReleaseId((latest?.seq ?? 0) + 1), next: ['berth deploy (without --dry-run) to apply'] };
  }

  const operationId = newOperationId();
  env = await claimEnv(deps, env, operationId);
  try {
    const release = await appendRelease(deps, ref, { manifest, artifactDigest: request.artifactDigest, configVersion: base.configVersion, secretVersions, operationId, actor });
    const op: Operation = {
      id: operationId,
      env: ref,
      kind: 'deploy',
      status: 'running',
      releaseId: release.id,
      previousReleaseId: previous?.id,
      createdAt: new Date().toISOString(),
      createdBy: actor.name,
    };
    await store.putOperation(op);
    env = await store.updateEnv(ref, env.version, { desiredReleaseId: release.id, activeOperationId: operationId });
    await deps.events.record(ref, { type: 'operation.accepted', operationId, message: `deploy ${operationId} accepted: ${release.id} (${request.artifactDigest.slice(0, 19)}…) by ${actor.name}` });
    await deps.orchestrator.start('deploy', operationId, {
      operation: { ...ref, operationId, releaseId: release.id, ...(previous ? { previousReleaseId: previous.id } : {}) },
    });
    return {
      ...base,
      accepted: true,
      dryRun: false,
      operationId,
      releaseId: release.id,
      next: [`berth wait ${operationId}`, `berth events --operation ${operationId} --follow`, 'berth status'],
    };
  } catch (err) {
    await abandon(deps, ref, operationId, err);
    throw err;
  }
}

/** One operation per env: take the env with a conditional write, or say who holds it. */
async function claimEnv(deps: PlatformDeps, env: Env, operationId: string): Promise<Env> {
  if (env.activeOperationId) {
    const holder = await deps.store.getOperation(env, env.activeOperationId);
    // A claim whose operation never got written (crash between the two writes) holds nothing.
    if (holder?.status === 'running') {
      throw new ConflictError('operation-in-progress', `env ${envLabel(env)} is busy with ${holder.kind} ${holder.id} (step ${holder.step ?? 'starting'}); one operation runs at a time`, {
        details: { operationId: holder.id },
        next: [`berth wait ${holder.id}`, `berth events --operation ${holder.id} --follow`],
      });
    }
  }
  return deps.store.updateEnv(env, env.version, { activeOperationId: operationId, lastOperationId: operationId });
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

async function abandon(deps: PlatformDeps, ref: EnvRef, operationId: string, err: unknown): Promise<void> {
  const env = await deps.store.getEnv(ref);
  if (env?.activeOperationId === operationId) {
    await deps.store.updateEnv(ref, env.version, { activeOperationId: undefined, desiredReleaseId: env.currentReleaseId }).catch(() => undefined);
  }
  const op = await deps.store.getOperation(ref, operationId);
  if (op?.status === 'running') {
    const e = err instanceof BerthError ? err : new BerthError('internal', 'start-failed', String((err as Error).message));
    await deps.store.updateOperation(ref, operationId, { status: 'failed', finishedAt: new Date().toISOString(), error: { category: e.category, code: e.code, message: e.message, step: 'Accept', next: [] } });
  }
}
