// The bench's arithmetic: pure, so `test/bench-stats.test.ts` keeps it honest. Every figure is a
// sample of repeated measurements summarised by its median and a spread, and compared with a floor
// measured in the same run: on a noisy, shared 2-core machine only the ratio travels.

export interface Summary {
  n: number;
  median: number;
  p95: number;
  p99: number;
  min: number;
  max: number;
  /** Interquartile range: p75 − p25. */
  iqr: number;
}

/** The median: the middle value, or the mean of the two middle values of an even-sized sample. */
export function median(values: readonly number[]): number {
  const sorted = ascending(values);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

/**
 * The q-quantile (0 < q ≤ 1) by nearest rank: the smallest value with at least q of the sample at
 * or below it. Always a value that was measured; p95 of 50 samples is the 48th smallest.
 */
export function quantile(values: readonly number[], q: number): number {
  if (!(q > 0 && q <= 1)) throw new RangeError(`quantile must be in (0, 1], got ${q}`);
  const sorted = ascending(values);
  return sorted[Math.min(sorted.length, Math.ceil(q * sorted.length)) - 1];
}

export function summarize(values: readonly number[]): Summary {
  const sorted = ascending(values);
  return {
    n: sorted.length,
    median: median(sorted),
    p95: quantile(sorted, 0.95),
    p99: quantile(sorted, 0.99),
    min: sorted[0],
    max: sorted[sorted.length - 1],
    iqr: quantile(sorted, 0.75) - quantile(sorted, 0.25),
  };
}

/** Whether a bigger number is better (a rate) or worse (a time, a size, a count). */
export type Direction = 'lower-is-better' | 'higher-is-better';

/**
 * How many times the floor's cost the measured thing costs: time ÷ floor time, or for a rate,
 * floor rate ÷ rate. 1 means "as cheap as the floor"; 3 means "three floors".
 */
export function ratioToFloor(value: number, floor: number, direction: Direction = 'lower-is-better'): number {
  if (!(floor > 0) || !(value > 0)) throw new RangeError(`a ratio needs positive numbers, got ${value} against a floor of ${floor}`);
  return direction === 'lower-is-better' ? value / floor : floor / value;
}

function ascending(values: readonly number[]): number[] {
  if (!values.length) throw new RangeError('no measurements: a summary needs at least one value');
  for (const v of values) if (!Number.isFinite(v)) throw new RangeError(`not a finite measurement: ${v}`);
  return [...values].sort((a, b) => a - b);
}
