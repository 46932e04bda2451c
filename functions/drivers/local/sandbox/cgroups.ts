// Resource limits for one run of an instance, as a cgroup of its own: memory as a hard limit (the
// kernel's OOM killer ends the instance past it, as Fargate does), cpu as a weight (a fair share
// when cores are contended, not a cap on an idle machine), and a bound on the number of tasks so a
// fork bomb stays inside its instance. cgroup v1 (one hierarchy per controller) and v2 (one
// unified tree) are both handled: https://docs.kernel.org/admin-guide/cgroup-v2.html,
// https://docs.kernel.org/admin-guide/cgroup-v1/memory.html
import { accessSync, constants, existsSync, mkdirSync, readdirSync, readFileSync, rmdirSync, writeFileSync } from 'node:fs';
import { createHash } from 'node:crypto';
import path from 'node:path';

const ROOT = '/sys/fs/cgroup';
const GROUP = 'berth';
// Threads count as tasks; a Node server starts about a dozen, a database server a few dozen.
const PIDS_MAX = 512;

export interface CgroupSupport {
  readonly version: 1 | 2;
  /** The controllers limits are set with, e.g. ['memory', 'cpu', 'pids']. */
  readonly controllers: string[];
}

export interface InstanceLimits {
  memoryMiB: number;
  /** Fargate cpu units: 1024 is one vCPU. */
  cpu: number;
}

/**
 * Which cgroup controllers this process can create groups under: only root can (unprivileged
 * users get no delegation on a plain system). Undefined when limits cannot be enforced.
 */
export function detectCgroups(): CgroupSupport | undefined {
  if (process.platform !== 'linux' || process.getuid?.() !== 0) return undefined;
  if (existsSync(path.join(ROOT, 'cgroup.controllers'))) {
    const available = readFileSync(path.join(ROOT, 'cgroup.controllers'), 'utf8').trim().split(/\s+/);
    const controllers = ['memory', 'cpu', 'pids'].filter((c) => available.includes(c));
    return controllers.includes('memory') && writable(ROOT) ? { version: 2, controllers } : undefined;
  }
  const controllers = ['memory', 'cpu', 'pids'].filter((c) => writable(path.join(ROOT, c)));
  return controllers.includes('memory') ? { version: 1, controllers } : undefined;
}

function writable(dir: string): boolean {
  try {
    accessSync(dir, constants.W_OK);
    return true;
  } catch {
    return false;
  }
}

/**
 * The subtree of one platform (one data dir): several platforms on a machine (the test suite runs
 * many at once) each sweep only the groups their own killed predecessor left.
 */
export function cgroupScope(dataDir: string): string {
  return `p-${createHash('sha256').update(path.resolve(dataDir)).digest('hex').slice(0, 12)}`;
}

/** One run's cgroup(s): created with the limits set, joined by the launcher, removed after exit. */
export class InstanceCgroup {
  private constructor(
    private readonly support: CgroupSupport,
    private readonly dirs: Record<string, string>,
  ) {}

  /** `scope`: the platform's own subtree (cgroupScope), so that one platform never sweeps another's groups. */
  static create(support: CgroupSupport, scope: string, name: string, limits: InstanceLimits): InstanceCgroup {
    const dirs: Record<string, string> = {};
    if (support.version === 2) {
      const parent = path.join(ROOT, GROUP, scope);
      const enable = support.controllers.map((c) => `+${c}`).join(' ');
      // A v2 group's children get a controller only once every ancestor enables it for them.
      writeFileSync(path.join(ROOT, 'cgroup.subtree_control'), enable);
      mkdirSync(parent, { recursive: true });
      writeFileSync(path.join(ROOT, GROUP, 'cgroup.subtree_control'), enable);
      writeFileSync(path.join(parent, 'cgroup.subtree_control'), enable);
      const dir = path.join(parent, name);
      mkdirSync(dir, { recursive: true });
      for (const c of support.controllers) dirs[c] = dir;
    } else {
      for (const c of support.controllers) {
        dirs[c] = path.join(ROOT, c, GROUP, scope, name);
        mkdirSync(dirs[c], { recursive: true });
      }
    }
    const group = new InstanceCgroup(support, dirs);
    group.limit(limits);
    return group;
  }

  /** The files the launcher writes its pid to, before it starts anything. */
  procsFiles(): string[] {
    return [...new Set(Object.values(this.dirs))].map((dir) => path.join(dir, 'cgroup.procs'));
  }

  /** True once the kernel killed a process of this group for going over its memory limit. */
  memoryExceeded(): boolean {
    const dir = this.dirs.memory;
    const file = this.support.version === 2 ? 'memory.events' : 'memory.oom_control';
    const text = readIfPresent(path.join(dir, file));
    const kills = /^oom_kill (\d+)$/m.exec(text ?? '');
    return kills !== null && Number(kills[1]) > 0;
  }

  /** Removes the group; its processes are gone by then (the PID namespace ended with its init). */
  remove(): void {
    for (const dir of new Set(Object.values(this.dirs))) {
      try {
        rmdirSync(dir);
      } catch (err) {
        // Already removed, or a task is still exiting: the next platform start sweeps it.
        const code = (err as NodeJS.ErrnoException).code;
        if (code !== 'ENOENT' && code !== 'EBUSY') throw err;
      }
    }
  }

  private limit({ memoryMiB, cpu }: InstanceLimits): void {
    const bytes = String(memoryMiB * 1024 * 1024);
    const { memory, cpu: cpuDir, pids } = this.dirs;
    if (this.support.version === 2) {
      writeFileSync(path.join(memory, 'memory.max'), bytes);
      // Without this, a machine with swap would page the instance out instead of stopping it.
      writeIfPresent(path.join(memory, 'memory.swap.max'), '0');
      if (cpuDir) writeFileSync(path.join(cpuDir, 'cpu.weight'), String(Math.max(1, Math.min(10000, Math.round((cpu / 1024) * 100)))));
    } else {
      writeFileSync(path.join(memory, 'memory.limit_in_bytes'), bytes);
      // memory+swap may not be set below memory; set after it. Absent without swap accounting.
      writeIfPresent(path.join(memory, 'memory.memsw.limit_in_bytes'), bytes);
      if (cpuDir) writeFileSync(path.join(cpuDir, 'cpu.shares'), String(Math.max(2, cpu)));
    }
    if (pids) writeFileSync(path.join(pids, 'pids.max'), String(PIDS_MAX));
  }
}

/** Removes the groups of runs a killed platform left behind (their processes died with it). */
export function sweepCgroups(support: CgroupSupport, scope: string, isLive: (name: string) => boolean): void {
  const parents = support.version === 2 ? [path.join(ROOT, GROUP, scope)] : support.controllers.map((c) => path.join(ROOT, c, GROUP, scope));
  for (const parent of parents) {
    let names: string[];
    try {
      names = readdirNames(parent);
    } catch {
      continue;
    }
    for (const name of names.filter((n) => /^i-[0-9a-f]{8}-\d+$/.test(n) && !isLive(n))) {
      try {
        rmdirSync(path.join(parent, name));
      } catch {
        // Still busy or already gone; harmless, swept again next start.
      }
    }
  }
}

function readdirNames(dir: string): string[] {
  // cgroupfs lists control files beside child groups; only directories are groups.
  return readdirSync(dir, { withFileTypes: true })
    .filter((e) => e.isDirectory())
    .map((e) => e.name);
}

function readIfPresent(file: string): string | undefined {
  try {
    return readFileSync(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
}

function writeIfPresent(file: string, value: string): void {
  if (existsSync(file)) writeFileSync(file, value);
}
