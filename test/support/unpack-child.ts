// Unpacks one stored artifact in a process of its own and reports how that went: the error (if
// refused), the process's peak RSS and the longest event-loop stall seen while it ran.
// Usage: node --import tsx unpack-child.ts <store dir> <digest>
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
const report = { error, baselineRssBytes, peakRssBytes: process.resourceUsage().maxRSS * 1024, maxLagMs: Math.round(maxLagMs), seconds: (performance.now() - started) / 1000 };
process.stdout.write(`${JSON.stringify(report)}\n`);
