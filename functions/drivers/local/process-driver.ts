// Embedded compute: every instance is a supervised child process in its own process group and, on
// Linux, in a sandbox of its own (instance-sandbox.ts), the local counterpart of a Fargate task. Health, crash restarts and logs follow the same contract
// as the ECS driver so the rollout state machines cannot tell the two apart.
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { rmSync } from 'node:fs';
import path from 'node:path';
import { WORKLOAD_DEFAULTS } from '../../contract/manifest.ts';
import { CapacityError, InvalidInputError, NotFoundError } from '../../core/errors.ts';
import type { ComputeDriver, ComputeEvent, EnvRef, InstanceSpec, InstanceState, InstanceStatus, LogLevel, LogStore } from '../../core/ports.ts';
import { deadlineMs, describeProbe, runProbe, type ProbePlan, type ProbeResult } from './health-probe.ts';
import { freePort } from './free-port.ts';
import { envKey, newInstance, statusOf, type Instance } from './instance.ts';
import { exitedFailure, exitText, neverHealthy, outOfMemory, spawnFailure, stoppedWhileWaiting } from './instance-errors.ts';
import { InstanceSandbox, type SpawnPlan } from './instance-sandbox.ts';
import { argv, checkSpec, commandText, processEnv, writeSecrets } from './instance-spec.ts';
import { LineSplitter, levelOf, type StreamName } from './log-line.ts';
import { reapOrphanedInstances, type OrphanReport } from './orphan-reaper.ts';
import { signalGroup, terminateGroup } from './process-group.ts';
import { recordSpawn } from './process-record.ts';
import { detectSandbox, isolationOf } from './sandbox/sandbox.ts';
import type { Isolation } from '../../contract/responses.ts';
import { withTimeout } from './with-timeout.ts';

export interface ProcessDriverOptions {
  /**
   * Per-instance directories live under `<dataDir>/instances/<id>`: the secret files and
   * `process.json`, the record that lets `reapOrphans` find the instance after a platform crash.
   */
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
  /** How instances are started. @default the best sandbox this machine gives (see sandbox/sandbox.ts) */
  readonly sandbox?: InstanceSandbox;
}

const HOST = '127.0.0.1';
// An instance without ports has nothing to probe; staying up this long counts as healthy.
const UPTIME_HEALTHY_MS = 1000;
// A fresh instance is probed at least this often, so a rollout need not wait a full interval.
const STARTING_PROBE_MS = 250;
const UNHEALTHY_AFTER_FAILURES = 3;
// Enough to hold a typical runtime's dying words (a Node stack trace runs to about ten lines).
const STDERR_TAIL_LINES = 10;
// Output still buffered in the pipes when the process exits belongs before the "crashed" line.
const DRAIN_MS = 200;

export class ProcessDriver implements ComputeDriver {
  private shuttingDown = false;
  private readonly dataDir: string;
  private readonly logs: LogStore;
  private readonly restartBackoffMs: number[];
  private readonly stopGraceMs: number;
  readonly sandbox: InstanceSandbox;
  private readonly instances = new Map<string, Instance>();
  private readonly listeners = new Set<(event: ComputeEvent) => void>();
  /** Wakes `waitHealthy` callers when any instance changes state. */
  private readonly changeWaiters = new Set<(instance: Instance) => void>();

  constructor(options: ProcessDriverOptions) {
    this.dataDir = options.dataDir;
    this.logs = options.logs;
    this.restartBackoffMs = options.restartBackoffMs ?? [1000, 2000, 4000, 8000, 16000, 30000];
    this.stopGraceMs = options.stopGraceMs ?? 5000;
    this.sandbox = options.sandbox ?? new InstanceSandbox(detectSandbox(), options.dataDir);
    if (this.restartBackoffMs.length === 0) {
      throw new InvalidInputError('invalid-backoff', 'restartBackoffMs is empty; give at least one delay in milliseconds, e.g. [1000]');
    }
  }

  async startInstances(spec: InstanceSpec, count: number): Promise<string[]> {
    // After shutdown began, a still-running operation must not start what nobody will stop.
    if (this.shuttingDown) throw new CapacityError('platform-stopping', 'the platform is stopping; no instance can start now', { next: ['npm start', 'berth deploy --wait'] });
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

  async list(env: EnvRef): Promise<InstanceStatus[]> {
    const key = envKey(env);
    return [...this.instances.values()].filter((i) => i.envKey === key).map(statusOf);
  }

  /**
   * How a command run inside a running instance (`berth exec`) starts: in the instance's sandbox,
   * its working dir, with its full environment (config, PORT, BERTH_*, the secrets dir) and
   * TERM for a terminal (`tty`). Undefined when the instance is not in this env or is not running
   * (stopping, crashed).
   */
  execLaunch(env: EnvRef, instanceId: string, command: string[], options: { tty?: boolean } = {}): SpawnPlan | undefined {
    const instance = this.instances.get(instanceId);
    if (!instance || instance.envKey !== envKey(env) || !instance.running || instance.stopRequested) return undefined;
    return this.sandbox.exec(instance, command, options.tty ? { TERM: 'xterm-256color' } : {}, options.tty);
  }

  /** What this driver's sandbox gives each instance. */
  isolation(): Isolation {
    return isolationOf(this.sandbox.support);
  }

  onEvent(listener: (event: ComputeEvent) => void): () => void {
    this.listeners.add(listener);
    return () => {
      this.listeners.delete(listener);
    };
  }

  /**
   * Env destroy: an instance still here (one that crashed after StopEnvInstances listed the env)
   * stops; each instance's dir, its secret files included, goes when it stops, so nothing else is left.
   */
  async destroyEnv(env: EnvRef): Promise<void> {
    const key = envKey(env);
    await Promise.all([...this.instances.values()].filter((i) => i.envKey === key).map((instance) => this.stop(instance)));
  }

  async shutdown(): Promise<void> {
    this.shuttingDown = true;
    await Promise.all([...this.instances.values()].map((instance) => this.stop(instance)));
  }

  /**
   * Stops the instances an earlier run of the platform left running (it was killed before it
   * could stop them) and removes their dirs, secrets included; call at startup, before starting
   * instances. A recorded pid is signalled only if /proc shows it is still the process spawned.
   */
  async reapOrphans(): Promise<OrphanReport> {
    const reaped = await reapOrphanedInstances(path.join(this.dataDir, 'instances'), this.stopGraceMs, (id) => this.instances.has(id));
    this.sandbox.sweep((id) => this.instances.has(id));
    return reaped;
  }

  private async prepare(spec: InstanceSpec): Promise<Instance> {
    // A user this machine does not know fails the rollout as invalid input before anything starts.
    this.sandbox.runAs(spec);
    const id = `i-${randomBytes(4).toString('hex')}`;
    const addresses: Instance['addresses'] = {};
    for (const containerPort of spec.workload.ports ?? []) addresses[containerPort] = { host: HOST, port: await freePort(HOST, this.portsTaken()) };
    const dir = path.join(this.dataDir, 'instances', id);
    const secretsDir = writeSecrets(path.join(dir, 'secrets'), spec.secretBundles);
    const uid = this.sandbox.claim(envKey(spec.env), spec, secretsDir);
    const places = this.sandbox.places(spec, secretsDir);
    return newInstance({ id, spec, addresses, processEnv: processEnv(spec, id, addresses, places), dir, uid });
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
    instance.outOfMemory = undefined;
    const command = argv(instance.spec.workload.command);
    let plan: SpawnPlan;
    try {
      plan = this.sandbox.launch(instance, generation);
    } catch (err) {
      // A cgroup or a mount point that cannot be made is the machine's fault, not the release's.
      if (!(err as NodeJS.ErrnoException).code) throw err;
      instance.running = false;
      this.onCrash(instance, null, null, err as NodeJS.ErrnoException);
      return;
    }
    const child = spawn(plan.file, plan.args, {
      cwd: plan.cwd,
      env: plan.env,
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
      instance.outOfMemory = this.sandbox.ended(instance).outOfMemory;
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
    this.recordProcess(instance, child.pid, [command[0], ...command[1]]);
    const restart = instance.restarts > 0 ? `, restart ${instance.restarts}` : '';
    this.report(instance, 'instance.started', 'info', `started (pid ${child.pid}${restart}): ${commandText(instance.spec.workload.command)}`);
    this.watchHealth(instance, generation);
  }

  /** Leaves the pid where a platform restarted after SIGKILL finds it (see `reapOrphans`). */
  private recordProcess(instance: Instance, pid: number, command: string[]): void {
    try {
      recordSpawn(instance.dir, pid, command, instance.startedAt);
    } catch (err) {
      // The instance runs either way, and a throw here (a restart's timer) would take the platform
      // down; without the record it is merely orphaned should the platform be killed.
      if (!(err as NodeJS.ErrnoException).code) throw err;
      this.systemLine(instance, 'error', `could not record pid ${pid} in ${instance.dir}: ${(err as Error).message}; if the platform is killed, stop it by hand`);
    }
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
      instance.failure = spawnError ? spawnFailure(instance, spawnError) : instance.outOfMemory ? outOfMemory(instance) : exitedFailure(instance, code, signal, this.sandbox.isolated);
      const how = spawnError ? `could not start: ${spawnError.message}` : `crashed before becoming healthy: ${crashText(instance, code, signal)}`;
      this.report(instance, 'instance.crashed', 'error', how);
      this.setState(instance, 'crashed');
      return;
    }
    const how = `crashed: ${crashText(instance, code, signal)}`;
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
      const how = wasRunning ? await terminateGroup(instance.pid!, instance.exited, this.stopGraceMs) : 'was not running';
      this.setState(instance, 'stopped');
      this.report(instance, 'instance.stopped', 'info', `stopped (${how})`);
      this.instances.delete(instance.id);
      // Secret files must not outlive the instance they were delivered to.
      rmSync(instance.dir, { recursive: true, force: true });
    })();
    return instance.stopped;
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

  private portsTaken(): Set<number> {
    return new Set([...this.instances.values()].flatMap((i) => Object.values(i.addresses).map((a) => a.port)));
  }
}

function crashText(instance: Instance, code: number | null, signal: NodeJS.Signals | null): string {
  const limit = instance.spec.workload.memory ?? WORKLOAD_DEFAULTS.memory;
  return instance.outOfMemory ? `killed for going over its memory limit of ${limit} MiB (${exitText(code, signal)})` : exitText(code, signal);
}

function nextProbeMs(instance: Instance, plan: ProbePlan): number {
  return instance.state === 'starting' ? Math.min(plan.intervalMs, STARTING_PROBE_MS) : plan.intervalMs;
}
