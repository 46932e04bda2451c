// One row per measured thing, and the table `npm run bench` prints. Pure (no I/O), like stats.ts.
import { ratioToFloor, summarize, type Direction } from './stats.ts';

export type Unit = 'ms' | 'req/s' | 'lines/s' | 'KB' | 'transitions' | 'USD';

export interface Row {
  /** The issue's figure number (1 deploy overhead … 7 growth). */
  figure: number;
  measure: string;
  unit: Unit;
  /** How many measurements the median is taken over. */
  n: number;
  median: number;
  /** The spread of the sample, in the row's unit: p95, p99, IQR or the worst run. */
  spread?: { label: string; value: number };
  /** What the same work costs with nothing of Berth's in the way, measured in the same run. */
  floor?: { label: string; median: number };
  /** Cost ÷ the floor's cost (for rates: floor rate ÷ rate). */
  ratio?: number;
  goal?: { text: string; met: boolean };
  /** Anything a reader of the number must know (a cap, a missing feature). */
  note?: string;
}

const HIGHER_IS_BETTER: Unit[] = ['req/s', 'lines/s'];

export const directionOf = (unit: Unit): Direction => (HIGHER_IS_BETTER.includes(unit) ? 'higher-is-better' : 'lower-is-better');

export interface RowInput {
  figure: number;
  measure: string;
  unit: Unit;
  samples: readonly number[];
  /** Which spread to show; default p95 for times, the worst run for rates. */
  spread?: 'p95' | 'p99' | 'iqr' | 'worst' | 'none';
  floor?: { label: string; samples: readonly number[] };
  /** A goal on the median (`value`) or on the ratio to the floor (`ratio`). */
  goal?: { text: string; check: (r: { median: number; ratio?: number }) => boolean };
  note?: string;
}

/** Summarises the samples, relates them to the floor and checks the goal. */
export function makeRow(input: RowInput): Row {
  const s = summarize(input.samples);
  const direction = directionOf(input.unit);
  const kind = input.spread ?? (direction === 'higher-is-better' ? 'worst' : 'p95');
  const worst = direction === 'higher-is-better' ? s.min : s.max;
  const spread =
    kind === 'none' || s.n === 1
      ? undefined
      : kind === 'p95'
        ? { label: 'p95', value: s.p95 }
        : kind === 'p99'
          ? { label: 'p99', value: s.p99 }
          : kind === 'iqr'
            ? { label: 'IQR', value: s.iqr }
            : { label: 'worst', value: worst };
  const floor = input.floor ? { label: input.floor.label, median: summarize(input.floor.samples).median } : undefined;
  const ratio = floor ? ratioToFloor(s.median, floor.median, direction) : undefined;
  const goal = input.goal ? { text: input.goal.text, met: input.goal.check({ median: s.median, ratio }) } : undefined;
  return { figure: input.figure, measure: input.measure, unit: input.unit, n: s.n, median: s.median, spread, floor, ratio, goal, note: input.note };
}

/** A number in its unit, short enough for a table cell: `61.7 ms`, `12.3k lines/s`, `3.4M lines/s`, `1,899 KB`. */
export function formatValue(value: number, unit: Unit): string {
  switch (unit) {
    case 'ms':
      return `${value >= 100 ? Math.round(value).toLocaleString('en-US') : value.toFixed(1)} ms`;
    case 'req/s':
    case 'lines/s':
      return `${value >= 1e6 ? `${(value / 1e6).toFixed(1)}M` : value >= 10_000 ? `${(value / 1000).toFixed(0)}k` : value >= 1000 ? `${(value / 1000).toFixed(1)}k` : value.toFixed(0)} ${unit}`;
    case 'KB':
      return `${Math.round(value).toLocaleString('en-US')} KB`;
    case 'transitions':
      return `${Number.isInteger(value) ? value : value.toFixed(1)}`;
    case 'USD':
      return `$${value.toFixed(2)}`;
  }
}

export function formatRatio(ratio: number): string {
  return `${ratio >= 10 ? ratio.toFixed(0) : ratio.toFixed(2)}×`;
}

const HEADER = ['#', 'measure', 'n', 'median', 'spread', 'floor (median)', '× floor', 'goal', 'met'];

/** The rows as a Markdown table (readable in a terminal, pasteable into the README), then the notes. */
export function renderTable(rows: readonly Row[]): string {
  const cells = rows.map((r) => [
    String(r.figure),
    r.measure,
    String(r.n),
    formatValue(r.median, r.unit),
    r.spread ? `${r.spread.label} ${formatValue(r.spread.value, r.unit)}` : '',
    r.floor ? `${r.floor.label}: ${formatValue(r.floor.median, r.unit)}` : '',
    r.ratio === undefined ? '' : formatRatio(r.ratio),
    r.goal?.text ?? '',
    r.goal ? (r.goal.met ? 'yes' : '**no**') : '',
  ]);
  const widths = HEADER.map((h, i) => Math.max(h.length, ...cells.map((c) => c[i].length)));
  const line = (c: string[]) => `| ${c.map((cell, i) => cell.padEnd(widths[i])).join(' | ')} |`;
  const table = [line(HEADER), `|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`, ...cells.map(line)];
  const notes = rows.filter((r) => r.note).map((r) => `- ${r.figure} ${r.measure}: ${r.note}`);
  return [...table, ...(notes.length ? ['', ...notes] : [])].join('\n');
}
