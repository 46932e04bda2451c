// `<instance dir>/process.json`: which process an instance runs as. It outlives a platform killed
// by SIGKILL, so the next start can find the instances that platform left running.
import { readFileSync, renameSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { hasProcfs, procStat } from './process-group.ts';

export interface ProcessRecord {
  pid: number;
  /** The instance's process group; the same as `pid`, since instances are spawned detached. */
  pgid: number;
  startedAt: string;
  /** The argv spawned. */
  command: string[];
  /**
   * `/proc/<pid>/stat` field 22 (clock ticks after boot) at spawn: with the pid it names exactly
   * one process, so a pid reused since cannot be mistaken for the instance. null without /proc.
   */
  procStartTime: number | null;
}

const FILE = 'process.json';

/** Records a process just spawned; call before any await, while its /proc entry surely exists. */
export function recordSpawn(instanceDir: string, pid: number, command: string[], startedAt: string): void {
  const procStartTime = hasProcfs() ? (procStat(pid)?.startTime ?? null) : null;
  writeProcessRecord(instanceDir, { pid, pgid: pid, startedAt, command, procStartTime });
}

function writeProcessRecord(instanceDir: string, record: ProcessRecord): void {
  // Written aside and renamed, so a platform killed mid-write leaves the old record or the new one.
  const temp = path.join(instanceDir, `.${FILE}.tmp`);
  writeFileSync(temp, JSON.stringify(record) + '\n', { mode: 0o600 });
  renameSync(temp, path.join(instanceDir, FILE));
}

/** The record in an instance dir; undefined when there is none (the process was never spawned). */
export function readProcessRecord(instanceDir: string): ProcessRecord | undefined {
  let text: string;
  try {
    text = readFileSync(path.join(instanceDir, FILE), 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
  let record: Partial<ProcessRecord>;
  try {
    record = JSON.parse(text) as Partial<ProcessRecord>;
  } catch (err) {
    // Not ours to interpret: a record we cannot read names no process we could safely signal.
    if (err instanceof SyntaxError) return undefined;
    throw err;
  }
  const { pid, pgid, procStartTime } = record;
  if (!Number.isInteger(pid) || !Number.isInteger(pgid) || (pid as number) <= 1 || (pgid as number) <= 1) return undefined;
  if (procStartTime !== null && !Number.isInteger(procStartTime)) return undefined;
  return record as ProcessRecord;
}
