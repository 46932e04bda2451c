// Finding a workload's processes from the host. Inside a sandbox a process knows only its pid in
// the instance's PID namespace, so tests look for it by its command line instead.
import { readdirSync, readFileSync } from 'node:fs';

/** Host pids of the living (not zombie) processes whose argv is exactly `argv`. */
export function pidsRunning(argv: string[]): number[] {
  const wanted = argv.join('\0') + '\0';
  const pids: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      if (readFileSync(`/proc/${entry}/cmdline`, 'utf8') !== wanted) continue;
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      const state = stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3);
      if (state !== 'Z' && state !== 'X') pids.push(Number(entry));
    } catch {
      // Gone between readdir and read.
    }
  }
  return pids;
}

/** A `sleep` nobody else runs: a unique duration names the process. */
export function uniqueSleep(): string[] {
  return ['sleep', String(30_000 + Math.floor(Math.random() * 60_000))];
}

/** Host pids of the living processes an instance started (they carry BERTH_INSTANCE_ID); Linux, as root or the same user. */
export function instancePids(instanceId: string): number[] {
  const marker = `BERTH_INSTANCE_ID=${instanceId}`;
  const pids: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      if (!readFileSync(`/proc/${entry}/environ`, 'utf8').split('\0').includes(marker)) continue;
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      const state = stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3);
      if (state !== 'Z' && state !== 'X') pids.push(Number(entry));
    } catch {
      // Gone between readdir and read, or not ours to read.
    }
  }
  return pids;
}
