// Embedded compute: every instance is a supervised child process in its own process group, the
// local counterpart of a Fargate task. Health, crash restarts and logs follow the same contract
// as the ECS driver so the rollout state machines cannot tell the two apart.
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import type { Workload } from '../../contract/manifest.ts';
import { BerthError, ConflictError, HealthCheckError, ImagePullError, InvalidInputError, NotFoundError } from '../../core/errors.ts';
import type { ComputeDriver, ComputeEvent, EnvRef, InstanceSpec, InstanceState, InstanceStatus, LogLevel, LogStore } from '../../core/ports.ts';
import { deadlineMs, describeProbe, probePlan, runProbe, type ProbePlan, type ProbeResult } from './health-probe.ts';
import { LineSplitter, levelOf, type StreamName } from './log-line.ts';

export interface ProcessDriverOptions {
  /** Per-instance directories (the secret files) live under `<dataDir>/instances/<id>`. */
  readonly dataDir: string;
  /** Receives the instances' stdout/stderr and the driver's own lifecycle lines. */
  readonly logs: LogStore;
  /**
   * Delay before each restart of a crashed instance; the n-th restart waits `restartBackoffMs[n]`,
   * and the last value repeats. @default [1000, 2000, 4000, 8000, 16000, 30000]
   */
  readonly restartBackoffMs?: number[];
  /** How long a stopped instance may take to exit after SIGTERM before it gets SIGKILL. @default 5000 */
  readonly stopGraceMs?: number;
}

const HOST = '127.0.0.1';
// An instance without ports has nothing to probe; staying up this long counts as healthy.
const UPTIME_HEALTHY_MS = 1000;
// A fresh instance is probed at least this often, so a rollout need not wait a full interval.
const STARTING_PROBE_MS = 250;
const UNHEALTHY_AFTER_FAILURES = 3;
// Enough to hold a typical runtime's dying words (a Node stack trace runs to about ten lines).
const STDERR_TAIL_LINES = 10;
// After SIGKILL, processes leave within milliseconds; this only bounds a wait that cannot succeed.
const KILL_WAIT_MS = 2000;
// Output still buffered in the pipes when the process exits belongs before the "crashed" line.
const DRAIN_MS = 200;

interface Instance {
  readonly id: string;
  readonly spec: InstanceSpec;
  readonly envKey: string;
  readonly addresses: Record<number, { host: string; port: number }>;
  readonly processEnv: Record<string, string>;
  readonly dir: string;
  readonly plan: ProbePlan | undefined;
  state: InstanceState;
  startedAt: string;
  startedAtMs: number;
  restarts: number;
  lastExit?: { code: number | null; signal: string | null; at: string };
  /** Bumped on every launch so results of an earlier process (probes, exits) are ignored. */
  generation: number;
  pid?: number;
  running: boolean;
  exited: Promise<void>;
  everHealthy: boolean;
  /** Set the moment a stop is requested, so no exit counts as a crash and no restart follows. */
  stopRequested: boolean;
  stopped?: Promise<void>;
  probeFailures: number;
  lastProbeError?: string;
  stderrTail: string[];
  /** Why the instance could not start; set once it failed before ever being healthy. */
  failure?: BerthError;
  timer?: NodeJS.Timeout;
}

export class ProcessDriver implements ComputeDriver {
  private readonly dataDir: string;
  private readonly logs: LogStore;
  private readonly restartBackoffMs: number[];
  private readonly stopGraceMs: number;
  private readonly instances = new Map<string, Instance>();
  private readonly listeners = new Set<(event: ComputeEvent) => void>();
  /** Wakes `waitHealthy` callers when any instance changes state. */
  private readonly changeWaiters = new Set<(instance: Instance) => void>();

  constructor(options: ProcessDriverOptions) {
    this.dataDir = options.dataDir;
    this.logs = options.logs;
    this.restartBackoffMs = options.restartBackoffMs ?? [1000, 2000, 4000, 8000, 16000, 30000];
    this.stopGraceMs = options.stopGraceMs ?? 5000;
    if (this.restartBackoffMs.length === 0) {
      throw new InvalidInputError('invalid-backoff', 'restartBackoffMs is empty; give at least one delay in milliseconds, e.g. [1000]');
    }
  }

  async startInstances(spec: InstanceSpec, count: number): Promise<string[]> {
    checkSpec(spec);
    const ids: string[] = [];
    for (let i = 0; i < count; i++) {
      const instance = await this.prepare(spec);
      this.instances.set(instance.id, instance);
      this.launch(instance);
      ids.push(instance.id);
    }
    return ids;
  }

  async waitHealthy(env: EnvRef, instanceIds: string[]): Promise<void> {
    const instances = instanceIds.map((id) => this.find(env, id));
    const done = new AbortController();
    try {
      await Promise.all(instances.map((instance) => this.waitOne(instance, done.signal)));
    } finally {
      // The first failure settles the call; the other waits must not keep their timers.
      done.abort();
    }
  }

  async stopInstances(env: EnvRef, instanceIds: string[]): Promise<void> {
    const key = envKey(env);
    // Unknown ids are already gone: stopping is idempotent, which compensation steps rely on.
    const instances = instanceIds.map((id) => this.instances.get(id)).filter((i): i is Instance => i?.envKey === key);
    await Promise.all(instances.map((instance) => this.stop(instance)));
  }

  list(env: EnvRef): InstanceStatus[] {
    const key = envKey(env);
    return [...this.instances.values()].filter((i) => i.envKey === key).map(statusOf);
  }

  onEvent(listener: (event: ComputeEvent) => void): () => void {
    this.listeners.add(listener);
    return () => {
      this.listeners.delete(listener);
    };
  }

  async shutdown(): Promise<void> {
    await Promise.all([...this.instances.values()].map((instance) => this.stop(instance)));
  }

  private async prepare(spec: InstanceSpec): Promise<Instance> {
    const id = `i-${randomBytes(4).toString('hex')}`;
    const addresses: Instance['addresses'] = {};
    for (const containerPort of spec.workload.ports ?? []) addresses[containerPort] = { host: HOST, port: await this.freePort() };
    const dir = path.join(this.dataDir, 'instances', id);
    const secretsDir = writeSecrets(path.join(dir, 'secrets'), spec.secretBundles);
    const now = new Date();
    return {
      id,
      spec,
      envKey: envKey(spec.env),
      addresses,
      processEnv: processEnv(spec, id, addresses, secretsDir),
      dir,
      plan: probePlan(spec.workload),
      state: 'starting',
      startedAt: now.toISOString(),
      startedAtMs: now.getTime(),
      restarts: 0,
      generation: 0,
      running: false,
      exited: Promise.resolve(),
      everHealthy: false,
      stopRequested: false,
      probeFailures: 0,
      stderrTail: [],
    };
  }

  private launch(instance: Instance): void {
    const generation = ++instance.generation;
    const now = new Date();
    instance.state = 'starting';
    instance.startedAt = now.toISOString();
    instance.startedAtMs = now.getTime();
    instance.probeFailures = 0;
    instance.lastProbeError = undefined;
    instance.stderrTail = [];
    const [file, args] = argv(instance.spec.workload.command);
    const child = spawn(file, args, {
      cwd: instance.spec.workdir,
      env: instance.processEnv,
      // Its own process group, so stopping `/bin/sh -c` also reaches the shell's children.
      detached: true,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const closed = new Promise<void>((resolve) => child.once('close', () => resolve()));
    this.pipe(instance, child, 'stdout');
    this.pipe(instance, child, 'stderr');
    let settle!: () => void;
    instance.exited = new Promise<void>((resolve) => (settle = resolve));
    let ended = false;
    const end = async (code: number | null, signal: NodeJS.Signals | null, spawnError?: NodeJS.ErrnoException): Promise<void> => {
      if (ended) return;
      ended = true;
      instance.running = false;
      clearTimeout(instance.timer);
      // Leftover children of a dead shell are unsupervised and may hold the ports a restart needs.
      if (child.pid !== undefined && !instance.stopRequested) signalGroup(child.pid, 'SIGKILL');
      await withTimeout(closed, DRAIN_MS);
      if (!instance.stopRequested && generation === instance.generation) this.onCrash(instance, code, signal, spawnError);
      settle();
    };
    child.on('error', (err: NodeJS.ErrnoException) => {
      if (child.pid === undefined) void end(null, null, err);
      else this.systemLine(instance, 'error', `process error: ${err.message}`);
    });
    child.once('exit', (code, signal) => void end(code, signal));
    if (child.pid === undefined) return;
    instance.pid = child.pid;
    instance.running = true;
    const restart = instance.restarts > 0 ? `, restart ${instance.restarts}` : '';
    this.report(instance, 'instance.started', 'info', `started (pid ${child.pid}${restart}): ${commandText(instance.spec.workload.command)}`);
    this.watchHealth(instance, generation);
  }

  private pipe(instance: Instance, child: ChildProcess, stream: StreamName): void {
    const lines = new LineSplitter((message) => {
      if (stream === 'stderr') {
        instance.stderrTail.push(message);
        if (instance.stderrTail.length > STDERR_TAIL_LINES) instance.stderrTail.shift();
      }
      const { env, workloadName } = instance.spec;
      this.logs.append(env, { ts: new Date().toISOString(), source: 'app', workload: workloadName, instance: instance.id, level: levelOf(message, stream), message });
    });
    const source = child[stream];
    source?.on('data', (chunk: Buffer) => lines.write(chunk));
    source?.on('end', () => lines.end());
  }

  private watchHealth(instance: Instance, generation: number): void {
    const current = (): boolean => instance.running && !instance.stopRequested && generation === instance.generation;
    const plan = instance.plan;
    if (!plan) {
      instance.timer = setTimeout(() => current() && this.markHealthy(instance, `up for ${UPTIME_HEALTHY_MS / 1000}s (no ports to probe)`), UPTIME_HEALTHY_MS);
      return;
    }
    const hostPort = instance.addresses[plan.containerPort].port;
    const tick = async (): Promise<void> => {
      const result = await runProbe(plan, HOST, hostPort);
      if (!current()) return;
      this.onProbe(instance, plan, result);
      instance.timer = setTimeout(tick, nextProbeMs(instance, plan));
    };
    instance.timer = setTimeout(tick, nextProbeMs(instance, plan));
  }

  private onProbe(instance: Instance, plan: ProbePlan, result: ProbeResult): void {
    if (result.ok) {
      instance.probeFailures = 0;
      instance.lastProbeError = undefined;
      if (instance.state !== 'healthy') this.markHealthy(instance, `${describeProbe(plan)} passed`);
      return;
    }
    instance.probeFailures++;
    instance.lastProbeError = result.error;
    if (instance.state === 'healthy' && instance.probeFailures >= UNHEALTHY_AFTER_FAILURES) {
      this.setState(instance, 'unhealthy');
      this.report(instance, 'instance.unhealthy', 'warn', `unhealthy: ${describeProbe(plan)} failed ${instance.probeFailures} times in a row (last: ${result.error})`);
    }
  }

  private markHealthy(instance: Instance, why: string): void {
    const again = instance.everHealthy ? ' again' : '';
    instance.everHealthy = true;
    this.setState(instance, 'healthy');
    this.report(instance, 'instance.healthy', 'info', `healthy${again}: ${why}`);
  }

  private onCrash(instance: Instance, code: number | null, signal: NodeJS.Signals | null, spawnError?: NodeJS.ErrnoException): void {
    instance.lastExit = { code, signal, at: new Date().toISOString() };
    if (!instance.everHealthy) {
      // A release that cannot come up is reported to the rollout rather than retried forever;
      // the instance stays `crashed` so its logs and exit can be inspected before it is stopped.
      instance.failure = spawnError ? spawnFailure(instance, spawnError) : exitedFailure(instance, code, signal);
      const how = spawnError ? `could not start: ${spawnError.message}` : `crashed before becoming healthy: ${exitText(code, signal)}`;
      this.report(instance, 'instance.crashed', 'error', how);
      this.setState(instance, 'crashed');
      return;
    }
    const how = `crashed: ${exitText(code, signal)}`;
    this.setState(instance, 'crashed');
    this.report(instance, 'instance.crashed', 'error', how);
    const delay = this.restartBackoffMs[Math.min(instance.restarts, this.restartBackoffMs.length - 1)];
    this.report(instance, 'instance.restarting', 'warn', `restarting in ${delay} ms (restart ${instance.restarts + 1})`);
    instance.timer = setTimeout(() => {
      if (instance.stopRequested) return;
      instance.restarts++;
      this.launch(instance);
    }, delay);
  }

  private waitOne(instance: Instance, cancelled: AbortSignal): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      const deadline = deadlineMs(instance.spec.workload);
      // An instance between restarts gets the whole deadline from now, not from its last start.
      const from = instance.state === 'crashed' && !instance.failure ? Date.now() : instance.startedAtMs;
      const finish = (settle: () => void): void => {
        clearTimeout(timer);
        this.changeWaiters.delete(check);
        cancelled.removeEventListener('abort', onAbort);
        settle();
      };
      const onAbort = (): void => finish(resolve);
      const check = (changed: Instance): void => {
        if (changed !== instance) return;
        if (instance.state === 'healthy') finish(resolve);
        else if (instance.failure) finish(() => reject(instance.failure));
        else if (instance.stopRequested) finish(() => reject(stoppedWhileWaiting(instance)));
      };
      const timer = setTimeout(() => finish(() => reject(neverHealthy(instance, deadline))), Math.max(0, from + deadline - Date.now()));
      this.changeWaiters.add(check);
      cancelled.addEventListener('abort', onAbort);
      check(instance);
    });
  }

  private stop(instance: Instance): Promise<void> {
    if (instance.stopped) return instance.stopped;
    instance.stopRequested = true;
    instance.stopped = (async () => {
      clearTimeout(instance.timer);
      const wasRunning = instance.running && instance.pid !== undefined;
      this.setState(instance, 'stopping');
      const how = wasRunning ? await this.terminate(instance.pid!, instance.exited) : 'was not running';
      this.setState(instance, 'stopped');
      this.report(instance, 'instance.stopped', 'info', `stopped (${how})`);
      this.instances.delete(instance.id);
      // Secret files must not outlive the instance they were delivered to.
      rmSync(instance.dir, { recursive: true, force: true });
    })();
    return instance.stopped;
  }

  private async terminate(pid: number, exited: Promise<void>): Promise<string> {
    signalGroup(pid, 'SIGTERM');
    if (await groupGone(pid, exited, Date.now() + this.stopGraceMs)) return 'SIGTERM';
    signalGroup(pid, 'SIGKILL');
    await groupGone(pid, exited, Date.now() + KILL_WAIT_MS);
    return `SIGKILL after ${this.stopGraceMs / 1000}s grace`;
  }

  private find(env: EnvRef, id: string): Instance {
    const instance = this.instances.get(id);
    if (!instance || instance.envKey !== envKey(env)) {
      throw new NotFoundError('instance-not-found', `instance ${id} is not running in ${envKey(env)}; list the env's instances to pick one`, {
        details: { instance: id, env },
        next: ['berth status'],
      });
    }
    return instance;
  }

  private setState(instance: Instance, state: InstanceState): void {
    instance.state = state;
    for (const waiter of [...this.changeWaiters]) waiter(instance);
  }

  private systemLine(instance: Instance, level: LogLevel, message: string): void {
    const { env, workloadName } = instance.spec;
    this.logs.append(env, { ts: new Date().toISOString(), source: 'system', workload: workloadName, instance: instance.id, level, message });
  }

  /** A lifecycle fact: a system log line and a ComputeEvent with the same message. */
  private report(instance: Instance, type: ComputeEvent['type'], level: LogLevel, message: string): void {
    this.systemLine(instance, level, message);
    const { env, workloadName, releaseId } = instance.spec;
    const event: ComputeEvent = { env, type, workload: workloadName, instance: instance.id, releaseId, message };
    for (const listener of [...this.listeners]) listener(event);
  }

  private async freePort(): Promise<number> {
    const taken = new Set([...this.instances.values()].flatMap((i) => Object.values(i.addresses).map((a) => a.port)));
    // A port reserved for an instance is unbound until its process listens (or while it waits to
    // restart), so the OS may hand it out again; skip those.
    for (let attempt = 0; attempt < 20; attempt++) {
      const port = await ephemeralPort();
      if (!taken.has(port)) return port;
    }
    throw new BerthError('capacity', 'no-free-port', 'no free TCP port on 127.0.0.1 after 20 attempts; stop some instances or free ports', { next: ['berth status'] });
  }
}

function nextProbeMs(instance: Instance, plan: ProbePlan): number {
  return instance.state === 'starting' ? Math.min(plan.intervalMs, STARTING_PROBE_MS) : plan.intervalMs;
}

function statusOf(instance: Instance): InstanceStatus {
  const status: InstanceStatus = {
    id: instance.id,
    workload: instance.spec.workloadName,
    releaseId: instance.spec.releaseId,
    state: instance.state,
    startedAt: instance.startedAt,
    restarts: instance.restarts,
    addresses: structuredClone(instance.addresses),
  };
  if (instance.lastExit) status.lastExit = { ...instance.lastExit };
  return status;
}

function envKey(env: EnvRef): string {
  return `${env.org}/${env.project}/${env.app}/${env.env}`;
}

/** Catches specs the manifest schema would have refused, before anything is spawned. */
function checkSpec(spec: InstanceSpec): void {
  const { workload, workloadName } = spec;
  for (const mount of workload.volumes ?? []) {
    if (spec.volumeDirs[mount.volume] === undefined) {
      throw new NotFoundError('volume-not-found', `workload "${workloadName}" mounts volume "${mount.volume}", which has no directory; create it or remove the mount`, {
        details: { volume: mount.volume, known: Object.keys(spec.volumeDirs) },
        next: ['berth volumes list'],
      });
    }
  }
  const port = workload.healthCheck?.port;
  if (port !== undefined && !(workload.ports ?? []).includes(port)) {
    throw new InvalidInputError('health-port-not-declared', `workload "${workloadName}" probes port ${port}, which is not in its ports [${(workload.ports ?? []).join(', ')}]`);
  }
  for (const bundle of Object.keys(spec.secretBundles)) {
    if (!/^[A-Za-z0-9][A-Za-z0-9_.-]*$/.test(bundle)) {
      throw new InvalidInputError('invalid-bundle-name', `secret bundle "${bundle}" cannot name a file; bundle names are DNS labels such as "db"`);
    }
  }
}

function writeSecrets(dir: string, bundles: Record<string, Record<string, string>>): string {
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  // mkdir's mode is filtered by the umask; the secrets directory must be 0700 regardless.
  chmodSync(dir, 0o700);
  for (const [bundle, values] of Object.entries(bundles)) {
    const file = path.join(dir, `${bundle}.json`);
    writeFileSync(file, JSON.stringify(values, null, 2) + '\n', { mode: 0o600 });
    chmodSync(file, 0o600);
  }
  return dir;
}

function processEnv(spec: InstanceSpec, id: string, addresses: Instance['addresses'], secretsDir: string): Record<string, string> {
  const env: Record<string, string> = {};
  if (process.env.PATH !== undefined) env.PATH = process.env.PATH;
  if (process.env.HOME !== undefined) env.HOME = process.env.HOME;
  Object.assign(env, spec.environment);
  const ports = spec.workload.ports ?? [];
  if (ports.length > 0) env.PORT = String(addresses[ports[0]].port);
  for (const port of ports) env[`BERTH_PORT_${port}`] = String(addresses[port].port);
  for (const mount of spec.workload.volumes ?? []) {
    env[`BERTH_VOLUME_${mount.volume.toUpperCase().replace(/-/g, '_')}`] = spec.volumeDirs[mount.volume];
  }
  Object.assign(env, {
    BERTH_INSTANCE_ID: id,
    BERTH_RELEASE: spec.releaseId,
    BERTH_APP: spec.env.app,
    BERTH_ENV: spec.env.env,
    BERTH_WORKLOAD: spec.workloadName,
    BERTH_SECRETS_DIR: secretsDir,
  });
  return env;
}

function argv(command: Workload['command']): [string, string[]] {
  return typeof command === 'string' ? ['/bin/sh', ['-c', command]] : [command[0], command.slice(1)];
}

function commandText(command: Workload['command']): string {
  return typeof command === 'string' ? command : command.map((a) => (/^[\w@%+=:,./-]+$/.test(a) ? a : JSON.stringify(a))).join(' ');
}

function exitText(code: number | null, signal: string | null): string {
  return signal ? `killed by ${signal}` : `exited with code ${code}`;
}

function spawnFailure(instance: Instance, err: NodeJS.ErrnoException): ImagePullError {
  const { workload, workloadName, workdir } = instance.spec;
  const command = commandText(workload.command);
  const cause = !existsSync(workdir)
    ? `the release's working directory ${workdir} does not exist; deploy the release again`
    : err.code === 'ENOENT'
      ? `"${argv(workload.command)[0]}" was found neither in the release directory nor on PATH; fix \`command\` in berth.yaml and deploy again`
      : `${err.message}; check that \`command\` in berth.yaml names an executable file`;
  return new ImagePullError('command-failed', `instance ${instance.id} of workload "${workloadName}" could not run \`${command}\`: ${cause}`, {
    details: { instance: instance.id, workload: workloadName, command, workdir, error: err.code },
    next: [`berth logs --instance ${instance.id}`],
    cause: err,
  });
}

function exitedFailure(instance: Instance, code: number | null, signal: NodeJS.Signals | null): ImagePullError {
  const { workload, workloadName } = instance.spec;
  const command = commandText(workload.command);
  const stderr = instance.stderrTail.length ? `last stderr lines:\n  ${instance.stderrTail.join('\n  ')}` : 'it wrote nothing to stderr';
  return new ImagePullError('command-failed', `instance ${instance.id} of workload "${workloadName}" ${exitText(code, signal)} before it became healthy (command \`${command}\`); ${stderr}`, {
    details: { instance: instance.id, workload: workloadName, command, exitCode: code, signal, stderr: [...instance.stderrTail] },
    next: [`berth logs --instance ${instance.id}`],
  });
}

function neverHealthy(instance: Instance, deadline: number): HealthCheckError {
  const { workloadName } = instance.spec;
  const plan = instance.plan;
  const seconds = deadline / 1000;
  const probe = plan ? describeProbe(plan) : 'uptime';
  const hostPort = plan ? ` (host port ${instance.addresses[plan.containerPort].port})` : '';
  const last = instance.lastProbeError ? `last probe error: ${instance.lastProbeError}` : 'no probe had completed';
  return new HealthCheckError(
    'never-healthy',
    `instance ${instance.id} of workload "${workloadName}" was not healthy within ${seconds}s: probe ${probe}${hostPort}, ${last}; make the app answer the probe on $PORT, or raise healthCheck.deadlineSeconds if it needs longer to start`,
    {
      details: { instance: instance.id, workload: workloadName, probe, lastProbeError: instance.lastProbeError, deadlineSeconds: seconds, state: instance.state },
      next: [`berth logs --instance ${instance.id}`],
    },
  );
}

function stoppedWhileWaiting(instance: Instance): ConflictError {
  return new ConflictError('instance-stopped', `instance ${instance.id} was stopped while waiting for it to become healthy; another change to the env is probably under way`, {
    details: { instance: instance.id },
    next: ['berth status'],
  });
}

function ephemeralPort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, HOST, () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

function signalGroup(pgid: number, signal: NodeJS.Signals): void {
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
  return process.platform === 'linux' ? livingMembers(pgid) : true;
}

function livingMembers(pgid: number): boolean {
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    let stat: string;
    try {
      stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
    } catch (err) {
      // The process left between readdir and read.
      if ((err as NodeJS.ErrnoException).code === 'ENOENT' || (err as NodeJS.ErrnoException).code === 'ESRCH') continue;
      throw err;
    }
    // `pid (comm) state ppid pgrp …`; comm may hold spaces and parentheses, so split after the last `)`.
    const [state, , group] = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    if (Number(group) === pgid && state !== 'Z' && state !== 'X') return true;
  }
  return false;
}

async function withTimeout(promise: Promise<unknown>, ms: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const timedOut = new Promise<boolean>((resolve) => (timer = setTimeout(() => resolve(false), Math.max(0, ms))));
  try {
    return await Promise.race([promise.then(() => true), timedOut]);
  } finally {
    clearTimeout(timer);
  }
}
