// The pure parts of `npm run bench` (statistics, ratios, goals, the table), so that the harness
// cannot rot between runs. No timing is asserted anywhere in `npm test`.
import { describe, expect, it } from 'vitest';
import { formatValue, makeRow, renderTable } from '../bench/lib/report.ts';
import { median, quantile, ratioToFloor, summarize } from '../bench/lib/stats.ts';

describe('bench statistics', () => {
  it('takes the middle value as the median, or the mean of the two middle values', () => {
    expect(median([5, 1, 3])).toBe(3);
    expect(median([4, 1, 3, 2])).toBe(2.5);
  });

  it('reads quantiles by nearest rank, so a p95 is always a measured value', () => {
    const fifty = Array.from({ length: 50 }, (_, i) => i + 1);
    expect(quantile(fifty, 0.95)).toBe(48);
    expect(quantile(fifty, 0.99)).toBe(50);
    expect(quantile([7], 0.95)).toBe(7);
    expect(summarize([10, 20, 30, 40])).toMatchObject({ n: 4, median: 25, min: 10, max: 40, iqr: 20 });
  });

  it('refuses an empty sample and non-finite values instead of printing NaN', () => {
    expect(() => median([])).toThrow(/at least one value/);
    expect(() => summarize([1, Number.NaN])).toThrow(/finite/);
    expect(() => quantile([1], 0)).toThrow(/quantile/);
  });

  it('relates a time to its floor as time ÷ floor and a rate as floor rate ÷ rate', () => {
    expect(ratioToFloor(300, 100)).toBe(3);
    expect(ratioToFloor(50_000, 200_000, 'higher-is-better')).toBe(4);
    expect(() => ratioToFloor(1, 0)).toThrow(/positive/);
  });
});

describe('bench rows and table', () => {
  it('summarises samples, relates them to the floor and checks the goal on the ratio', () => {
    const row = makeRow({
      figure: 4,
      measure: 'berth --version',
      unit: 'ms',
      samples: [60, 62, 64],
      floor: { label: 'node -e 0', samples: [40, 40, 41] },
      goal: { text: '≤ 1.5× floor', check: ({ ratio }) => (ratio ?? Infinity) <= 1.5 },
    });
    expect(row).toMatchObject({ n: 3, median: 62, spread: { label: 'p95', value: 64 }, floor: { median: 40 }, ratio: 1.55, goal: { met: false } });
  });

  it('shows the worst run as the spread of a rate, the lowest one', () => {
    const row = makeRow({ figure: 6, measure: 'render', unit: 'lines/s', samples: [120_000, 90_000, 150_000] });
    expect(row.spread).toEqual({ label: 'worst', value: 90_000 });
  });

  it('prints a Markdown table with units, ratios, met goals and notes', () => {
    const table = renderTable([
      makeRow({ figure: 1, measure: 'deploy', unit: 'ms', samples: [120, 130], floor: { label: 'round trips', samples: [60] }, goal: { text: '≤ 150 ms', check: ({ median: m }) => m <= 150 }, note: 'instances ready at once' }),
      makeRow({ figure: 5, measure: 'api.ts bundle', unit: 'KB', samples: [1900], goal: { text: '≤ 250 KB', check: ({ median: m }) => m <= 250 } }),
    ]);
    expect(table).toContain('| 1 | deploy        | 2 | 125 ms   | p95 130 ms | round trips: 60.0 ms | 2.08×   | ≤ 150 ms | yes    |');
    expect(table).toContain('| **no** |');
    expect(table).toContain('- 1 deploy: instances ready at once');
    expect(formatValue(3_400_000, 'lines/s')).toBe('3.4M lines/s');
    expect(formatValue(0.2, 'USD')).toBe('$0.20');
  });
});
