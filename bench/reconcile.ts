// Figure 8: what the embedded reconcile loop costs an idle platform. One tick of the loop (the one
// the platform runs every 5 s), with one env changed since the last tick, at 10 and at 1,000 idle
// envs (created, never deployed: the "1,000 empty envs"); floor: the same tick at 10 envs,
// measured in the same run. Also counted: DynamoDB round trips per tick, for a quiet tick (nothing
// changed), a tick with one change, and the full sweep the loop makes every 60 ticks and at start.
import type { Env } from '../functions/core/model.ts';
import type { EnvRef } from '../functions/core/ports.ts';
import { ReconcileLoop } from '../functions/reconciler/reconcile-loop.ts';
import { progress, runAsScript, timeMs, type FigureResult } from './lib/figure.ts';
import { makeRow } from './lib/report.ts';
import { median } from './lib/stats.ts';
import { startBenchPlatform, type BenchPlatform } from './support/bench-platform.ts';
import { countRoundTrips, minus, type RoundTrips } from './support/round-trips.ts';

const SIZES = [10, 1000];
const TICKS = 40;
const TICK_MS = 5000;
const FLAT = 1.5;

async function seedIdleEnvs(bp: BenchPlatform, from: number, to: number): Promise<void> {
  const { store } = bp.platform.deps;
  const now = new Date().toISOString();
  if (from === 0) {
    await store.createOrg({ name: 'idle', createdAt: now, createdBy: 'bench' });
    await store.createProject({ org: 'idle', name: 'p', createdAt: now, createdBy: 'bench' });
    await store.createApp({ org: 'idle', project: 'p', name: 'a', createdAt: now, createdBy: 'bench' });
  }
  for (let i = from; i < to; i++) {
    const env: Env = { org: 'idle', project: 'p', app: 'a', env: `e${String(i).padStart(4, '0')}`, version: 0, status: 'ready', createdAt: now, updatedAt: now, createdBy: 'bench' };
    await store.createEnv(env);
  }
}

interface AtSize {
  oneChanged: number[];
  quiet: number[];
  sweepMs: number;
  trips: { quiet: RoundTrips; oneChanged: RoundTrips; sweep: RoundTrips };
}

/** A fresh loop over the table as it is: its first tick (the sweep), then quiet ticks and ticks with one env changed, alternately. */
async function measureAt(bp: BenchPlatform, trips: { read(): RoundTrips }, size: number): Promise<AtSize> {
  const loop = new ReconcileLoop(bp.platform.deps, { intervalMs: TICK_MS }, (err) => {
    throw err;
  });
  let now = 1_000_000;
  const t0 = trips.read();
  const sweepMs = await timeMs(() => loop.tick(now));
  const sweep = minus(trips.read(), t0);
  const quiet: number[] = [];
  const oneChanged: number[] = [];
  let quietTrips: RoundTrips = { reads: 0, writes: 0 };
  let changedTrips: RoundTrips = { reads: 0, writes: 0 };
  for (let i = 0; i < TICKS; i++) {
    const changed: EnvRef = { org: 'idle', project: 'p', app: 'a', env: `e${String(i % size).padStart(4, '0')}` };
    now += TICK_MS;
    let before = trips.read();
    quiet.push(await timeMs(() => loop.tick(now)));
    quietTrips = minus(trips.read(), before);
    loop.markChanged(changed);
    now += TICK_MS;
    before = trips.read();
    oneChanged.push(await timeMs(() => loop.tick(now)));
    changedTrips = minus(trips.read(), before);
  }
  return { oneChanged, quiet, sweepMs, trips: { quiet: quietTrips, oneChanged: changedTrips, sweep } };
}

export async function measure(): Promise<FigureResult> {
  const bp = await startBenchPlatform();
  try {
    const results: Record<number, AtSize> = {};
    let seeded = 0;
    const trips = countRoundTrips(bp.platform.dynamo.client);
    for (const size of SIZES) {
      progress(`figure 8: ${size} idle envs: seeding, then ${TICKS} quiet ticks and ${TICKS} with one env changed`);
      await seedIdleEnvs(bp, seeded, size);
      seeded = size;
      results[size] = await measureAt(bp, trips, size);
    }
    const [small, large] = SIZES;
    const at = results[large];
    const reads = (t: RoundTrips) => t.reads + t.writes;
    const rows = [
      makeRow({
        figure: 8,
        measure: `reconcile tick, 1 env changed: ${large.toLocaleString('en-US')} idle envs`,
        unit: 'ms',
        samples: at.oneChanged,
        floor: { label: `${small} idle envs`, samples: results[small].oneChanged },
        goal: { text: `≤ ${FLAT}× (flat)`, check: ({ ratio }) => (ratio ?? Infinity) <= FLAT },
        note: `store round trips per tick at ${small} → ${large} envs: quiet ${reads(results[small].trips.quiet)} → ${reads(at.trips.quiet)}, one changed ${reads(results[small].trips.oneChanged)} → ${reads(at.trips.oneChanged)}; quiet tick ${median(at.quiet).toFixed(2)} ms; the full sweep (every 60 ticks, and at start) ${at.sweepMs.toFixed(0)} ms and ${reads(at.trips.sweep)} round trips at ${large} envs`,
      }),
    ];
    return { rows, details: { sizes: SIZES, ticks: TICKS, results } };
  } finally {
    await bp.close();
  }
}

await runAsScript(import.meta.url, measure);
