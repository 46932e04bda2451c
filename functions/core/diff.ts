// What a release changes relative to the one the env runs now: the body of a deploy receipt.
import type { Manifest } from '../contract/manifest.ts';
import type { ChangeSet, ReleaseDiff } from '../contract/responses.ts';

export type { ChangeSet, ReleaseDiff };

export function diffRecords<T extends object>(before: Record<string, T> = {}, after: Record<string, T> = {}): ChangeSet {
  const added = Object.keys(after).filter((k) => !(k in before)).sort();
  const removed = Object.keys(before).filter((k) => !(k in after)).sort();
  const changed = Object.keys(after)
    .filter((k) => k in before)
    .sort()
    .map((name) => ({ name, fields: changedFields(before[name] as Record<string, unknown>, after[name] as Record<string, unknown>) }))
    .filter((c) => c.fields.length > 0);
  return { added, changed, removed };
}

function changedFields(a: Record<string, unknown>, b: Record<string, unknown>): string[] {
  const keys = new Set([...Object.keys(a), ...Object.keys(b)]);
  return [...keys].filter((k) => JSON.stringify(a[k]) !== JSON.stringify(b[k])).sort();
}

export function diffConfig(before: Record<string, string>, after: Record<string, string>): string[] {
  const keys = new Set([...Object.keys(before), ...Object.keys(after)]);
  return [...keys].filter((k) => before[k] !== after[k]).sort();
}

export function diffManifests(before: Manifest | undefined, after: Manifest): Pick<ReleaseDiff, 'workloads' | 'endpoints' | 'volumes'> {
  return {
    workloads: diffRecords(before?.workloads, after.workloads),
    endpoints: diffRecords(before?.endpoints, after.endpoints),
    volumes: diffRecords(before?.volumes, after.volumes),
  };
}

export function diffSecretVersions(before: Record<string, number>, after: Record<string, number>): ReleaseDiff['secrets'] {
  const names = [...new Set([...Object.keys(before), ...Object.keys(after)])].sort();
  return names.filter((n) => before[n] !== after[n]).map((bundle) => ({ bundle, from: before[bundle] ?? null, to: after[bundle] ?? null }));
}
