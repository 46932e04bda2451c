// Per-env retention of the embedded log store: rotated files older than `maxAgeMs` go, then the
// oldest ones while the env's files together exceed `maxEnvBytes`. On AWS the same role is the
// log group's retention (infra/berth-props.ts: `logRetention`, 30 days by default); CloudWatch has
// no size cap, but one laptop disk does.
import { readdirSync, statSync, unlinkSync } from 'node:fs';
import path from 'node:path';
import { ACTIVE_FILE, segmentsOf } from './log-segment-writer.ts';

export interface RetentionLimits {
  maxEnvBytes: number;
  maxAgeMs: number;
  /** Room kept for the active file to grow into, so the total stays under maxEnvBytes. */
  maxFileBytes: number;
}

/**
 * Deletes what an env's log dir keeps beyond the limits; returns the names deleted. The active
 * file goes only when all of it is older than the age limit (its last write is), after
 * `releaseActive` closed it.
 */
export function applyRetention(dir: string, limits: RetentionLimits, now: number, releaseActive: () => boolean): string[] {
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw err;
  }
  const cutoff = now - limits.maxAgeMs;
  const stat = (name: string) => {
    try {
      return statSync(path.join(dir, name));
    } catch {
      return undefined;
    }
  };
  const deleted: string[] = [];
  const remove = (name: string) => {
    try {
      unlinkSync(path.join(dir, name));
      deleted.push(name);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
    }
  };
  // Oldest first: files are kept newest first until the size limit is reached.
  const files = segmentsOf(names).map(({ name }) => ({ name, st: stat(name) }));
  const active = names.includes(ACTIVE_FILE) ? stat(ACTIVE_FILE) : undefined;
  if (active && active.mtimeMs < cutoff && releaseActive()) remove(ACTIVE_FILE);
  let total = Math.max(limits.maxFileBytes, active && !deleted.includes(ACTIVE_FILE) ? active.size : 0);
  const kept: { name: string; size: number }[] = [];
  for (const f of files) {
    if (!f.st) continue;
    if (f.st.mtimeMs < cutoff) remove(f.name);
    else kept.push({ name: f.name, size: f.st.size });
  }
  total += kept.reduce((sum, f) => sum + f.size, 0);
  for (const f of kept) {
    if (total <= limits.maxEnvBytes) break;
    remove(f.name);
    total -= f.size;
  }
  return deleted;
}
