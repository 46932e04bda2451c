// Figure 4: how long `berth` takes to answer, as a user runs it: a fresh `node cli/bin/berth.js …`
// process, timed from spawn to exit. Floor: `node -e 0`, a Node process that does nothing.
// Whatever cli/bin/berth.js does is what is measured (the tsx sources, or the esbuild bundle in
// dist/cli when it prefers one); when package.json has `build:cli`, the bundle is built first.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { progress, runAsScript, type FigureResult } from './lib/figure.ts';
import { makeRow } from './lib/report.ts';
import { benchManifest, createReadyEnv, envPath, freePort, startBenchPlatform, uploadApp } from './support/bench-platform.ts';

const ROOT = fileURLToPath(new URL('../', import.meta.url));
const BERTH = join(ROOT, 'cli/bin/berth.js');
const RUNS = Number(process.env.BENCH_CLI_RUNS ?? 10);
const GOAL_RATIO = 1.5;

function wallMs(args: string[], options: { cwd: string; env: NodeJS.ProcessEnv }): Promise<number> {
  return new Promise((resolve, reject) => {
    const start = performance.now();
    const child = spawn(process.execPath, args, { ...options, stdio: ['ignore', 'pipe', 'pipe'] });
    let err = '';
    child.stdout.resume();
    child.stderr.on('data', (d) => (err += d));
    child.on('error', reject);
    child.on('close', (code) => (code === 0 ? resolve(performance.now() - start) : reject(new Error(`node ${args.join(' ')} exited ${code}: ${err}`))));
  });
}

/** Builds dist/cli when the project has a build step for it; says which entry berth.js will take. */
function prepareEntry(): { entry: string; buildMs?: number; builtHere: boolean } {
  // A bundle this run builds is removed again afterwards: left in the checkout, it would shadow
  // the sources for every later `berth` (cli/bin/berth.js prefers dist/cli).
  const builtHere = !existsSync(join(ROOT, 'dist/cli'));
  const scripts = (JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { scripts?: Record<string, string> }).scripts ?? {};
  let buildMs: number | undefined;
  if (scripts['build:cli']) {
    progress('figure 4: npm run build:cli');
    const start = performance.now();
    const r = spawnSync('npm', ['run', '--silent', 'build:cli'], { cwd: ROOT, stdio: ['ignore', 'ignore', 'pipe'], encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`npm run build:cli failed (${r.status}): ${r.stderr}`);
    buildMs = performance.now() - start;
  }
  const prefersBundle = readFileSync(BERTH, 'utf8').includes('dist/cli') && existsSync(join(ROOT, 'dist/cli'));
  return { entry: prefersBundle ? 'dist/cli bundle' : 'tsx sources', buildMs, builtHere };
}

export async function measure(): Promise<FigureResult> {
  const { entry, buildMs, builtHere } = prepareEntry();
  const bp = await startBenchPlatform();
  const cwd = mkdtempSync(join(tmpdir(), 'berth-bench-cli-'));
  try {
    const ref = { org: 'bench', project: 'shop', app: 'web', env: 'prod' };
    await createReadyEnv(bp, ref);
    const digest = await uploadApp(bp, ref.org);
    await bp.call('POST', `${envPath(ref)}/deploys`, { manifest: benchManifest(ref.app, await freePort()), artifactDigest: digest }, 202);
    await bp.platform.orchestrator.idle();

    // A clean settings home and working dir: nothing of the user's is read.
    const env = {
      ...process.env,
      NO_COLOR: '1',
      BERTH_HOME: join(cwd, '.berth-cli'),
      BERTH_API: bp.platform.url,
      BERTH_TOKEN: bp.token,
      BERTH_ORG: ref.org,
      BERTH_PROJECT: ref.project,
      BERTH_APP: ref.app,
      BERTH_ENV: ref.env,
    };
    const commands = {
      floor: ['-e', '0'],
      version: [BERTH, '--version'],
      help: [BERTH, '--help'],
      status: [BERTH, 'status', '--json'],
    };
    progress(`figure 4: ${RUNS} runs each of node -e 0, berth --version, --help, status --json (entry: ${entry})`);
    const samples: Record<keyof typeof commands, number[]> = { floor: [], version: [], help: [], status: [] };
    // Round-robin, after one unmeasured round (disk cache), so that noise lands on every command alike.
    for (let i = -1; i < RUNS; i++) {
      for (const [name, args] of Object.entries(commands) as [keyof typeof commands, string[]][]) {
        const ms = await wallMs(args, { cwd, env });
        if (i >= 0) samples[name].push(ms);
      }
    }
    const floor = { label: 'node -e 0', samples: samples.floor };
    const rows = [
      makeRow({ figure: 4, measure: `berth --version (${entry})`, unit: 'ms', samples: samples.version, floor, goal: { text: `≤ ${GOAL_RATIO}× floor`, check: ({ ratio }) => (ratio ?? Infinity) <= GOAL_RATIO } }),
      makeRow({ figure: 4, measure: `berth --help (${entry})`, unit: 'ms', samples: samples.help, floor }),
      makeRow({ figure: 4, measure: `berth status --json (${entry})`, unit: 'ms', samples: samples.status, floor, note: 'against the embedded platform in the bench process: includes one GET status round trip' }),
    ];
    return { rows, details: { entry, buildCliMs: buildMs ?? null, samples } };
  } finally {
    rmSync(cwd, { recursive: true, force: true });
    if (builtHere) rmSync(join(ROOT, 'dist/cli'), { recursive: true, force: true });
    await bp.close();
  }
}

await runAsScript(import.meta.url, measure);
