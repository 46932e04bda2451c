// Unpacks one stored artifact in a process of its own and reports how that went: the error (if
// refused), the process's peak RSS and the longest event-loop stall seen while it ran.
// Usage: node --import tsx unpack-child.ts <store dir> <digest>
import { readFileSync } from 'node:fs';
import { LocalArtifactStore } from '../../functions/drivers/local/artifact-store.ts';
import { BerthError } from '../../functions/core/errors.ts';

const [dir, digest] = process.argv.slice(2) as [string, string];
const baselineRssBytes = process.memoryUsage().rss;
let maxLagMs = 0;
let last = performance.now();
const lag = setInterval(() => {
  const now = performance.now();
  maxLagMs = Math.max(maxLagMs, now - last - 10);
  last = now;
}, 10);
const started = performance.now();
let error: { code: string; category: string; message: string; details: unknown } | undefined;
try {
  await new LocalArtifactStore(dir).unpack(digest);
} catch (err) {
  if (!(err instanceof BerthError)) throw err;
  error = { code: err.code, category: err.category, message: err.message, details: err.details };
}
clearInterval(lag);
const report = { error, baselineRssBytes, peakRssBytes: peakRss(), maxLagMs: Math.round(maxLagMs), seconds: (performance.now() - started) / 1000 };
process.stdout.write(`${JSON.stringify(report)}\n`);

/**
 * This process's own peak RSS. Linux: VmHWM, the high-water mark of the memory this program mapped.
 * Not getrusage's maxRSS, which a child inherits at exec from the parent it was forked from.
 */
function peakRss(): number {
  try {
    const kb = /^VmHWM:\s+(\d+) kB/m.exec(readFileSync('/proc/self/status', 'utf8'));
    if (kb) return Number(kb[1]) * 1024;
  } catch {
    // not Linux
  }
  return process.resourceUsage().maxRSS * 1024;
}
