// Signalling and watching an instance's process group. Every instance runs in a group of its own
// (spawned detached), so one signal reaches a `/bin/sh -c` command and everything it started.
import { readdirSync, readFileSync } from 'node:fs';
import { withTimeout } from './with-timeout.ts';

// After SIGKILL, processes leave within milliseconds; this only bounds a wait that cannot succeed.
const KILL_WAIT_MS = 2000;

/**
 * SIGTERM to the group, SIGKILL once `graceMs` is over; resolves with how it ended. `exited`
 * settles when the leader has exited (an orphan's leader is not our child: pass a settled promise).
 */
export async function terminateGroup(pgid: number, exited: Promise<void>, graceMs: number): Promise<string> {
  signalGroup(pgid, 'SIGTERM');
  if (await groupGone(pgid, exited, Date.now() + graceMs)) return 'SIGTERM';
  signalGroup(pgid, 'SIGKILL');
  await groupGone(pgid, exited, Date.now() + KILL_WAIT_MS);
  return `SIGKILL after ${graceMs / 1000}s grace`;
}

export function signalGroup(pgid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pgid, signal);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ESRCH') throw err;
  }
}

/** Waits until the group leader has exited and no live member remains; false at the deadline. */
async function groupGone(pgid: number, exited: Promise<void>, deadline: number): Promise<boolean> {
  if (!(await withTimeout(exited, deadline - Date.now()))) return false;
  while (groupAlive(pgid)) {
    if (Date.now() >= deadline) return false;
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
  return true;
}

function groupAlive(pgid: number): boolean {
  try {
    process.kill(-pgid, 0);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ESRCH') return false;
    if (code === 'EPERM') return true;
    throw err;
  }
  // kill(2) still finds zombies, and where PID 1 does not reap orphans (minimal container inits)
  // an exited child of the shell stays a zombie forever; only living members count.
  return process.platform === 'linux' ? livingMembers(pgid).length > 0 : true;
}

/** Linux only: the pids of the group's members that are not zombies. */
export function livingMembers(pgid: number): number[] {
  const members: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const stat = procStat(Number(entry));
    if (stat && stat.pgrp === pgid && stat.state !== 'Z' && stat.state !== 'X') members.push(Number(entry));
  }
  return members;
}

export interface ProcStat {
  state: string;
  pgrp: number;
  /** Field 22: clock ticks after boot at which the process started; with the pid, it names one process. */
  startTime: number;
}

/** Linux only: the parts of `/proc/<pid>/stat` we use; undefined when there is no such process. */
export function procStat(pid: number): ProcStat | undefined {
  let stat: string;
  try {
    stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch (err) {
    // No such process, or it left between readdir and read.
    if ((err as NodeJS.ErrnoException).code === 'ENOENT' || (err as NodeJS.ErrnoException).code === 'ESRCH') return undefined;
    throw err;
  }
  // `pid (comm) state ppid pgrp …`; comm may hold spaces and parentheses, so split after the last `)`.
  // The rest starts at field 3, so field n is at index n - 3.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return { state: fields[0], pgrp: Number(fields[2]), startTime: Number(fields[19]) };
}

/** True where `/proc` describes processes (Linux); elsewhere no process can be identified. */
export function hasProcfs(): boolean {
  if (process.platform !== 'linux') return false;
  try {
    readFileSync('/proc/self/stat');
    return true;
  } catch (err) {
    // Not mounted (some containers and sandboxes).
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return false;
    throw err;
  }
}
