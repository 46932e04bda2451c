// Figure 3: the API under load. One server in this process serves both the Berth app (built by
// createApi from the embedded platform's deps, as `npm start` does) and the floors: a bare hono
// route, and a bare route making the same store reads as GET status (on the same client and
// dynalite). autocannon drives it from another process (bench/support/load-driver.ts; two cores:
// one each). Rounds alternate
// between the routes so that a burst of noise from the neighbours hits all of them alike.
import { spawn } from 'node:child_process';
import type { AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';
import { serve, type ServerType } from '@hono/node-server';
import { Hono } from 'hono';
import { createApi } from '../functions/api/app.ts';
import { progress, runAsScript, type FigureResult } from './lib/figure.ts';
import { makeRow } from './lib/report.ts';
import { benchManifest, createReadyEnv, envPath, freePort, startBenchPlatform, uploadApp } from './support/bench-platform.ts';
import { bareRoundTrips, countRoundTrips, minus } from './support/round-trips.ts';
import type { Load, LoadPlan } from './support/load-driver.ts';

const ROUNDS = 3;
const SECONDS = Number(process.env.BENCH_API_SECONDS ?? 2);
const CONNECTIONS = 10;
const DRIVER = fileURLToPath(new URL('./support/load-driver.ts', import.meta.url));

/** Runs the whole plan in one load-generator process; throws on any error or non-2xx answer. */
function drive(plan: LoadPlan): Promise<Record<string, Load[]>> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', DRIVER, JSON.stringify(plan)], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (err += d));
    child.on('error', reject);
    child.on('close', (code) => (code === 0 ? resolve(JSON.parse(out) as Record<string, Load[]>) : reject(new Error(`the load generator exited ${code}: ${err}`))));
  });
}

export async function measure(): Promise<FigureResult> {
  const bp = await startBenchPlatform();
  let server: ServerType | undefined;
  // Requests autocannon gave up on at the end of a run may still be reading the store; the store
  // must not close under them.
  let inFlight = 0;
  try {
    const ref = { org: 'bench', project: 'shop', app: 'web', env: 'prod' };
    await createReadyEnv(bp, ref);
    const digest = await uploadApp(bp, ref.org);
    await bp.call('POST', `${envPath(ref)}/deploys`, { manifest: benchManifest(ref.app, await freePort()), artifactDigest: digest }, 202);
    await bp.platform.orchestrator.idle();

    // What one `GET status` costs the store: the second floor does the same reads behind a bare route.
    const trips = countRoundTrips(bp.platform.dynamo.client);
    const before = trips.read();
    await bp.call('GET', `${envPath(ref)}/status`, undefined, 200);
    const perStatus = minus(trips.read(), before);
    const { client } = bp.platform.dynamo;
    await bareRoundTrips(client, { reads: 0, writes: 16 });

    // Without the per-token rate limit (20/s by default): it is a policy, and it would be the figure.
    const api = createApi(bp.platform.deps, { version: 'bench', rateLimits: false });
    const bare = new Hono()
      .get('/bare', (c) => c.json({ ok: true }))
      .get('/bare-store', async (c) => {
        await bareRoundTrips(client, perStatus);
        return c.json({ ok: true });
      });
    const route = (req: Request, env: unknown) => (/\/bare(-store)?$/.test(req.url) ? bare.fetch(req, env) : api.fetch(req, env));
    const fetchCounted = async (req: Request, env: unknown) => {
      inFlight++;
      try {
        return await route(req, env);
      } finally {
        inFlight--;
      }
    };
    server = await new Promise<ServerType>((resolve) => {
      const s = serve({ fetch: fetchCounted, port: 0, hostname: '127.0.0.1' }, () => resolve(s));
    });
    const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    const routes = { bare: `${base}/bare`, bareStore: `${base}/bare-store`, health: `${base}/v1/health`, status: `${base}${envPath(ref)}/status` };

    progress(`figure 3: autocannon, ${CONNECTIONS} connections, ${ROUNDS} rounds × ${SECONDS} s per route`);
    // One short unmeasured run warms Berth's request path (and the server's), so round 1 is not the JIT's.
    const plan: LoadPlan = { routes, warm: ['status'], rounds: ROUNDS, seconds: SECONDS, connections: CONNECTIONS, headers: { authorization: `Bearer ${bp.token}` } };
    const loads = (await drive(plan)) as Record<keyof typeof routes, Load[]>;
    const floor = (name: keyof typeof routes, label: string, pick: (l: Load) => number) => ({ label, samples: loads[name].map(pick) });
    const storeLabel = `bare route + ${perStatus.reads} GetItems`;
    const rows = [
      makeRow({
        figure: 3,
        measure: 'GET status: requests/s',
        unit: 'req/s',
        samples: loads.status.map((l) => l.rps),
        floor: floor('bare', 'bare hono route', (l) => l.rps),
        note: `each GET status makes ${perStatus.reads} store reads${perStatus.writes ? ` and ${perStatus.writes} writes` : ''}, one after another; dynalite runs in the same process as the API (as in npm start)`,
      }),
      makeRow({ figure: 3, measure: 'GET status: p99 latency', unit: 'ms', samples: loads.status.map((l) => l.p99), spread: 'worst', floor: floor('bare', 'bare hono route', (l) => l.p99) }),
      makeRow({ figure: 3, measure: 'GET status vs its store reads alone: requests/s', unit: 'req/s', samples: loads.status.map((l) => l.rps), floor: floor('bareStore', storeLabel, (l) => l.rps) }),
      makeRow({ figure: 3, measure: 'GET /v1/health (Berth middleware, no store): requests/s', unit: 'req/s', samples: loads.health.map((l) => l.rps), floor: floor('bare', 'bare hono route', (l) => l.rps) }),
    ];
    return { rows, details: { connections: CONNECTIONS, seconds: SECONDS, rounds: loads, storeCallsPerStatus: perStatus } };
  } finally {
    await new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()));
    for (let waited = 0; inFlight > 0 && waited < 10_000; waited += 10) await new Promise((resolve) => setTimeout(resolve, 10));
    await bp.close();
  }
}

await runAsScript(import.meta.url, measure);
