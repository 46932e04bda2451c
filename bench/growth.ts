// Figure 7: does Berth slow down as an org grows? `status` and `releases` (per-env reads) and
// `endpoints list --all` (the org-wide "what is exposed?") are run with 10, 100 and 1,000 apps in
// the org, each app with an env running a release that declares an endpoint. The commands are the
// real CLI in this process against the embedded API. Floor: the same command with 10 apps.
// The first app is created, configured and deployed through the API; the others are written
// through the store port (the same conditional writes the services make), which keeps seeding
// 1,000 apps to seconds.
import type { Env } from '../functions/core/model.ts';
import { releaseId } from '../functions/core/ids.ts';
import type { EnvRef } from '../functions/core/ports.ts';
import { parseManifest } from '../functions/contract/parse-manifest.ts';
import { progress, runAsScript, timeMs, type FigureResult } from './lib/figure.ts';
import { makeRow } from './lib/report.ts';
import { median } from './lib/stats.ts';
import { benchManifest, createReadyEnv, envPath, freePort, startBenchPlatform, uploadApp, type BenchPlatform } from './support/bench-platform.ts';
import { inProcessCli } from './support/cli-in-process.ts';
import { countRoundTrips, minus, type RoundTrips } from './support/round-trips.ts';

const SIZES = [10, 100, 1000];
const PER_ENV_RUNS = 10;
/** The org-wide list touches every app: fewer runs as it grows, to keep the whole bench under 5 minutes. */
const ORG_RUNS: Record<number, number> = { 10: 5, 100: 3, 1000: 2 };
const SEED_CONCURRENCY = 8;
const FLAT = 1.5;

const appName = (i: number) => `app-${String(i).padStart(4, '0')}`;

/** Apps `from`…`to-1`, each with a `prod` env whose current release declares one endpoint. */
async function seedApps(bp: BenchPlatform, org: string, project: string, from: number, to: number, digest: string, port: number): Promise<void> {
  const { store } = bp.platform.deps;
  const seedOne = async (i: number) => {
    const app = appName(i);
    const ref: EnvRef = { org, project, app, env: 'prod' };
    const now = new Date().toISOString();
    await store.createApp({ org, project, name: app, createdAt: now, createdBy: 'bench' });
    const env: Env = { ...ref, version: 0, status: 'ready', createdAt: now, updatedAt: now, createdBy: 'bench' };
    await store.createEnv(env);
    const id = releaseId(1);
    await store.putRelease({ id, seq: 1, env: ref, artifactDigest: digest, manifest: parseManifest(benchManifest(app, port)), configVersion: 0, secretVersions: {}, createdAt: now, createdBy: 'bench', operationId: 'op-seed', status: 'active' });
    await store.updateEnv(ref, 0, { currentReleaseId: id, desiredReleaseId: id });
  };
  let next = from;
  await Promise.all(
    Array.from({ length: SEED_CONCURRENCY }, async () => {
      while (next < to) await seedOne(next++);
    }),
  );
}

/** Whether the org-wide endpoint list takes a page size or cursor, by the API's own OpenAPI document. */
async function orgListIsPaginated(bp: BenchPlatform): Promise<boolean> {
  const doc = (await (await fetch(`${bp.platform.url}/v1/openapi.json`)).json()) as { paths: Record<string, { get?: { parameters?: { in: string; name: string }[] } }> };
  const params = doc.paths['/v1/orgs/{org}/endpoints']?.get?.parameters ?? [];
  return params.some((p) => p.in === 'query' && ['limit', 'cursor', 'after', 'pageToken', 'page'].includes(p.name));
}

export async function measure(): Promise<FigureResult> {
  const bp = await startBenchPlatform();
  try {
    const project = 'shop';
    const commands = { status: ['status', '--json'], releases: ['releases', '--json'], 'endpoints --all': ['endpoints', 'list', '--all', '--json'] };
    type Name = keyof typeof commands;
    // One org per size, all in the same table at once, measured in turn: the only difference between
    // them is how many apps the org has, and a burst of noise from the neighbours hits every size alike.
    const orgs: { size: number; berth: ReturnType<typeof inProcessCli> }[] = [];
    for (const size of SIZES) {
      const org = `org-${size}`;
      const ref: EnvRef = { org, project, app: appName(0), env: 'prod' };
      progress(`figure 7: org ${org}: deploying ${ref.app}, seeding ${size - 1} more apps`);
      await createReadyEnv(bp, ref);
      const digest = await uploadApp(bp, org);
      // Each org's endpoint listens on a port of its own (the seeded apps' endpoints are only declared).
      const port = await freePort();
      for (let i = 0; i < 3; i++) {
        const { receipt } = await bp.call('POST', `${envPath(ref)}/deploys`, { manifest: benchManifest(ref.app, port), artifactDigest: digest }, 202);
        await bp.platform.orchestrator.idle();
        const op = await bp.platform.deps.store.getOperation(ref, receipt.operationId);
        if (op?.status !== 'succeeded') throw new Error(`deploy of ${org}/${ref.app} ${op?.status}: ${JSON.stringify(op?.error)}`);
      }
      await seedApps(bp, org, project, 1, size, digest, port);
      orgs.push({ size, berth: inProcessCli(bp.platform.url, bp.token, ref) });
    }

    const trips = countRoundTrips(bp.platform.dynamo.client);
    const samples = Object.fromEntries(Object.keys(commands).map((n) => [n, Object.fromEntries(SIZES.map((s) => [s, [] as number[]]))])) as Record<Name, Record<number, number[]>>;
    const storeCalls = Object.fromEntries(Object.keys(commands).map((n) => [n, {}])) as Record<Name, Record<number, RoundTrips>>;
    progress(`figure 7: status and releases ×${PER_ENV_RUNS}, endpoints list --all ×${SIZES.map((s) => ORG_RUNS[s]).join('/')} per org size`);
    for (const [name, argv] of Object.entries(commands) as [Name, string[]][]) {
      // One unmeasured run per org: counts its store calls, and checks the org-wide list is complete.
      for (const { size, berth } of orgs) {
        const before = trips.read();
        const printed = await berth(argv, true);
        storeCalls[name][size] = minus(trips.read(), before);
        const listed = name === 'endpoints --all' ? (JSON.parse(printed.stdout) as unknown[]).length : size;
        if (listed !== size) throw new Error(`endpoints list --all listed ${listed} endpoints in an org of ${size} apps`);
      }
      const runs = Math.max(...SIZES.map((s) => (name === 'endpoints --all' ? ORG_RUNS[s] : PER_ENV_RUNS)));
      for (let i = 0; i < runs; i++) {
        for (const { size, berth } of orgs) {
          if (i < (name === 'endpoints --all' ? ORG_RUNS[size] : PER_ENV_RUNS)) samples[name][size].push(await timeMs(() => berth(argv)));
        }
      }
    }

    const [small, , large] = SIZES;
    const trend = (name: Name) => SIZES.map((s) => `${median(samples[name][s]).toFixed(1)} ms`).join(' → ');
    const tripsAt = (name: Name) => SIZES.map((s) => storeCalls[name][s].reads + storeCalls[name][s].writes).join(' → ');
    const flat = { text: `≤ ${FLAT}× (flat)`, check: ({ ratio }: { ratio?: number }) => (ratio ?? Infinity) <= FLAT };
    const perEnv = (name: Name, label: string) =>
      makeRow({
        figure: 7,
        measure: `${label}: ${large.toLocaleString('en-US')} apps`,
        unit: 'ms',
        samples: samples[name][large],
        floor: { label: `${small} apps`, samples: samples[name][small] },
        goal: flat,
        note: `10 → 100 → 1,000 apps: ${trend(name)}; store calls ${tripsAt(name)}`,
      });
    const linear = (large / small) * FLAT;
    const paginated = await orgListIsPaginated(bp);
    const rows = [
      perEnv('status', 'berth status'),
      perEnv('releases', 'berth releases'),
      makeRow({
        figure: 7,
        measure: `berth endpoints list --all: ${large.toLocaleString('en-US')} apps`,
        unit: 'ms',
        samples: samples['endpoints --all'][large],
        spread: 'worst',
        floor: { label: `${small} apps`, samples: samples['endpoints --all'][small] },
        // Linear: 100× the apps may cost up to 100× (with the same 1.5× slack); and the list must be paginated, so a page stays flat.
        goal: { text: `≤ ${linear}× (linear), paginated`, check: ({ ratio }) => (ratio ?? Infinity) <= linear && paginated },
        note: `10 → 100 → 1,000 apps: ${trend('endpoints --all')}; store calls ${tripsAt('endpoints --all')}; ${paginated ? 'paginated' : 'not paginated: GET /v1/orgs/{org}/endpoints answers the whole org at once'}`,
      }),
    ];
    return { rows, details: { sizes: SIZES, samples, storeCalls, orgListPaginated: paginated } };
  } finally {
    await bp.close();
  }
}

await runAsScript(import.meta.url, measure);
