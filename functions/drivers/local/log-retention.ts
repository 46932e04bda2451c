// Per-env retention of the embedded log store, over all of the env's instance streams
// (log-streams.ts). The rule:
//   1. age: a file whose last write is older than `maxAgeMs` goes, a stream's active `app.log`
//      included (a stopped instance's stream ages out whole), once its writer released it;
//   2. size: while the env's files, plus room for one active file to grow, exceed `maxEnvBytes`,
//      the oldest rotated file of the stream holding the most bytes goes. An active file (each
//      stream's newest lines) is never deleted for size, so a flooding instance pays for its own
//      flood and a quiet sibling keeps its recent lines; the env can exceed the cap by at most
//      one active file per stream (each below `maxFileBytes`) until the age limit takes them.
// On AWS the same role is the log group's retention (infra/berth-props.ts: `logRetention`, 30 days
// by default); CloudWatch has no size cap, but one laptop disk does.
import { rmdirSync, statSync, unlinkSync } from 'node:fs';
import path from 'node:path';
import { ACTIVE_FILE, segmentsOf } from './log-segment-writer.ts';
import { safeReaddir, streamsOf } from './log-streams.ts';

export interface RetentionLimits {
  maxEnvBytes: number;
  maxAgeMs: number;
  /** Room kept for an active file to grow into, so the total stays under maxEnvBytes. */
  maxFileBytes: number;
}

interface StreamFiles {
  dir: string;
  /** Rotated files, oldest first. */
  rotated: { name: string; size: number }[];
  activeBytes: number;
  bytes: number;
}

/**
 * Deletes what an env's streams keep beyond the limits; returns the files deleted, relative to
 * `envDir`. `releaseActive(streamDir)` closes that stream's active file and says whether it may go
 * (not while lines are on their way to it: they make it young again).
 */
export function applyRetention(envDir: string, limits: RetentionLimits, now: number, releaseActive: (streamDir: string) => boolean): string[] {
  const cutoff = now - limits.maxAgeMs;
  const deleted: string[] = [];
  const remove = (dir: string, name: string): boolean => {
    try {
      unlinkSync(path.join(dir, name));
      deleted.push(path.relative(envDir, path.join(dir, name)));
      return true;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
      return false;
    }
  };

  const streams: StreamFiles[] = [];
  for (const { dir } of streamsOf(envDir)) {
    const names = safeReaddir(dir);
    const stream: StreamFiles = { dir, rotated: [], activeBytes: 0, bytes: 0 };
    const active = names.includes(ACTIVE_FILE) ? stat(path.join(dir, ACTIVE_FILE)) : undefined;
    if (active && !(active.mtimeMs < cutoff && releaseActive(dir) && remove(dir, ACTIVE_FILE))) stream.activeBytes = active.size;
    for (const { name } of segmentsOf(names)) {
      const st = stat(path.join(dir, name));
      if (!st) continue;
      if (st.mtimeMs < cutoff) remove(dir, name);
      else stream.rotated.push({ name, size: st.size });
    }
    stream.bytes = stream.activeBytes + stream.rotated.reduce((sum, f) => sum + f.size, 0);
    streams.push(stream);
  }

  let total = limits.maxFileBytes + streams.reduce((sum, s) => sum + s.bytes, 0);
  while (total > limits.maxEnvBytes) {
    // The biggest stream that still has a rotated file (ties: the first listed, the legacy one).
    let biggest: StreamFiles | undefined;
    for (const s of streams) if (s.rotated.length && (!biggest || s.bytes > biggest.bytes)) biggest = s;
    if (!biggest) break;
    const oldest = biggest.rotated.shift()!;
    remove(biggest.dir, oldest.name);
    biggest.bytes -= oldest.size;
    total -= oldest.size;
  }

  // A stream left without files (a stopped instance aged out) leaves no empty dirs behind.
  for (const s of streams) if (s.dir !== envDir) removeEmptyDirs(s.dir, envDir);
  return deleted;
}

function stat(file: string) {
  try {
    return statSync(file);
  } catch {
    return undefined;
  }
}

function removeEmptyDirs(dir: string, stopAt: string): void {
  for (let d = dir; d !== stopAt && d.startsWith(stopAt + path.sep); d = path.dirname(d)) {
    try {
      rmdirSync(d);
    } catch {
      // Not empty (a writer is using it, or a sibling stream lives there): that is the normal case.
      return;
    }
  }
}
