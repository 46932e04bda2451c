// Config (plain env vars) is an append-only list of full snapshots; the latest is current.
// A change is visible in the next deploy's receipt and takes effect only through a release.
import { configTooLarge, jsonBytes, MAX_CONFIG_BYTES } from '../../contract/size-limits.ts';
import { ConflictError, InvalidInputError } from '../errors.ts';
import type { ConfigVersion } from '../model.ts';
import type { EnvRef } from '../ports.ts';
import type { StateStore } from '../state-store.ts';
import type { Actor } from './deps.ts';
import { requireEnv } from './hierarchy.ts';

export async function currentConfig(store: StateStore, ref: EnvRef): Promise<ConfigVersion> {
  await requireEnv(store, ref);
  return (await store.latestConfig(ref)) ?? { version: 0, values: {}, set: [], unset: [], createdAt: '', createdBy: '' };
}

export async function changeConfig(store: StateStore, ref: EnvRef, change: { set?: Record<string, string>; unset?: string[] }, actor: Actor): Promise<ConfigVersion> {
  const set = change.set ?? {};
  const unset = change.unset ?? [];
  if (!Object.keys(set).length && !unset.length) {
    throw new InvalidInputError('config-empty-change', 'nothing to change: give KEY=VALUE pairs to set or keys to unset', { next: ['berth config set KEY=VALUE', 'berth config unset KEY'] });
  }
  // Two writers may race for the same next version; the loser re-reads and applies on top.
  for (let attempt = 0; attempt < 5; attempt++) {
    const latest = await currentConfig(store, ref);
    const values = { ...latest.values, ...set };
    for (const key of unset) delete values[key];
    const next: ConfigVersion = {
      version: latest.version + 1,
      values,
      set: Object.keys(set).sort(),
      unset: unset.filter((k) => k in latest.values).sort(),
      createdAt: new Date().toISOString(),
      createdBy: actor.name,
    };
    // The contract bounds one request; the merged version is what must fit the store's item.
    const bytes = jsonBytes(next);
    if (bytes > MAX_CONFIG_BYTES) {
      throw new InvalidInputError('config-too-large', configTooLarge(bytes, `the config of ${ref.env}`), {
        details: { limitBytes: MAX_CONFIG_BYTES, bytes },
        next: ['berth config list', 'berth config unset KEY'],
      });
    }
    try {
      await store.putConfigVersion(ref, next);
      return next;
    } catch (err) {
      if (!(err instanceof ConflictError)) throw err;
    }
  }
  throw new ConflictError('config-busy', 'config kept changing while this change was applied; try again');
}
