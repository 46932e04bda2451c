import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Workload } from '../functions/contract/manifest.ts';
import { BerthError } from '../functions/core/errors.ts';
import type { ComputeEvent, EnvRef, InstanceSpec } from '../functions/core/ports.ts';
import { FileLogStore } from '../functions/drivers/local/log-files.ts';
import { ProcessDriver } from '../functions/drivers/local/process-driver.ts';
import { sandboxPath } from '../functions/drivers/local/sandbox/sandbox.ts';
import { pidsRunning, uniqueSleep } from './support/processes.ts';

const env: EnvRef = { org: 'acme', project: 'shop', app: 'api', env: 'prod' };

// A tiny app whose behaviour is chosen by MODE; it logs a line of each kind at start.
const SERVER = `
const http = require('node:http');
const fs = require('node:fs');
const mode = process.env.MODE || 'serve';
console.log('INFO starting on ' + process.env.PORT);
console.log('plain stdout line');
console.error('WARN: disk almost full');
console.error('plain stderr line');
console.log(JSON.stringify({ level: 'debug', msg: 'structured detail' }));
console.log('[error] bracketed failure');
if (mode === 'never-listen') {
  setInterval(() => {}, 1000);
} else {
  let failing = false;
  http.createServer((req, res) => {
    if (req.url === '/healthz') {
      if (mode === 'crash-once' && !fs.existsSync('crashed-once')) {
        fs.writeFileSync('crashed-once', '');
        setTimeout(() => { console.error('simulated crash'); process.exit(3); }, 50);
      }
      res.writeHead(failing ? 500 : 200);
      return res.end();
    }
    if (req.url === '/fail') failing = true;
    if (req.url === '/recover') failing = false;
    if (req.url === '/env') return res.end(JSON.stringify(process.env));
    if (req.url === '/secret') return res.end(fs.readFileSync(process.env.BERTH_SECRETS_DIR + '/db.json'));
    res.end('hello from ' + process.env.BERTH_INSTANCE_ID);
  }).listen(Number(process.env.PORT), '127.0.0.1');
}
`;

const httpCheck = { type: 'http', path: '/healthz', intervalSeconds: 0.1, timeoutSeconds: 1, deadlineSeconds: 10 } as const;

describe('ProcessDriver', () => {
  let root: string;
  let workdir: string;
  let logs: FileLogStore;
  let driver: ProcessDriver;
  let events: ComputeEvent[];

  beforeEach(() => {
    root = mkdtempSync(path.join(os.tmpdir(), 'berth-procs-'));
    workdir = path.join(root, 'release');
    mkdirSync(workdir);
    writeFileSync(path.join(workdir, 'server.js'), SERVER);
    // The temp dir has no package.json above it, but be explicit: server.js is CommonJS.
    writeFileSync(path.join(workdir, 'package.json'), '{"type":"commonjs"}');
    logs = new FileLogStore(path.join(root, 'logs'));
    driver = new ProcessDriver({ dataDir: path.join(root, 'data'), logs, restartBackoffMs: [50], stopGraceMs: 1000 });
    events = [];
    driver.onEvent((e) => events.push(e));
  });

  afterEach(async () => {
    await driver.shutdown();
    await logs.close();
    rmSync(root, { recursive: true, force: true });
  });

  function spec(workload: Partial<Workload>, extra: Partial<InstanceSpec> = {}): InstanceSpec {
    return {
      env,
      releaseId: 'rel-7',
      revision: 'rev-1',
      workloadName: 'web',
      workload: { command: ['node', 'server.js'], ports: [8080], healthCheck: httpCheck, ...workload },
      workdir,
      environment: {},
      secretBundles: {},
      volumeDirs: {},
      ...extra,
    };
  }

  async function failure(promise: Promise<unknown>): Promise<BerthError> {
    const err = await promise.then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(BerthError);
    return err as BerthError;
  }

  it('starts an http server that becomes healthy and answers on its PORT', async () => {
    const [id] = await driver.startInstances(spec({}), 1);
    expect(id).toMatch(/^i-[0-9a-f]{8}$/);
    await driver.waitHealthy(env, [id]);

    const [status] = (await driver.list(env));
    expect(status).toMatchObject({ id, workload: 'web', releaseId: 'rel-7', state: 'healthy', restarts: 0 });
    const address = status.addresses[8080];
    expect(address.host).toBe('127.0.0.1');
    const res = await fetch(`http://127.0.0.1:${address.port}/`);
    expect(await res.text()).toBe(`hello from ${id}`);
    expect(events.map((e) => e.type)).toEqual(['instance.started', 'instance.healthy']);
    expect(events[1]).toMatchObject({ env, workload: 'web', instance: id, releaseId: 'rel-7' });
    expect(events[1].message).toContain('http GET :8080/healthz');
    expect((await driver.list({ ...env, env: 'staging' }))).toEqual([]);
  });

  it('delivers config, ports, Berth variables, volumes and secret files (0600 JSON) to the process', async () => {
    const volume = path.join(root, 'volumes', 'user-data');
    mkdirSync(volume, { recursive: true });
    const [id] = await driver.startInstances(
      spec(
        { ports: [8080, 9090], volumes: [{ volume: 'user-data', path: '/data' }] },
        { environment: { GREETING: 'hi', PORT: 'overridden-by-berth' }, secretBundles: { db: { DB_PASSWORD: 's3cret' } }, volumeDirs: { 'user-data': volume } },
      ),
      1,
    );
    await driver.waitHealthy(env, [id]);
    const { addresses } = (await driver.list(env))[0];
    const vars = (await (await fetch(`http://127.0.0.1:${addresses[8080].port}/env`)).json()) as Record<string, string>;

    expect(vars).toMatchObject({
      GREETING: 'hi',
      PORT: String(addresses[8080].port),
      BERTH_PORT_8080: String(addresses[8080].port),
      BERTH_PORT_9090: String(addresses[9090].port),
      BERTH_INSTANCE_ID: id,
      BERTH_RELEASE: 'rel-7',
      BERTH_APP: 'api',
      BERTH_ENV: 'prod',
      BERTH_WORKLOAD: 'web',
      // Sandboxed, an instance sees its volume where the manifest mounts it and the system's PATH.
      BERTH_VOLUME_USER_DATA: driver.sandbox.isolated ? '/data' : volume,
      PATH: driver.sandbox.isolated ? sandboxPath() : process.env.PATH,
    });
    expect(addresses[9090].port).not.toBe(addresses[8080].port);
    // Only PATH and HOME come from the host: no platform secrets leak into apps.
    expect(Object.keys(vars).filter((k) => k.startsWith('VITEST'))).toEqual([]);

    const secretsDir = path.join(root, 'data', 'instances', id, 'secrets');
    expect(vars.BERTH_SECRETS_DIR).toBe(driver.sandbox.isolated ? '/berth/secrets' : secretsDir);
    expect(JSON.parse(await (await fetch(`http://127.0.0.1:${addresses[8080].port}/secret`)).text())).toEqual({ DB_PASSWORD: 's3cret' });
    expect(statSync(secretsDir).mode & 0o777).toBe(0o700);
    const file = path.join(secretsDir, 'db.json');
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(JSON.parse(readFileSync(file, 'utf8'))).toEqual({ DB_PASSWORD: 's3cret' });

    await driver.stopInstances(env, [id]);
    expect(existsSync(secretsDir)).toBe(false);
  });

  it('writes stdout and stderr lines to the log store with their levels, next to system lines', async () => {
    const [id] = await driver.startInstances(spec({}), 1);
    await driver.waitHealthy(env, [id]);
    await eventually(async () => expect(await logs.query(env, { instance: id, source: 'app' })).toHaveLength(6));

    const app = await logs.query(env, { instance: id, source: 'app' });
    const byMessage = Object.fromEntries(app.map((l) => [l.message, l.level]));
    expect(byMessage).toEqual({
      [`INFO starting on ${(await driver.list(env))[0].addresses[8080].port}`]: 'info',
      'plain stdout line': 'info',
      'WARN: disk almost full': 'warn',
      'plain stderr line': 'error',
      '{"level":"debug","msg":"structured detail"}': 'debug',
      '[error] bracketed failure': 'error',
    });
    expect(app.every((l) => l.workload === 'web' && l.instance === id)).toBe(true);
    expect((await logs.query(env, { instance: id, source: 'app', level: 'warn' })).map((l) => l.message).sort()).toEqual([
      'WARN: disk almost full',
      '[error] bracketed failure',
      'plain stderr line',
    ]);
    const system = await logs.query(env, { source: 'system' });
    expect(system.map((l) => l.message.split(/[ :]/)[0])).toEqual(['started', 'healthy']);
  });

  it('rejects waitHealthy with image-pull when the command does not exist', async () => {
    const [id] = await driver.startInstances(spec({ command: ['berth-no-such-command-xyz', '--serve'] }), 1);
    const err = await failure(driver.waitHealthy(env, [id]));
    expect(err.category).toBe('image-pull');
    expect(err.code).toBe('command-failed');
    expect(err.message).toContain(id);
    expect(err.message).toContain('berth-no-such-command-xyz --serve');
    expect(err.next).toContain(`berth logs --instance ${id}`);
    // The failed instance stays for inspection until the caller stops it.
    expect((await driver.list(env))[0]).toMatchObject({ id, state: 'crashed', restarts: 0 });
  });

  it('rejects waitHealthy with health-check naming the exit code and stderr when the process exits before it is healthy', async () => {
    const [id] = await driver.startInstances(spec({ command: 'echo "cannot open config.yml" >&2; exit 3' }), 1);
    const err = await failure(driver.waitHealthy(env, [id]));
    expect(err).toMatchObject({ category: 'health-check', code: 'exited-before-healthy' });
    expect(err.message).toContain(id);
    expect(err.message).toContain('exited with code 3');
    expect(err.message).toContain('cannot open config.yml');
    expect(err.message).toContain('exit 3');
    expect((await driver.list(env))[0].lastExit).toMatchObject({ code: 3, signal: null });
    // No restart loop for a release that never came up.
    await new Promise((r) => setTimeout(r, 200));
    expect((await driver.list(env))[0]).toMatchObject({ state: 'crashed', restarts: 0 });
  });

  it('rejects waitHealthy with health-check when the server never listens by the deadline', async () => {
    const [id] = await driver.startInstances(spec({ healthCheck: { ...httpCheck, deadlineSeconds: 1.5 } }, { environment: { MODE: 'never-listen' } }), 1);
    const started = Date.now();
    const err = await failure(driver.waitHealthy(env, [id]));
    expect(Date.now() - started).toBeGreaterThanOrEqual(1300);
    expect(err.category).toBe('health-check');
    expect(err.code).toBe('never-healthy');
    expect(err.message).toContain(id);
    expect(err.message).toContain('http GET :8080/healthz');
    expect(err.message).toContain('ECONNREFUSED');
    expect((await driver.list(env))[0].state).toBe('starting');
  });

  it('restarts a process that crashes after becoming healthy, under the same id', async () => {
    const [id] = await driver.startInstances(spec({}, { environment: { MODE: 'crash-once' } }), 1);
    await driver.waitHealthy(env, [id]);
    await eventually(async () => expect((await driver.list(env))[0]).toMatchObject({ state: 'healthy', restarts: 1 }));

    const status = (await driver.list(env))[0];
    expect(status.id).toBe(id);
    expect(status.lastExit).toMatchObject({ code: 3, signal: null });
    expect(events.map((e) => e.type)).toEqual([
      'instance.started',
      'instance.healthy',
      'instance.crashed',
      'instance.restarting',
      'instance.started',
      'instance.healthy',
    ]);
    expect(events[2].message).toContain('exited with code 3');
    expect(events[3].message).toContain('50 ms');
    // The crash's last words stay readable after the process is gone.
    expect((await logs.query(env, { instance: id, level: 'error' })).map((l) => l.message)).toContain('simulated crash');
  });

  it('marks an instance unhealthy after three failed probes and healthy again when it recovers', async () => {
    const [id] = await driver.startInstances(spec({}), 1);
    await driver.waitHealthy(env, [id]);
    const port = (await driver.list(env))[0].addresses[8080].port;
    await fetch(`http://127.0.0.1:${port}/fail`);
    await eventually(async () => expect((await driver.list(env))[0].state).toBe('unhealthy'));
    expect(events.at(-1)).toMatchObject({ type: 'instance.unhealthy', instance: id });
    expect(events.at(-1)?.message).toContain('HTTP 500');
    await fetch(`http://127.0.0.1:${port}/recover`);
    await eventually(async () => expect((await driver.list(env))[0].state).toBe('healthy'));
    expect(events.at(-1)?.type).toBe('instance.healthy');
  });

  it('stopInstances also kills the children of a /bin/sh -c command', async () => {
    const sleep = uniqueSleep();
    const [id] = await driver.startInstances(spec({ command: `${sleep.join(' ')} & wait`, ports: [], healthCheck: undefined }), 1);
    await driver.waitHealthy(env, [id]);
    const [child] = pidsRunning(sleep);
    expect(alive(child)).toBe(true);

    await driver.stopInstances(env, [id]);
    expect(alive(child)).toBe(false);
    expect((await driver.list(env))).toEqual([]);
    expect(events.at(-1)).toMatchObject({ type: 'instance.stopped', instance: id });
    expect(events.some((e) => e.type === 'instance.crashed')).toBe(false);
  });

  it('kills a workload over its memory and reports it as capacity, naming the limit (cgroup limits, enforced as root)', async () => {
    expect(driver.sandbox.support.cgroups, 'this machine enforces no limits: run as root on Linux').toBeDefined();
    const hog = "const a = []; setInterval(() => a.push(Buffer.alloc(16 << 20, 1)), 5)";
    const [id] = await driver.startInstances(spec({ command: ['node', '-e', hog], ports: [], healthCheck: undefined, memory: 64 }), 1);
    const err = await failure(driver.waitHealthy(env, [id]));
    expect(err).toMatchObject({ category: 'capacity', code: 'memory-exceeded' });
    expect(err.message).toContain('memory limit of 64 MiB');
    expect((await logs.query(env, { instance: id, source: 'system' })).map((l) => l.message).join('\n')).toContain('killed for going over its memory limit of 64 MiB');
  });

  it('sends SIGKILL to a process that ignores SIGTERM once the grace period is over', async () => {
    const quick = new ProcessDriver({ dataDir: path.join(root, 'data2'), logs, stopGraceMs: 300 });
    try {
      const [id] = await quick.startInstances(spec({ command: "trap '' TERM; echo ready; while true; do sleep 0.1; done", ports: [], healthCheck: undefined }), 1);
      await eventually(async () => expect((await logs.query(env, { instance: id, source: 'app' })).map((l) => l.message)).toEqual(['ready']));
      const started = Date.now();
      await quick.stopInstances(env, [id]);
      expect(Date.now() - started).toBeGreaterThanOrEqual(280);
      expect((await quick.list(env))).toEqual([]);
      expect((await logs.query(env, { instance: id, source: 'system' })).at(-1)?.message).toContain('SIGKILL');
    } finally {
      await quick.shutdown();
    }
  });

  it('rejects a pending waitHealthy with conflict when the instance is stopped meanwhile', async () => {
    const [id] = await driver.startInstances(spec({}, { environment: { MODE: 'never-listen' } }), 1);
    const waiting = failure(driver.waitHealthy(env, [id]));
    await driver.stopInstances(env, [id]);
    const err = await waiting;
    expect(err.category).toBe('conflict');
    expect(err.message).toContain(id);
    // Stopping again, or an id that is gone, is a no-op.
    await driver.stopInstances(env, [id, 'i-00000000']);
    await expect(driver.waitHealthy(env, [id])).rejects.toMatchObject({ category: 'not-found' });
  });

  describe('reapOrphans after the platform was killed', () => {
    const strangers: number[] = [];

    afterEach(() => {
      for (const pid of strangers.splice(0)) kill(pid);
    });

    it('stops the instances a killed platform left running, /bin/sh -c children included, and removes their dirs', async () => {
      const dataDir = path.join(root, 'crashed');
      // The killed platform: its driver is dropped, never stopped or shut down.
      const crashed = new ProcessDriver({ dataDir, logs, restartBackoffMs: [50] });
      // Nothing answers the probe, so the instance stays `starting` and the dropped driver does not
      // restart it once it is reaped.
      const sleep = uniqueSleep();
      const command = `${sleep.join(' ')} & wait`;
      const [id] = await crashed.startInstances(spec({ command }, { secretBundles: { db: { DB_PASSWORD: 's3cret' } } }), 1);
      const instanceDir = path.join(dataDir, 'instances', id);
      const record = JSON.parse(readFileSync(path.join(instanceDir, 'process.json'), 'utf8'));
      expect(record).toEqual({ pid: expect.any(Number), pgid: record.pid, startedAt: expect.any(String), command: ['/bin/sh', '-c', command], procStartTime: expect.any(Number) });
      expect(existsSync(path.join(instanceDir, 'secrets', 'db.json'))).toBe(true);
      let child = 0;
      await eventually(() => expect((child = pidsRunning(sleep)[0] ?? 0)).toBeGreaterThan(0));
      expect(alive(record.pid)).toBe(true);
      expect(alive(child)).toBe(true);

      const restarted = new ProcessDriver({ dataDir, logs, stopGraceMs: 1000 });
      expect(await restarted.reapOrphans()).toEqual({ removed: [id], stopped: [id] });

      expect(alive(record.pid)).toBe(false);
      expect(alive(child)).toBe(false);
      expect(existsSync(instanceDir)).toBe(false);
      expect(await restarted.reapOrphans()).toEqual({ removed: [], stopped: [] });
      // Let the dropped driver see its process go before the log store is closed.
      await eventually(async () => expect((await crashed.list(env))[0]?.state).toBe('crashed'));
    });

    it('leaves alone a process that now has a recorded pid but another start time, and only removes the dir', async () => {
      const dataDir = path.join(root, 'reused');
      const stranger = spawn('sleep', ['30'], { detached: true, stdio: 'ignore' });
      strangers.push(stranger.pid!);
      const instanceDir = path.join(dataDir, 'instances', 'i-0000abcd');
      mkdirSync(path.join(instanceDir, 'secrets'), { recursive: true });
      writeFileSync(path.join(instanceDir, 'secrets', 'db.json'), '{}');
      const procStartTime = startTimeOf(stranger.pid!) - 1;
      const record = { pid: stranger.pid, pgid: stranger.pid, startedAt: new Date().toISOString(), command: ['sleep', '30'], procStartTime };
      writeFileSync(path.join(instanceDir, 'process.json'), JSON.stringify(record));

      const restarted = new ProcessDriver({ dataDir, logs, stopGraceMs: 100 });
      expect(await restarted.reapOrphans()).toEqual({ removed: ['i-0000abcd'], stopped: [] });

      expect(alive(stranger.pid!)).toBe(true);
      expect(existsSync(instanceDir)).toBe(false);
    });

    it('stops the children a dead leader left in its group only when they carry the instance id', async () => {
      const dataDir = path.join(root, 'leaderless');
      // A shell that exits at once, leaving its background child in the group: one run as the
      // instance would (BERTH_INSTANCE_ID set), one a stranger's.
      const ours = await leaderless({ BERTH_INSTANCE_ID: 'i-0000beef' });
      const theirs = await leaderless({});
      strangers.push(ours.child, theirs.child);
      for (const [id, group] of [['i-0000beef', ours], ['i-0000cafe', theirs]] as const) {
        const instanceDir = path.join(dataDir, 'instances', id);
        mkdirSync(instanceDir, { recursive: true });
        const record = { pid: group.leader, pgid: group.leader, startedAt: new Date().toISOString(), command: ['/bin/sh', '-c', '…'], procStartTime: 1 };
        writeFileSync(path.join(instanceDir, 'process.json'), JSON.stringify(record));
      }
      expect(alive(ours.leader)).toBe(false);
      expect(alive(ours.child)).toBe(true);

      const restarted = new ProcessDriver({ dataDir, logs, stopGraceMs: 1000 });
      const report = await restarted.reapOrphans();
      expect(report.removed.sort()).toEqual(['i-0000beef', 'i-0000cafe']);
      expect(report.stopped).toEqual(['i-0000beef']);

      expect(alive(ours.child)).toBe(false);
      expect(alive(theirs.child)).toBe(true);
      expect(readdirSync(path.join(dataDir, 'instances'))).toEqual([]);
    });
  });
});

/** Starts a process group whose leader exits at once, leaving a `sleep` behind in the group. */
async function leaderless(extraEnv: Record<string, string>): Promise<{ leader: number; child: number }> {
  const shell = spawn('/bin/sh', ['-c', 'sleep 30 >/dev/null 2>&1 & echo $!'], { detached: true, stdio: ['ignore', 'pipe', 'ignore'], env: { PATH: process.env.PATH, ...extraEnv } });
  let out = '';
  shell.stdout.on('data', (chunk: Buffer) => (out += chunk));
  await new Promise((resolve) => shell.once('close', resolve));
  return { leader: shell.pid!, child: Number(out.trim()) };
}

/** `/proc/<pid>/stat` field 22. */
function startTimeOf(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19]);
}

function kill(pid: number): void {
  try {
    process.kill(pid, 'SIGKILL');
  } catch {
    // Already gone.
  }
}

/** True while the process exists and is not a zombie (this sandbox's PID 1 does not reap orphans). */
function alive(pid: number): boolean {
  try {
    return !/^\d+ \(.*\) [ZX] /.test(readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return false;
  }
}

async function eventually(check: () => unknown, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      await check();
      return;
    } catch (err) {
      if (Date.now() > deadline) throw err;
      await new Promise((r) => setTimeout(r, 25));
    }
  }
}
