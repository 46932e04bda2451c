// The platform process is killed (SIGKILL) in the middle of a rollout, while the new release's
// instance waits to become healthy. Sandboxed instances die with their platform (their launcher
// has PR_SET_PDEATHSIG, and its PID namespace goes with it); unsandboxed ones live on as orphans.
// The platform restarted on the same home stops any orphan, removes their dirs, compensates the interrupted operation (failed, platform-restarted,
// at the step it was in) and serves the previous release again on the same endpoint.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { detectSandbox } from '../functions/drivers/local/sandbox/sandbox.ts';
import { startPlatformProcess, type RunningPlatform } from './support/cli-harness.ts';
import { freePort } from './support/free-port.ts';
import { get6, instancePid, parentPid, processAlive, processesUnder, RolloutClient, rolloutManifest, until, writeRolloutApp } from './support/rollout-app.ts';

const ARGS = ['--reconcile-interval', '300'];
const sandboxed = detectSandbox().kind !== 'none';
const NAMES = { org: 'acme', project: 'shop', app: 'crashy', env: 'prod' };

let dir: string;
let home: string;
let port: number;
const platforms: RunningPlatform[] = [];
/** Every instance pid seen, so that none outlives the test. */
const pids = new Set<number>();

function clientFor(platform: RunningPlatform): RolloutClient {
  const { token } = JSON.parse(readFileSync(join(home, 'credentials.json'), 'utf8')) as { token: string };
  return new RolloutClient(platform.url, token, NAMES);
}

function exited(platform: RunningPlatform): Promise<void> {
  return new Promise((resolve) => (platform.process.exitCode !== null || platform.process.signalCode !== null ? resolve() : platform.process.once('exit', () => resolve())));
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'berth-crash-'));
  home = join(dir, 'home');
  port = await freePort();
});

/** SIGTERM, then SIGKILL if the platform has not exited within `graceMs`. */
async function stopPlatform(platform: RunningPlatform, graceMs = 10_000): Promise<void> {
  const child = platform.process;
  if (child.exitCode !== null || child.signalCode !== null) return; // (RunningPlatform.stop() would wait forever here)
  const gone = exited(platform);
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
  await gone;
  clearTimeout(timer);
}

afterAll(async () => {
  for (const p of platforms) await stopPlatform(p);
  // Whatever a failed assertion left behind: no process of this test may outlive it.
  const leaked = processesUnder(dir);
  for (const { pid } of leaked) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      /* already gone */
    }
  }
  rmSync(dir, { recursive: true, force: true });
  expect(leaked, 'processes still running after the test').toEqual([]);
}, 30_000);

describe('platform killed during a rollout', () => {
  it('reaps the orphan, fails the operation as platform-restarted and serves the previous release again', async () => {
    const first = await startPlatformProcess(home, ARGS);
    platforms.push(first);
    let client = clientFor(first);
    await client.createEnv();
    const appDir = join(dir, 'app');
    writeRolloutApp(appDir);
    const digest = await client.upload(appDir);

    const rel1 = await client.deploy(rolloutManifest({ app: NAMES.app, count: 1, endpointPort: port }), digest);
    expect(await client.waitOperation(rel1.operationId)).toMatchObject({ status: 'succeeded' });
    expect(JSON.parse((await get6(port)).body).release).toBe('rel-1');
    const rel1Instance = (await client.status()).workloads[0].instances[0].id as string;
    const rel1Pid = instancePid(home, rel1Instance);
    pids.add(rel1Pid);

    // rel-2 listens only after 30 s: the rollout sits in WaitForBatchHealthy.
    const rel2 = await client.deploy(rolloutManifest({ app: NAMES.app, count: 1, endpointPort: port, listenAfterMs: 30_000, deadlineSeconds: 60 }), digest);
    await until(async () => (await client.operation(rel2.operationId)).step === 'WaitForBatchHealthy', 10_000, 'the rollout to reach WaitForBatchHealthy');
    const rel2Instance = (await client.status()).workloads[0].instances.find((i: { releaseId: string }) => i.releaseId === 'rel-2')?.id as string;
    expect(rel2Instance).toMatch(/^i-[0-9a-f]{8}$/);
    const orphanPid = instancePid(home, rel2Instance);
    pids.add(orphanPid);
    expect(parentPid(orphanPid)).toBe(first.process.pid);

    first.process.kill('SIGKILL');
    await exited(first);
    if (sandboxed) {
      // Nothing outlives the platform: no process could be left holding ports, memory or secrets.
      await until(() => !processAlive(orphanPid) && !processAlive(rel1Pid), 5_000, 'the instances to end with their platform');
    } else {
      // Detached into its own process group, the instance survives its platform: an orphan.
      await new Promise((r) => setTimeout(r, 200));
      expect(processAlive(orphanPid)).toBe(true);
      expect(parentPid(orphanPid)).not.toBe(first.process.pid);
      expect(processAlive(rel1Pid)).toBe(true);
    }

    const restartedAt = Date.now();
    const second = await startPlatformProcess(home, ARGS);
    platforms.push(second);
    expect(second.url).not.toBe(first.url);
    const apiUpAt = Date.now();
    client = clientFor(second);

    await until(() => !processAlive(orphanPid), 20_000, `orphan ${orphanPid} to be stopped`);
    const orphanGoneMs = Date.now() - restartedAt;
    const op = await client.waitOperation(rel2.operationId, 20_000);
    const status = await until(async () => {
      const s = await client.status();
      return s.activeOperation === null && s.workloads[0]?.current.healthy === 1 ? s : undefined;
    }, 20_000, 'the env to converge on rel-1');
    const body = await until(async () => JSON.parse((await get6(port, '/', 2000)).body), 20_000, 'the endpoint to answer again');
    const recoveredMs = Date.now() - restartedAt;
    console.log(
      `crash-recovery: after the restart, API up in ${apiUpAt - restartedAt} ms, orphan gone by ${orphanGoneMs} ms, ` +
        `rel-1 serving again at ${recoveredMs} ms (${Date.now() - apiUpAt} ms after the API was up)`,
    );

    expect(op).toMatchObject({ status: 'failed', error: { category: 'internal', code: 'platform-restarted', step: 'WaitForBatchHealthy' } });
    expect(op.step).toBe('WaitForBatchHealthy');
    expect(op.error.message).toContain('rel-1');
    expect(second.output()).toContain(`cleaned up 2 instance(s) of a previous platform process (${sandboxed ? 'ended with it' : '2 still running, stopped'})`);
    expect(second.output()).toContain(`compensating 1 operation(s) interrupted by a restart: ${rel2.operationId}`);

    const events = await client.events();
    const recovering = events.find((e) => e.type === 'operation.recovering' && e.operationId === rel2.operationId);
    expect(recovering?.message).toContain('was interrupted at WaitForBatchHealthy');
    expect(events.some((e) => e.type === 'operation.failed' && e.operationId === rel2.operationId)).toBe(true);

    expect(status).toMatchObject({ currentReleaseId: 'rel-1', desiredReleaseId: 'rel-1', activeOperation: null, converged: true });
    expect(status.workloads[0].instances.map((i: { releaseId: string; state: string }) => `${i.releaseId}:${i.state}`)).toEqual(['rel-1:healthy']);
    const newRel1 = status.workloads[0].instances[0].id as string;
    expect(status.endpoints[0].targets).toEqual([newRel1]);
    pids.add(instancePid(home, newRel1));
    expect(body.release).toBe('rel-1');
    expect(body.instance).toBe(newRel1);
    // The old rel-1 process was an orphan too: reaped, then replaced by a supervised one.
    expect(processAlive(rel1Pid)).toBe(false);
    const releases = await client.call('GET', `${client.envPath}/releases`);
    expect(releases.body.releases.map((r: { id: string; status: string }) => `${r.id}:${r.status}`)).toEqual(['rel-2:failed', 'rel-1:active']);

    await stopPlatform(second);
    expect([...pids].filter(processAlive)).toEqual([]);
    // Nothing else either: an instance started while the platform shut down would show up here.
    await new Promise((r) => setTimeout(r, 300));
    expect(processesUnder(dir)).toEqual([]);
  }, 60_000);
});
