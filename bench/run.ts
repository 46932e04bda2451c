// `npm run bench [-- <figure>…]`: runs each figure script in a fresh process, one after another,
// prints one table, and writes bench/results/latest.json. Figures by name: deploy-overhead,
// transitions, api, cli-startup, lambda-bundles, logs, growth, reconcile, unpack (default: all, in that order).
import { execFileSync, spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { FigureResult } from './lib/figure.ts';
import { renderTable, type Row } from './lib/report.ts';

const BENCH_DIR = fileURLToPath(new URL('./', import.meta.url));
const FIGURES = ['deploy-overhead', 'transitions', 'api', 'cli-startup', 'lambda-bundles', 'logs', 'growth', 'reconcile', 'unpack'];

interface FigureRun {
  name: string;
  seconds: number;
  rows: Row[];
  details?: Record<string, unknown>;
  error?: string;
}

/**
 * Runs `bench/<name>.ts` under tsx with BENCH_OUT set. Its stdout (the platforms' own logs) is
 * dropped; its progress lines pass through, the rest of its stderr is kept for errors.
 */
function runFigure(name: string, outFile: string): Promise<{ code: number; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', join(BENCH_DIR, `${name}.ts`)], { env: { ...process.env, BENCH_OUT: outFile }, stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    let pending = '';
    child.stderr.on('data', (d: Buffer) => {
      stderr += d;
      pending += d;
      const lines = pending.split('\n');
      pending = lines.pop() ?? '';
      // Figures write their progress indented by two spaces; tools they drive (CDK, esbuild) write the rest.
      for (const l of lines) if (/^ {2}figure \d/.test(l)) process.stderr.write(`${l}\n`);
    });
    child.on('error', reject);
    child.on('close', (code) => resolve({ code: code ?? 1, stderr }));
  });
}

/**
 * CPU seconds this run used, its figures and everything they spawned included (Linux: /proc, in
 * clock ticks of 1/100 s); less noisy than the wall time on a shared machine. Null elsewhere.
 */
function cpuSeconds(): number | null {
  try {
    const fields = readFileSync('/proc/self/stat', 'utf8').split(') ')[1].split(' ');
    // utime, stime, cutime, cstime are fields 14–17 of stat(5); `fields` starts at field 3.
    return fields.slice(11, 15).reduce((sum, f) => sum + Number(f), 0) / 100;
  } catch {
    return null;
  }
}

function gitCommit(): string | null {
  try {
    return execFileSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: BENCH_DIR, encoding: 'utf8' }).trim();
  } catch {
    return null;
  }
}

const wanted = process.argv.slice(2);
const unknown = wanted.filter((w) => !FIGURES.includes(w));
if (unknown.length) {
  process.stderr.write(`unknown figure ${unknown.join(', ')}; choose from ${FIGURES.join(', ')}\n`);
  process.exit(2);
}
const selected = wanted.length ? FIGURES.filter((f) => wanted.includes(f)) : FIGURES;
const scratch = mkdtempSync(join(tmpdir(), 'berth-bench-run-'));
const startedAt = new Date();
const loadBefore = loadavg();
const started = performance.now();
const runs: FigureRun[] = [];
process.stderr.write(`npm run bench: ${selected.join(', ')} (${cpus().length} cores, load ${loadBefore.map((l) => l.toFixed(1)).join(' ')})\n`);
for (const name of selected) {
  const outFile = join(scratch, `${name}.json`);
  const t0 = performance.now();
  const { code, stderr } = await runFigure(name, outFile);
  const seconds = (performance.now() - t0) / 1000;
  if (code === 0) {
    const result = JSON.parse(readFileSync(outFile, 'utf8')) as FigureResult;
    runs.push({ name, seconds, rows: result.rows, details: result.details });
    process.stderr.write(`  ${name}: ${seconds.toFixed(1)} s\n`);
  } else {
    runs.push({ name, seconds, rows: [], error: stderr.trim().split('\n').slice(-20).join('\n') });
    process.stderr.write(`  ${name} FAILED after ${seconds.toFixed(1)} s:\n${stderr}\n`);
  }
}
rmSync(scratch, { recursive: true, force: true });
const totalSeconds = (performance.now() - started) / 1000;
const cpu = cpuSeconds();
const rows = runs.flatMap((r) => r.rows);

const cpuText = cpu === null ? '' : `, ${cpu.toFixed(0)} s of CPU`;
process.stdout.write(`\n${renderTable(rows)}\n\nTotal ${totalSeconds.toFixed(0)} s${cpuText} on ${cpus().length} cores (load average ${loadBefore[0].toFixed(1)} at the start, ${loadavg()[0].toFixed(1)} at the end).\n`);
const missed = rows.filter((r) => r.goal && !r.goal.met);
if (missed.length) process.stdout.write(`Goals missed: ${missed.map((r) => `${r.figure} ${r.measure}`).join('; ')}\n`);

const resultsDir = join(BENCH_DIR, 'results');
mkdirSync(resultsDir, { recursive: true });
const latest = {
  startedAt: startedAt.toISOString(),
  totalSeconds,
  cpuSeconds: cpu,
  commit: gitCommit(),
  machine: { node: process.version, cpus: cpus().length, cpuModel: cpus()[0]?.model ?? null, loadAverageAtStart: loadBefore, loadAverageAtEnd: loadavg() },
  figures: runs,
};
writeFileSync(join(resultsDir, 'latest.json'), `${JSON.stringify(latest, null, 2)}\n`);
process.stderr.write(`wrote bench/results/latest.json\n`);
process.exit(runs.some((r) => r.error) ? 1 : 0);
