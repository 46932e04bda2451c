// What a figure script is: `measure()` returning rows (and raw details for latest.json), runnable on
// its own (`npx tsx bench/logs.ts`) or by bench/run.ts, which runs each in a fresh process so that
// one figure's heap, JIT state and leftover handles cannot colour the next.
import { writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { renderTable, type Row } from './report.ts';

export interface FigureResult {
  rows: Row[];
  /** Raw numbers behind the rows (round-trip counts, per-run samples…), kept in latest.json. */
  details?: Record<string, unknown>;
}

/** Milliseconds `fn` took, by the monotonic clock. */
export async function timeMs(fn: () => unknown): Promise<number> {
  const start = performance.now();
  await fn();
  return performance.now() - start;
}

/** Progress for whoever watches the run; stdout is kept for the table. */
export function progress(text: string): void {
  process.stderr.write(`  ${text}\n`);
}

/**
 * Runs `measure` when the module is the process's entry: prints the figure's table, writes the
 * result to $BENCH_OUT (bench/run.ts reads it) and exits, so no stray handle keeps it alive.
 */
export async function runAsScript(moduleUrl: string, measure: () => Promise<FigureResult>): Promise<void> {
  if (!process.argv[1] || resolve(process.argv[1]) !== fileURLToPath(moduleUrl)) return;
  try {
    const result = await measure();
    if (process.env.BENCH_OUT) writeFileSync(process.env.BENCH_OUT, JSON.stringify(result));
    else process.stdout.write(`${renderTable(result.rows)}\n`);
    process.exit(0);
  } catch (err) {
    process.stderr.write(`${(err as Error).stack ?? String(err)}\n`);
    process.exit(1);
  }
}
