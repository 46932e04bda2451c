// Drift: someone changes the running env by hand (stops an instance, kills a process, removes an
// endpoint listener). The periodic reconcile (every 300 ms here) or the driver's own supervision
// brings it back to the desired state, and the events say what happened.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { issueOwnerToken } from '../functions/api/auth.ts';
import { startEmbeddedPlatform, type EmbeddedPlatform } from '../functions/embedded/platform.ts';
import { freePort } from './support/free-port.ts';
import { closeLeavingNothing, get6, instancePid, processAlive, RolloutClient, rolloutManifest, until, writeRolloutApp, type EventRecord } from './support/rollout-app.ts';

const NAMES = { org: 'acme', project: 'shop', app: 'drifty', env: 'prod' };
const ENV = NAMES;

let dir: string;
let home: string;
let platform: EmbeddedPlatform;
let client: RolloutClient;
let port: number;

interface Instance {
  id: string;
  state: string;
  releaseId: string;
  restarts: number;
}

async function instances(): Promise<Instance[]> {
  return (await client.status()).workloads[0]?.instances ?? [];
}

/** Resolves once the env runs `count` healthy rel-1 instances, nothing else, the endpoint targets exactly them, and no operation runs. */
async function converged(count: number, timeoutMs: number): Promise<Record<string, any>> {
  return until(
    async () => {
      const s = await client.status();
      const mine: Instance[] = s.workloads[0]?.instances ?? [];
      const healthy = mine.filter((i) => i.state === 'healthy' && i.releaseId === 'rel-1').map((i) => i.id).sort();
      const targets = [...(s.endpoints[0]?.targets ?? [])].sort();
      return s.activeOperation === null && mine.length === count && healthy.length === count && targets.join() === healthy.join() ? s : undefined;
    },
    timeoutMs,
    `${count} healthy instances of rel-1 behind the endpoint`,
  );
}

function eventsAfter(events: EventRecord[], marker: string | undefined): EventRecord[] {
  if (!marker) return events;
  const i = events.findIndex((e) => e.id === marker);
  return i < 0 ? events : events.slice(i + 1);
}

async function lastEventId(): Promise<string | undefined> {
  return (await client.events()).at(-1)?.id;
}

/** The reconcile operations started after `marker`, with their final status. */
async function reconcileOperations(marker: string | undefined): Promise<{ id: string; message: string; status: string }[]> {
  const accepted = eventsAfter(await client.events(), marker).filter((e) => e.type === 'operation.accepted' && e.message.startsWith('reconcile'));
  return Promise.all(accepted.map(async (e) => ({ id: e.operationId!, message: e.message, status: (await client.waitOperation(e.operationId!)).status })));
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'berth-drift-'));
  home = join(dir, 'home');
  platform = await startEmbeddedPlatform({ home, port: 0, version: 'test', reconcileIntervalMs: 300 });
  const token = (await issueOwnerToken(platform.deps.store, 'tester')).token;
  client = new RolloutClient(platform.url, token, NAMES);
  await client.createEnv();
  port = await freePort();
  const appDir = join(dir, 'app');
  writeRolloutApp(appDir);
  const digest = await client.upload(appDir);
  const receipt = await client.deploy(rolloutManifest({ app: NAMES.app, count: 2, endpointPort: port }), digest);
  expect(await client.waitOperation(receipt.operationId)).toMatchObject({ status: 'succeeded' });
  await converged(2, 10_000);
}, 60_000);

afterAll(() => closeLeavingNothing(platform, dir));

describe('drift', () => {
  it('replaces an instance stopped by hand, through a reconcile operation', async () => {
    const marker = await lastEventId();
    const [victim, survivor] = await instances();
    const t0 = Date.now();
    await platform.deps.compute.stopInstances(ENV, [victim.id]);
    expect((await instances()).map((i) => i.id)).toEqual([survivor.id]);

    const s = await converged(2, 8_000);
    console.log(`drift (a) instance stopped by hand: back to 2 healthy in ${Date.now() - t0} ms`);
    const ids = s.workloads[0].instances.map((i: Instance) => i.id);
    expect(ids).toContain(survivor.id);
    expect(ids).not.toContain(victim.id);

    const events = eventsAfter(await client.events(), marker);
    const drift = events.find((e) => e.type === 'drift.detected');
    expect(drift?.message).toContain('web has 1 of 2 instances');
    const reconciles = await reconcileOperations(marker);
    expect(reconciles.length).toBeGreaterThanOrEqual(1);
    expect(reconciles[0].message).toMatch(/^reconcile op-\S+ started: converging to rel-1 \(/);
    expect(reconciles.every((r) => r.status === 'succeeded')).toBe(true);
    const started = events.find((e) => e.type === 'instances.starting' && e.operationId === reconciles[0].id);
    expect(started?.message).toContain('starting 1 of 2 web instances (rel-1)');
    // The env still says rel-1, and nothing else changed.
    expect(s).toMatchObject({ currentReleaseId: 'rel-1', desiredReleaseId: 'rel-1', converged: true });
  });

  it('restarts an instance whose process was killed from outside, and the endpoint targets both again', async () => {
    const marker = await lastEventId();
    const [victim] = await instances();
    const pid = instancePid(home, victim.id);
    const t0 = Date.now();
    process.kill(pid, 'SIGKILL');
    // First the crash is seen…
    await until(async () => (await instances()).find((i) => i.id === victim.id)?.state !== 'healthy', 5_000, `${victim.id} to be seen crashed`);
    // …then the env is whole again.
    const s = await converged(2, 10_000);
    console.log(`drift (b) instance process killed: back to 2 healthy in ${Date.now() - t0} ms`);
    const again = s.workloads[0].instances.find((i: Instance) => i.id === victim.id);
    expect(again).toMatchObject({ state: 'healthy', restarts: 1, lastExit: { signal: 'SIGKILL' } });
    expect(s.endpoints[0].targets).toHaveLength(2);
    expect(s.endpoints[0].targets).toContain(victim.id);
    const newPid = instancePid(home, victim.id);
    expect(newPid).not.toBe(pid);
    expect(processAlive(newPid)).toBe(true);

    const events = eventsAfter(await client.events(), marker).filter((e) => !e.instance || e.instance === victim.id);
    const types = events.map((e) => e.type);
    expect(events.find((e) => e.type === 'instance.crashed')?.message).toMatch(/crashed: .*SIGKILL/);
    expect(types).toContain('instance.restarting');
    expect(events.find((e) => e.type === 'instance.healthy')?.message).toMatch(/^healthy again/);
    expect(types.indexOf('instance.crashed')).toBeLessThan(types.indexOf('instance.restarting'));
    expect(types.indexOf('instance.restarting')).toBeLessThan(types.lastIndexOf('instance.healthy'));
    // Any reconcile that ran meanwhile (the endpoint briefly targeted a dead instance) succeeded.
    const reconciles = await reconcileOperations(marker);
    console.log(`drift (b): ${reconciles.length} reconcile operation(s) while the instance restarted`);
    expect(reconciles.every((r) => r.status === 'succeeded')).toBe(true);
    expect(JSON.parse((await get6(port)).body).release).toBe('rel-1');
  });

  it('restores an endpoint listener removed by hand', async () => {
    const marker = await lastEventId();
    expect(JSON.parse((await get6(port)).body).release).toBe('rel-1');
    const t0 = Date.now();
    await platform.deps.endpoints.remove(ENV, 'web');
    await expect(get6(port, '/', 1000)).rejects.toMatchObject({ code: 'ECONNREFUSED' });

    const body = await until(async () => JSON.parse((await get6(port, '/', 1000)).body), 8_000, 'the endpoint to answer again');
    console.log(`drift (c) endpoint listener removed: answering again in ${Date.now() - t0} ms`);
    expect(body.release).toBe('rel-1');
    const s = await converged(2, 5_000);
    expect(s.endpoints[0].listeners).toEqual([{ family: 'IPv6', address: '::1', port }]);

    const events = eventsAfter(await client.events(), marker);
    expect(events.find((e) => e.type === 'drift.detected')?.message).toContain('endpoint web has no listener');
    const reconciles = await reconcileOperations(marker);
    expect(reconciles.length).toBeGreaterThanOrEqual(1);
    expect(reconciles.every((r) => r.status === 'succeeded')).toBe(true);
    expect(events.some((e) => e.type === 'endpoint.updated' && e.operationId === reconciles[0].id && e.message.includes(`[::1]:${port}`))).toBe(true);
  });
});
