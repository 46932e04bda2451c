// Secret bundles: each change appends an encrypted version. Values go in and never come out of
// the API; only names, key names, versions, digests and who changed them.
import { MAX_SECRET_BUNDLE_BYTES, secretBundleBytes, secretBundleTooLarge } from '../../contract/size-limits.ts';
import { ConflictError, InvalidInputError } from '../errors.ts';
import type { SecretBundleSummary } from '../../contract/responses.ts';
import type { SecretBundleVersion } from '../model.ts';
import type { EnvRef, SecretCipher } from '../ports.ts';
import type { StateStore } from '../state-store.ts';
import type { Actor } from './deps.ts';
import { requireEnv } from './hierarchy.ts';

export function summarize(v: SecretBundleVersion): SecretBundleSummary {
  return { bundle: v.bundle, version: v.version, keys: v.keys, digest: v.digest, updatedAt: v.createdAt, updatedBy: v.createdBy };
}

export async function listSecretBundles(store: StateStore, ref: EnvRef): Promise<SecretBundleSummary[]> {
  await requireEnv(store, ref);
  return Object.values(await store.latestSecretVersions(ref)).map(summarize);
}

/** Merges `values` into the bundle (or replaces it with `replace`), creating a new version. */
export async function setSecrets(
  store: StateStore,
  cipher: SecretCipher,
  ref: EnvRef,
  bundle: string,
  change: { values: Record<string, string>; unset?: string[]; replace?: boolean },
  actor: Actor,
): Promise<SecretBundleSummary> {
  if (!Object.keys(change.values).length && !change.unset?.length) {
    throw new InvalidInputError('secrets-empty-change', `nothing to change in bundle "${bundle}": give KEY=VALUE pairs`, { next: [`berth secrets set ${bundle} KEY=VALUE`] });
  }
  await requireEnv(store, ref);
  for (let attempt = 0; attempt < 5; attempt++) {
    const latest = (await store.latestSecretVersions(ref))[bundle];
    const values: Record<string, string> = change.replace || !latest ? {} : JSON.parse(await cipher.decrypt(latest.ciphertext));
    Object.assign(values, change.values);
    for (const key of change.unset ?? []) delete values[key];
    // The contract bounds one request; the merged bundle is what must fit one secret.
    const bytes = secretBundleBytes(values);
    if (bytes > MAX_SECRET_BUNDLE_BYTES) {
      throw new InvalidInputError('secret-bundle-too-large', secretBundleTooLarge(bytes, `secret bundle "${bundle}"`), {
        details: { limitBytes: MAX_SECRET_BUNDLE_BYTES, bytes },
        next: [`berth secrets set ${bundle} --replace KEY=VALUE …`, 'berth secrets set <another-bundle> KEY=VALUE'],
      });
    }
    const canonical = JSON.stringify(Object.fromEntries(Object.entries(values).sort(([a], [b]) => a.localeCompare(b))));
    const next: SecretBundleVersion = {
      bundle,
      version: (latest?.version ?? 0) + 1,
      keys: Object.keys(values).sort(),
      digest: await cipher.digest(canonical),
      ciphertext: await cipher.encrypt(canonical),
      createdAt: new Date().toISOString(),
      createdBy: actor.name,
    };
    try {
      await store.putSecretVersion(ref, next);
      return summarize(next);
    } catch (err) {
      if (!(err instanceof ConflictError)) throw err;
    }
  }
  throw new ConflictError('secrets-busy', `secret bundle "${bundle}" kept changing while this change was applied; try again`);
}
