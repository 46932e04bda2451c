// What isolation this machine gives an instance, and the command lines that start an instance or
// an exec session inside it (launch.sh does the work). Three kinds, chosen once per process:
//   uid-and-namespaces  the platform is root: mount/PID/IPC/UTS namespaces, and each env's
//                       processes run as a uid of their own with no capabilities; cgroup limits
//   user-namespaces     not root: the same namespaces inside an unprivileged user namespace, the
//                       command as uid 1000 of a nested one; no resource limits (no delegation)
//   none                no Linux namespaces here (macOS, a kernel without user namespaces, or
//                       BERTH_SANDBOX=off): instances run as the platform's user, unisolated
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Isolation } from '../../../contract/responses.ts';
import { detectCgroups, type CgroupSupport } from './cgroups.ts';

export type SandboxKind = 'uid-and-namespaces' | 'user-namespaces' | 'none';

export interface SandboxSupport {
  readonly kind: SandboxKind;
  /** Why there is no sandbox (kind `none`), in words a user can act on. */
  readonly why?: string;
  /** Where limits are enforced; undefined when `cpu`/`memory` are not. */
  readonly cgroups?: CgroupSupport;
}

/** Where an instance finds its things, inside the sandbox (the same paths as on Fargate where one exists). */
export const SANDBOX_PATHS = { app: '/app', secrets: '/berth/secrets', home: '/tmp' } as const;
/** The command's uid inside its user namespace when the platform is not root. */
export const USERNS_UID = 1000;
/** The only PATH the launcher and the sandboxed command start with. */
export const SANDBOX_PATH = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';

const LAUNCH = fileURLToPath(new URL('./launch.sh', import.meta.url));
const TOOLS = ['unshare', 'nsenter', 'setpriv', 'mount', 'umount', 'pivot_root', 'env'];

let detected: SandboxSupport | undefined;

/** Probes once per process by starting `true` in a real sandbox; the answer is kept. */
export function detectSandbox(): SandboxSupport {
  detected ??= probe();
  return detected;
}

function probe(): SandboxSupport {
  if (process.env.BERTH_SANDBOX === 'off') return { kind: 'none', why: 'BERTH_SANDBOX=off is set' };
  if (process.platform !== 'linux') return { kind: 'none', why: `${process.platform} has no Linux namespaces` };
  const missing = TOOLS.filter((tool) => !['/usr/bin', '/usr/sbin', '/bin', '/sbin'].some((dir) => existsSync(path.join(dir, tool))));
  if (missing.length) return { kind: 'none', why: `${missing.join(', ')} not found (util-linux); install util-linux` };
  const root = process.getuid?.() === 0;
  const dir = mkdtempSync(path.join(os.tmpdir(), 'berth-sandbox-probe-'));
  try {
    mkdirSync(path.join(dir, 'root'));
    mkdirSync(path.join(dir, 'scratch'));
    const args = instanceArgs(
      { kind: root ? 'uid-and-namespaces' : 'user-namespaces' },
      { rootDir: path.join(dir, 'root'), scratchDir: path.join(dir, 'scratch'), scratchMiB: 1, mounts: [], uid: root ? 65534 : undefined, cgroupProcs: [], env: { PATH: SANDBOX_PATH }, argv: ['true'] },
    );
    const run = spawnSync('/bin/sh', args, { env: { PATH: SANDBOX_PATH }, encoding: 'utf8', timeout: 10_000 });
    if (run.status !== 0) {
      const said = (run.stderr || run.error?.message || `exit ${run.status}`).trim().split('\n').slice(-2).join(' ');
      return { kind: 'none', why: `namespaces are not available to this user (${said}); on Debian/Ubuntu check sysctl kernel.unprivileged_userns_clone and user.max_user_namespaces` };
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  return root ? { kind: 'uid-and-namespaces', cgroups: detectCgroups() } : { kind: 'user-namespaces' };
}

export interface SandboxMount {
  /** Host path. */
  source: string;
  /** Path inside the sandbox. */
  target: string;
  readOnly: boolean;
}

export interface InstanceLaunch {
  /** Empty dir (host) the sandbox's root tmpfs is mounted on. */
  rootDir: string;
  /** Empty dir (host) for the instance's writable layer, /tmp, /run and /dev/shm; a tmpfs of `scratchMiB`. */
  scratchDir: string;
  scratchMiB: number;
  /** The release, mounted copy-on-write at /app and made the working dir. */
  release?: string;
  mounts: SandboxMount[];
  /** The host uid to run as (root platform only). */
  uid?: number;
  /** The uid and gid the command sees inside (workloads.<w>.user); default: the host uid, or USERNS_UID. */
  runAs?: { uid: number; gid: number };
  cgroupProcs: string[];
  env: Record<string, string>;
  argv: string[];
}

/** `/bin/sh` and these arguments start the instance; spawn it with `{ env: { PATH: SANDBOX_PATH } }`. */
export function instanceArgs(support: Pick<SandboxSupport, 'kind'>, launch: InstanceLaunch): string[] {
  const outer = ['outer', ...launch.cgroupProcs.flatMap((f) => ['--cgroup', f]), ...(support.kind === 'user-namespaces' ? ['--userns'] : [])];
  const as = launch.runAs ? `${launch.runAs.uid}:${launch.runAs.gid}` : undefined;
  const user = support.kind === 'uid-and-namespaces' ? `uid=${requireUid(launch.uid)}${as ? `:${as}` : ''}` : `userns=${as ?? `${USERNS_UID}:${USERNS_UID}`}`;
  const inner = [launch.rootDir, launch.scratchDir, String(launch.scratchMiB), user];
  if (launch.release) inner.push('--app', launch.release, SANDBOX_PATHS.app, '--chdir', SANDBOX_PATHS.app);
  for (const m of launch.mounts) inner.push(m.readOnly ? '--ro' : '--rw', m.source, m.target);
  return [LAUNCH, ...outer, '--', ...inner, '--', ...assignments(launch.env), ...launch.argv];
}

export interface ExecLaunch {
  /** Host pid of the instance's sandbox init (see `sandboxInit`). */
  initPid: number;
  uid?: number;
  runAs?: { uid: number; gid: number };
  cgroupProcs: string[];
  env: Record<string, string>;
  argv: string[];
}

/** `/bin/sh` and these arguments run a command inside a running instance's sandbox. */
export function execArgs(support: Pick<SandboxSupport, 'kind'>, launch: ExecLaunch): string[] {
  const options = [...launch.cgroupProcs.flatMap((f) => ['--cgroup', f]), '--target', String(launch.initPid), ...userArgs(support, launch.uid), ...(launch.runAs ? ['--as', `${launch.runAs.uid}:${launch.runAs.gid}`] : [])];
  return [LAUNCH, 'exec', ...options, '--', ...assignments(launch.env), ...launch.argv];
}

function userArgs(support: Pick<SandboxSupport, 'kind'>, uid: number | undefined): string[] {
  return support.kind === 'uid-and-namespaces' ? ['--uid', String(requireUid(uid))] : ['--userns-uid', String(USERNS_UID)];
}

function requireUid(uid: number | undefined): number {
  if (uid === undefined) throw new Error('a root platform runs instances as a uid of their own; none was given');
  return uid;
}

function assignments(env: Record<string, string>): string[] {
  // env(1) takes NAME=VALUE words up to the first that has no "=", which is the command.
  return Object.entries(env).map(([name, value]) => `${name}=${value}`);
}

/**
 * The host pid of the PID namespace's init: the one child of the `unshare` the launcher became
 * (the spawned pid). Undefined when it is not (yet, or any longer) there.
 */
export function sandboxInit(launcherPid: number): number | undefined {
  try {
    const children = readFileSync(`/proc/${launcherPid}/task/${launcherPid}/children`, 'utf8').trim().split(/\s+/).filter(Boolean);
    return children.length === 1 ? Number(children[0]) : undefined;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
}

/** What `status` and /v1/health report of this machine's sandbox. */
export function isolationOf(support: SandboxSupport): Isolation {
  return { kind: support.kind, isolated: support.kind !== 'none', limitsEnforced: support.cgroups !== undefined, summary: describeIsolation(support) };
}

/** One line for `npm start` and the API: what instances on this platform can and cannot see. */
export function describeIsolation(support: SandboxSupport): string {
  const limits = support.cgroups ? `cpu (as a weight) and memory (hard) limits enforced through cgroup v${support.cgroups.version}` : 'cpu and memory limits are not enforced (needs root and a writable cgroup tree)';
  switch (support.kind) {
    case 'uid-and-namespaces':
      return `instances are sandboxed: own mount, PID, IPC and UTS namespaces, a uid per env, no capabilities; ${limits}`;
    case 'user-namespaces':
      return `instances are sandboxed in unprivileged user namespaces (own mount, PID, IPC and UTS namespaces), all as this user's uid; ${limits}`;
    case 'none':
      return `NOT ISOLATED: instances run as the current user with no sandbox (${support.why}); orgs on this platform are not isolated from each other's code`;
  }
}

/**
 * Node itself when it lives outside the system dirs the sandbox shows (nvm, a tarball in /opt),
 * so that `node server.js` runs in an instance as it does in the user's shell; read-only.
 */
export function runtimeMounts(execPath = process.execPath): SandboxMount[] {
  const prefix = path.dirname(path.dirname(execPath));
  const system = ['/usr', '/bin', '/sbin', '/lib', '/lib64'].some((dir) => prefix === dir || prefix.startsWith(`${dir}/`) || prefix === '/');
  return system ? [] : [{ source: prefix, target: prefix, readOnly: true }];
}

/** The PATH inside the sandbox: the system's, after the bin dir of a Node mounted by `runtimeMounts`. */
export function sandboxPath(execPath = process.execPath): string {
  return runtimeMounts(execPath).length ? `${path.dirname(execPath)}:${SANDBOX_PATH}` : SANDBOX_PATH;
}
