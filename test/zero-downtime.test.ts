// A rolling deploy loses no request: a client opening a new TCP connection per request to the
// endpoint on [::1], back to back for the whole rollout, sees only 200s, first from rel-1, then
// from rel-2, and never rel-1 again once rel-2 alone serves.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { issueOwnerToken } from '../functions/api/auth.ts';
import { startEmbeddedPlatform, type EmbeddedPlatform } from '../functions/embedded/platform.ts';
import { freePort } from './support/free-port.ts';
import { closeLeavingNothing, get6, RolloutClient, rolloutManifest, writeRolloutApp } from './support/rollout-app.ts';

let dir: string;
let platform: EmbeddedPlatform;
let client: RolloutClient;
let port: number;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'berth-zero-downtime-'));
  platform = await startEmbeddedPlatform({ home: join(dir, 'home'), port: 0, version: 'test', reconcileIntervalMs: 0 });
  const token = (await issueOwnerToken(platform.deps.store, 'tester')).token;
  client = new RolloutClient(platform.url, token, { org: 'acme', project: 'shop', app: 'zdt', env: 'prod' });
  await client.createEnv();
  port = await freePort();
}, 60_000);

afterAll(() => closeLeavingNothing(platform, dir));

interface Outcome {
  ok: boolean;
  status?: number;
  release?: string;
  instance?: string;
  error?: string;
  at: number;
}

describe('rolling deploy under load', () => {
  it('serves every request, one new connection each, while rel-2 replaces rel-1 in batches', async () => {
    const appDir = join(dir, 'app');
    writeRolloutApp(appDir);
    const digest = await client.upload(appDir);
    const manifest = rolloutManifest({ app: 'zdt', count: 2, endpointPort: port, maxSurge: 1, intervalSeconds: 0.2 });

    const first = await client.deploy(manifest, digest);
    expect(first.releaseId).toBe('rel-1');
    expect(await client.waitOperation(first.operationId)).toMatchObject({ status: 'succeeded' });
    await platform.orchestrator.idle();
    expect(JSON.parse((await get6(port)).body).release).toBe('rel-1');

    // Back-to-back requests, each on its own connection, until told to stop.
    const outcomes: Outcome[] = [];
    let stop = false;
    const loop = (async () => {
      while (!stop) {
        try {
          const res = await get6(port, '/', 5000);
          const body = JSON.parse(res.body) as { release: string; instance: string };
          outcomes.push({ ok: true, status: res.status, release: body.release, instance: body.instance, at: Date.now() });
        } catch (err) {
          outcomes.push({ ok: false, error: `${(err as NodeJS.ErrnoException).code ?? ''} ${(err as Error).message}`, at: Date.now() });
        }
      }
    })();

    // Some traffic on rel-1 first, so the switch is visible.
    await new Promise((r) => setTimeout(r, 200));
    const started = Date.now();
    const second = await client.deploy(manifest, digest);
    expect(second.releaseId).toBe('rel-2');
    const op = await client.waitOperation(second.operationId, 25_000);
    await platform.orchestrator.idle();
    const finished = Date.now();
    await new Promise((r) => setTimeout(r, 300));
    stop = true;
    await loop;

    const during = outcomes.filter((o) => o.at >= started && o.at <= finished).length;
    const releases = outcomes.map((o) => o.release);
    const instances = new Set(outcomes.map((o) => o.instance).filter(Boolean));
    const failures = outcomes.filter((o) => !o.ok || o.status !== 200);
    console.log(
      `zero-downtime: ${outcomes.length} requests in total, ${during} during the ${finished - started} ms deploy of rel-2; ` +
        `${releases.filter((r) => r === 'rel-1').length} from rel-1, ${releases.filter((r) => r === 'rel-2').length} from rel-2; ` +
        `${instances.size} distinct instances; ${failures.length} failures${failures.length ? `: ${failures.slice(0, 5).map((f) => f.error ?? f.status).join('; ')}` : ''}`,
    );

    expect(op).toMatchObject({ status: 'succeeded' });
    expect(failures).toEqual([]);
    expect(during).toBeGreaterThan(20);

    // The switch: rel-1 first, rel-2 at the end, and once rel-1 stops answering it never comes back.
    expect(releases[0]).toBe('rel-1');
    const lastRel1 = releases.lastIndexOf('rel-1');
    const firstRel2 = releases.indexOf('rel-2');
    expect(firstRel2).toBeGreaterThan(0);
    expect(releases.slice(lastRel1 + 1).every((r) => r === 'rel-2')).toBe(true);
    expect(releases.slice(-20)).toEqual(Array(20).fill('rel-2'));
    expect(releases.every((r) => r === 'rel-1' || r === 'rel-2')).toBe(true);

    // Two batches (maxSurge 1, count 2) and four instances in all: two of rel-1, then two of rel-2.
    const events = await client.events();
    const batches = events.filter((e) => e.operationId === second.operationId && e.type === 'instances.starting');
    expect(batches.length).toBe(2);
    const status = await client.status();
    const rel2Ids = status.workloads[0].instances.map((i: { id: string }) => i.id).sort();
    expect(status.workloads[0].instances.map((i: { releaseId: string }) => i.releaseId)).toEqual(['rel-2', 'rel-2']);
    expect(status.endpoints[0].targets.sort()).toEqual(rel2Ids);
    const seenRel2 = [...new Set(outcomes.filter((o) => o.release === 'rel-2').map((o) => o.instance))].sort();
    const seenRel1 = new Set(outcomes.filter((o) => o.release === 'rel-1').map((o) => o.instance));
    expect(seenRel2).toEqual(rel2Ids);
    expect(seenRel1.size).toBe(2);
    expect(instances.size).toBe(4);
  }, 40_000);
});
