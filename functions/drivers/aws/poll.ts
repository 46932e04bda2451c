// Bounded polling for AWS state that settles eventually (tasks starting, file systems becoming
// available). Interval, bound and clock are injectable so tests run in milliseconds.
export interface PollTiming {
  /** Pause between attempts. */
  intervalMs: number;
  /** Give up after this long. */
  timeoutMs: number;
}

export interface Clock {
  now(): number;
  sleep(ms: number): Promise<void>;
}

export const realClock: Clock = {
  now: () => Date.now(),
  sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
};

/** Calls `probe` until it returns a value other than `undefined`; `undefined` when the bound passes. */
export async function pollUntil<T>(timing: PollTiming, clock: Clock, probe: () => Promise<T | undefined>): Promise<T | undefined> {
  const until = clock.now() + timing.timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (clock.now() >= until) return undefined;
    await clock.sleep(timing.intervalMs);
  }
}

/** Splits a list into chunks of at most `size` (AWS batch APIs take 10, 20 or 100 ids at a time). */
export function chunks<T>(items: T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}
