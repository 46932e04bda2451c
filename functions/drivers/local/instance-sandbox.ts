// How the process driver starts an instance, or a command inside one, on this machine: in a
// sandbox (sandbox/launch.sh) when Linux gives one, as a plain child process otherwise. It also
// decides what an instance sees of its own things (secrets, volumes, HOME) and, when the platform
// is root, which uid the env's files and processes belong to.
import { chownSync, mkdirSync, readdirSync } from 'node:fs';
import path from 'node:path';
import type { InstanceSpec } from '../../core/ports.ts';
import { cgroupScope, InstanceCgroup, sweepCgroups } from './sandbox/cgroups.ts';
import { EnvUids, ownTree } from './sandbox/env-uids.ts';
import { execArgs, instanceArgs, runtimeMounts, SANDBOX_PATH, SANDBOX_PATHS, sandboxInit, sandboxPath, type SandboxMount, type SandboxSupport } from './sandbox/sandbox.ts';
import { argv as commandArgv, type InstancePlaces } from './instance-spec.ts';
import { resolveRunAs, type RunAs } from './sandbox/run-as.ts';
import { afterReadyMarker, TTY_READY_MARKER } from './tty-ready.ts';

/** What `spawn` gets: a file, its arguments, where, and with exactly which environment. */
export interface SpawnPlan {
  file: string;
  args: string[];
  cwd: string;
  env: Record<string, string>;
  /** With a TTY: the command prints this once it owns its terminal (tty-ready.ts); input waits for it. */
  readyMarker?: string;
}


/** What the sandbox needs to know of an instance (a subset of the driver's Instance). */
export interface SandboxedInstance {
  readonly id: string;
  readonly spec: InstanceSpec;
  readonly dir: string;
  readonly processEnv: Record<string, string>;
  readonly uid?: number;
  pid?: number;
  cgroup?: InstanceCgroup;
}

// An instance's scratch space (its writes to /app, /tmp, /run, /dev/shm) is memory: at most its
// `memory`, and it counts against that limit where limits are enforced.
const DEFAULT_MEMORY_MIB = 512;
const DEFAULT_CPU = 256;

export class InstanceSandbox {
  private readonly uids?: EnvUids;
  private readonly cgroupScope: string;

  constructor(
    readonly support: SandboxSupport,
    dataDir: string,
  ) {
    if (support.kind === 'uid-and-namespaces') this.uids = new EnvUids(dataDir);
    this.cgroupScope = cgroupScope(dataDir);
  }

  get isolated(): boolean {
    return this.support.kind !== 'none';
  }

  places(spec: InstanceSpec, hostSecretsDir: string): InstancePlaces {
    if (!this.isolated) {
      const base: Record<string, string> = {};
      if (process.env.PATH !== undefined) base.PATH = process.env.PATH;
      if (process.env.HOME !== undefined) base.HOME = process.env.HOME;
      return { secretsDir: hostSecretsDir, volumeDir: (m) => spec.volumeDirs[m.volume], base };
    }
    return { secretsDir: SANDBOX_PATHS.secrets, volumeDir: (m) => m.path, base: { PATH: sandboxPath(), HOME: SANDBOX_PATHS.home } };
  }

  /**
   * Root platform: the env's uid, given the instance's secret files and its volumes (a new
   * volume, or one written when the env had another uid). Undefined otherwise.
   */
  claim(envKey: string, spec: InstanceSpec, secretsDir: string): number | undefined {
    if (!this.uids) return undefined;
    const uid = this.uids.uidOf(envKey);
    chownSync(secretsDir, uid, uid);
    for (const name of readdirSync(secretsDir)) chownSync(path.join(secretsDir, name), uid, uid);
    for (const mount of spec.workload.volumes ?? []) ownTree(spec.volumeDirs[mount.volume], uid);
    return uid;
  }

  /**
   * Who the command is inside (workloads.<w>.user), in numbers; undefined for the default user.
   * Throws invalid-input for a name this machine does not know. Without a sandbox there is no
   * other user to be: the command runs as the platform's user (the NOT ISOLATED warning says so).
   */
  runAs(spec: InstanceSpec): RunAs | undefined {
    if (!this.isolated || spec.workload.user === undefined) return undefined;
    return resolveRunAs(spec.workload.user, spec.workloadName);
  }

  /** How to start one run of the instance; a cgroup for it is created here when limits apply. */
  launch(instance: SandboxedInstance, generation: number): SpawnPlan {
    const { spec } = instance;
    const [file, args] = commandArgv(spec.workload.command);
    if (!this.isolated) return { file, args, cwd: spec.workdir, env: instance.processEnv };
    const memoryMiB = spec.workload.memory ?? DEFAULT_MEMORY_MIB;
    instance.cgroup = this.support.cgroups ? InstanceCgroup.create(this.support.cgroups, this.cgroupScope, `${instance.id}-${generation}`, { memoryMiB, cpu: spec.workload.cpu ?? DEFAULT_CPU }) : undefined;
    const rootDir = path.join(instance.dir, 'root');
    const scratchDir = path.join(instance.dir, 'scratch');
    mkdirSync(rootDir, { recursive: true });
    mkdirSync(scratchDir, { recursive: true });
    const mounts: SandboxMount[] = [
      ...runtimeMounts(),
      { source: path.join(instance.dir, 'secrets'), target: SANDBOX_PATHS.secrets, readOnly: true },
      ...(spec.workload.volumes ?? []).map((m) => ({ source: spec.volumeDirs[m.volume], target: m.path, readOnly: false })),
    ];
    const launchArgs = instanceArgs(this.support, {
      rootDir,
      scratchDir,
      scratchMiB: memoryMiB,
      release: spec.workdir,
      mounts,
      uid: instance.uid,
      runAs: this.runAs(spec),
      cgroupProcs: instance.cgroup?.procsFiles() ?? [],
      env: instance.processEnv,
      argv: [file, ...args],
    });
    return { file: '/bin/sh', args: launchArgs, cwd: '/', env: { PATH: SANDBOX_PATH } };
  }

  /**
   * How to run `argv` inside the running instance (berth exec): its namespaces, root, cgroup and
   * user, its environment plus `extraEnv`. Undefined when its sandbox is not up.
   *
   * With `tty`, the command gets a terminal made inside the sandbox (util-linux script(1) relays
   * between it and the caller's): a terminal from outside belongs to a session whose process group
   * the sandbox's PID namespace cannot see, and job-control shells fail on it.
   */
  exec(instance: SandboxedInstance, argv: string[], extraEnv: Record<string, string>, tty = false): SpawnPlan | undefined {
    const env = { ...instance.processEnv, ...extraEnv };
    const ready = tty ? { readyMarker: TTY_READY_MARKER } : {};
    const line = afterReadyMarker(argv.map(shellWord).join(' '));
    if (!this.isolated) {
      if (!tty) return { file: argv[0], args: argv.slice(1), cwd: instance.spec.workdir, env };
      return { file: '/bin/sh', args: ['-c', line], cwd: instance.spec.workdir, env, ...ready };
    }
    const initPid = instance.pid === undefined ? undefined : sandboxInit(instance.pid);
    if (initPid === undefined) return undefined;
    const command = tty ? ['script', '--quiet', '--return', '--command', line, '/dev/null'] : argv;
    const args = execArgs(this.support, { initPid, uid: instance.uid, runAs: this.runAs(instance.spec), cgroupProcs: instance.cgroup?.procsFiles() ?? [], env, argv: command });
    return { file: '/bin/sh', args, cwd: '/', env: { PATH: SANDBOX_PATH }, ...ready };
  }

  /** After a run ended: whether the kernel killed it for its memory, and its cgroup removed. */
  ended(instance: SandboxedInstance): { outOfMemory: boolean } {
    const cgroup = instance.cgroup;
    instance.cgroup = undefined;
    if (!cgroup) return { outOfMemory: false };
    const outOfMemory = cgroup.memoryExceeded();
    cgroup.remove();
    return { outOfMemory };
  }

  /** Removes the cgroups of runs a killed platform left behind. */
  sweep(isLive: (instanceId: string) => boolean): void {
    if (this.support.cgroups) sweepCgroups(this.support.cgroups, this.cgroupScope, (name) => isLive(name.replace(/-\d+$/, '')));
  }
}

function shellWord(word: string): string {
  return /^[\w@%+=:,./-]+$/.test(word) ? word : `'${word.replace(/'/g, "'\\''")}'`;
}
