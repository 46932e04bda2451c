// Figure 5: the Lambda handlers as AWS gets them. Each handler in functions/lambda/ is bundled by
// the very construct the stack uses (infra/platform-function.ts: NodejsFunction running the local
// esbuild with its options), in a throwaway CDK app; then measured by size, and by cold start: a
// fresh `node index.mjs` with the NODE_OPTIONS the function runs with, evaluating the module as
// the Lambda runtime's first import does. Floor: the same for an empty ES module.
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { spawn } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { App, Duration, Stack } from 'aws-cdk-lib';
import { RetentionDays } from 'aws-cdk-lib/aws-logs';
import { PlatformFunction } from '../infra/platform-function.ts';
import { progress, runAsScript, type FigureResult } from './lib/figure.ts';
import { makeRow, type Row } from './lib/report.ts';

const LAMBDA_DIR = fileURLToPath(new URL('../functions/lambda/', import.meta.url));
const RUNS = Number(process.env.BENCH_LAMBDA_RUNS ?? 3);
const GOAL_KB = 250;
const GOAL_RATIO = 2;

/** What the stack sets on every function (see infra/berth-stack.ts), with well-formed stand-ins; no AWS call happens at import. */
const LAMBDA_ENV: Record<string, string> = {
  AWS_REGION: 'eu-west-1',
  AWS_ACCESS_KEY_ID: 'bench',
  AWS_SECRET_ACCESS_KEY: 'bench',
  TABLE_NAME: 'berth',
  CLUSTER_ARN: 'arn:aws:ecs:eu-west-1:123456789012:cluster/berth',
  VPC_ID: 'vpc-0123456789abcdef0',
  SUBNETS: JSON.stringify([{ az: 'eu-west-1a', id: 'subnet-0123456789abcdef0' }]),
  TASK_SECURITY_GROUP_ID: 'sg-0123456789abcdef0',
  TASK_EXECUTION_ROLE_ARN: 'arn:aws:iam::123456789012:role/exec',
  TASK_ROLE_ARN: 'arn:aws:iam::123456789012:role/task',
  LOG_GROUP_PREFIX: '/berth/',
  KMS_KEY_ID: 'arn:aws:kms:eu-west-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab',
  MAC_KEY_ID: 'arn:aws:kms:eu-west-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ac',
  STATE_MACHINE_ARNS: JSON.stringify(Object.fromEntries(['deploy', 'scale', 'endpoint', 'volume', 'env'].map((m) => [m, `arn:aws:states:eu-west-1:123456789012:stateMachine:berth-${m}`]))),
  BACKUP_VAULT_NAME: 'berth',
  BACKUP_ROLE_ARN: 'arn:aws:iam::123456789012:role/backup',
  POWERTOOLS_SERVICE_NAME: 'berth-bench',
};

/** The files of functions/lambda/ that are Lambda entries (they export `handler`). */
export function handlerEntries(): string[] {
  return readdirSync(LAMBDA_DIR)
    .filter((f) => f.endsWith('.ts') && /export\s+(const|async\s+function|function)\s+handler\b/.test(readFileSync(join(LAMBDA_DIR, f), 'utf8')))
    .sort();
}

/** Bundles one entry through PlatformFunction in its own CDK app and returns the bundle's path and the NODE_OPTIONS it runs with. */
function bundle(entry: string, outdir: string): { file: string; nodeOptions: string } {
  const app = new App({ outdir });
  const stack = new Stack(app, 'BenchBundle');
  const fn = new PlatformFunction(stack, 'Fn', { entry, description: 'bench', serviceName: 'berth-bench', environment: {}, memorySize: 512, timeout: Duration.seconds(30), logRetention: RetentionDays.ONE_DAY });
  const assets = readdirSync(outdir).filter((d) => d.startsWith('asset.'));
  if (assets.length !== 1) throw new Error(`expected one asset for ${entry} in ${outdir}, found ${assets.join(', ') || 'none'}`);
  const environment = stack.resolve((fn.function.node.defaultChild as { environment?: unknown }).environment) as { variables?: Record<string, string> } | undefined;
  return { file: join(outdir, assets[0], 'index.mjs'), nodeOptions: environment?.variables?.NODE_OPTIONS ?? '' };
}

function coldStartMs(file: string, nodeOptions: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const start = performance.now();
    const child = spawn(process.execPath, [file], { env: { PATH: process.env.PATH, ...LAMBDA_ENV, NODE_OPTIONS: nodeOptions }, stdio: ['ignore', 'ignore', 'pipe'] });
    let err = '';
    child.stderr.on('data', (d) => (err += d));
    child.on('error', reject);
    child.on('close', (code) => (code === 0 ? resolve(performance.now() - start) : reject(new Error(`node ${file} exited ${code}: ${err}`))));
  });
}

export async function measure(): Promise<FigureResult> {
  const dir = mkdtempSync(join(tmpdir(), 'berth-bench-lambda-'));
  try {
    const entries = handlerEntries();
    const bundles: Record<string, { file: string; nodeOptions: string; bytes: number }> = {};
    for (const entry of entries) {
      progress(`figure 5: bundling functions/lambda/${entry} with PlatformFunction (NodejsFunction, local esbuild)`);
      const b = bundle(entry, join(dir, entry.replace(/\.ts$/, '')));
      bundles[entry] = { ...b, bytes: statSync(b.file).size };
    }
    const empty = join(dir, 'empty.mjs');
    writeFileSync(empty, 'export {};\n');
    const nodeOptions = Object.values(bundles)[0]?.nodeOptions ?? '';

    progress(`figure 5: ${RUNS} cold starts of each bundle and of an empty module (NODE_OPTIONS=${nodeOptions})`);
    const floor: number[] = [];
    const cold: Record<string, number[]> = Object.fromEntries(entries.map((e) => [e, []]));
    // The API bundle once more without source maps: how much of its cold start NODE_OPTIONS costs.
    const apiEntry = entries.find((e) => e === 'api.ts');
    const apiWithoutMaps: number[] = [];
    for (let i = -1; i < RUNS; i++) {
      const ms = await coldStartMs(empty, nodeOptions);
      if (i >= 0) floor.push(ms);
      for (const entry of entries) {
        const t = await coldStartMs(bundles[entry].file, bundles[entry].nodeOptions);
        if (i >= 0) cold[entry].push(t);
      }
      if (apiEntry) {
        const t = await coldStartMs(bundles[apiEntry].file, '');
        if (i >= 0) apiWithoutMaps.push(t);
      }
    }
    const rows: Row[] = [];
    for (const entry of entries) {
      const kb = bundles[entry].bytes / 1024;
      rows.push(makeRow({ figure: 5, measure: `${entry} bundle (minified ESM, SDK inside)`, unit: 'KB', samples: [kb], goal: { text: `≤ ${GOAL_KB} KB`, check: ({ median }) => median <= GOAL_KB } }));
      rows.push(
        makeRow({
          figure: 5,
          measure: `${entry} cold start (fresh node, import)`,
          unit: 'ms',
          samples: cold[entry],
          spread: 'worst',
          floor: { label: 'empty ES module', samples: floor },
          goal: { text: `≤ ${GOAL_RATIO}× floor`, check: ({ ratio }) => (ratio ?? Infinity) <= GOAL_RATIO },
        }),
      );
    }
    if (apiEntry && nodeOptions.includes('--enable-source-maps')) {
      rows.push(
        makeRow({
          figure: 5,
          measure: `${apiEntry} cold start without --enable-source-maps`,
          unit: 'ms',
          samples: apiWithoutMaps,
          spread: 'worst',
          floor: { label: 'empty ES module', samples: floor },
          note: 'what the source maps cost at import: the function runs with NODE_OPTIONS=--enable-source-maps, which makes Node read and parse the .map beside the bundle',
        }),
      );
    }
    return { rows, details: { nodeOptions, bundles: Object.fromEntries(Object.entries(bundles).map(([e, b]) => [e, { bytes: b.bytes }])), coldStartMs: cold, apiWithoutSourceMapsMs: apiWithoutMaps, floorMs: floor } };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

await runAsScript(import.meta.url, measure);
