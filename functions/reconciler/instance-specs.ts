// Turns a desired workload of a release into what the compute driver needs to start instances:
// the unpacked snapshot, resolved config, decrypted secret bundles and volume directories.
import type { DesiredWorkload } from '../core/desired.ts';
import { NotFoundError } from '../core/errors.ts';
import type { Release } from '../core/model.ts';
import type { EnvRef, InstanceSpec } from '../core/ports.ts';
import type { StepDeps } from './step-kit.ts';

export async function instanceSpec(deps: StepDeps, env: EnvRef, release: Release, desired: DesiredWorkload): Promise<InstanceSpec> {
  const workdir = await deps.artifacts.unpack(release.artifactDigest);
  const config = release.configVersion > 0 ? await deps.store.getConfigVersion(env, release.configVersion) : undefined;
  const secretBundles: Record<string, Record<string, string>> = {};
  for (const [bundle, version] of Object.entries(release.secretVersions)) {
    const v = await deps.store.getSecretVersion(env, bundle, version);
    if (!v) throw new NotFoundError('secret-version-missing', `secret bundle ${bundle} version ${version} pinned by ${release.id} no longer exists`);
    secretBundles[bundle] = JSON.parse(await deps.cipher.decrypt(v.ciphertext));
  }
  const volumeDirs: Record<string, string> = {};
  for (const mount of desired.workload.volumes ?? []) {
    const volume = release.manifest.volumes?.[mount.volume];
    if (volume) volumeDirs[mount.volume] = (await deps.volumes.ensure(env, mount.volume, volume, desired.workload.user ? { user: desired.workload.user } : {})).dir;
  }
  return {
    env,
    releaseId: release.id,
    revision: desired.revision,
    workloadName: desired.name,
    workload: desired.workload,
    workdir,
    environment: { ...(desired.workload.env ?? {}), ...(config?.values ?? {}) },
    secretBundles,
    volumeDirs,
    ...(desired.singleWriter ? { singleWriter: desired.singleWriter } : {}),
  };
}
