// The rolling replacement's batch plan: maxSurge and maxUnavailable mean exactly what they say.
import { describe, expect, it } from 'vitest';
import { planBatch, type BatchInput } from '../functions/reconciler/batch-plan.ts';

const up = (n: number, prefix: string) => Array.from({ length: n }, (_, i) => ({ id: `${prefix}${i + 1}`, healthy: true }));

describe('planBatch', () => {
  // count, maxSurge, maxUnavailable, fresh (healthy), old (healthy) → stop first, start
  const cases: [number, number, number, number, number, number, number][] = [
    [1, 1, 0, 0, 1, 0, 1], // the default: the new one starts beside the old
    [1, 0, 1, 0, 1, 1, 1], // single writer: the old one stops first
    [3, 1, 0, 0, 3, 0, 1],
    [3, 0, 1, 0, 3, 1, 1],
    [3, 2, 0, 0, 3, 0, 2],
    [3, 2, 1, 0, 3, 1, 3], // room for 2 more, and one old may go: all three start at once
    [3, 0, 3, 0, 3, 3, 3], // everything may be down: replace all at once
    [3, 1, 0, 1, 2, 0, 1],
    [3, 0, 1, 2, 1, 1, 1],
    [3, 1, 0, 3, 0, 0, 0], // done
    [2, 0, 1, 0, 0, 0, 2], // nothing old (a first deploy): start them all
    [4, 1, 1, 0, 4, 1, 2],
  ];
  it.each(cases)('count %i, maxSurge %i, maxUnavailable %i, %i fresh and %i old → stop %i first, start %i', (count, maxSurge, maxUnavailable, fresh, old, stop, start) => {
    const plan = planBatch({ count, maxSurge, maxUnavailable, fresh: up(fresh, 'n'), old: up(old, 'o') });
    expect(plan.stopFirst).toHaveLength(stop);
    expect(plan.start).toBe(start);
  });

  it('stops an unhealthy old instance first: it serves nobody', () => {
    const plan = planBatch({ count: 2, maxSurge: 0, maxUnavailable: 1, fresh: [], old: [{ id: 'o1', healthy: true }, { id: 'o2', healthy: false }] });
    expect(plan.stopFirst).toEqual(['o2']);
    expect(plan.start).toBe(1);
  });

  it('stops nothing healthy while a new instance is still starting and no more may be down', () => {
    const plan = planBatch({ count: 2, maxSurge: 0, maxUnavailable: 1, fresh: [{ id: 'n1', healthy: false }], old: [{ id: 'o1', healthy: true }] });
    expect(plan).toEqual({ stopFirst: [], start: 0 });
  });

  // Every combination, batch after batch with instant health: the bounds hold and the rollout ends.
  it('never runs more than count + maxSurge nor keeps fewer than count - maxUnavailable healthy, and always finishes', () => {
    for (let count = 1; count <= 5; count++) {
      for (let maxSurge = 0; maxSurge <= 3; maxSurge++) {
        for (let maxUnavailable = 0; maxUnavailable <= 3; maxUnavailable++) {
          if (maxSurge + maxUnavailable === 0) continue;
          let state: Pick<BatchInput, 'fresh' | 'old'> = { fresh: [], old: up(count, 'o') };
          let next = 1;
          for (let batch = 0; ; batch++) {
            expect(batch, `count ${count} surge ${maxSurge} unavailable ${maxUnavailable} did not finish`).toBeLessThan(20);
            const plan = planBatch({ count, maxSurge, maxUnavailable, ...state });
            if (plan.start === 0 && plan.stopFirst.length === 0) break;
            const old = state.old.filter((i) => !plan.stopFirst.includes(i.id));
            const started = Array.from({ length: plan.start }, () => ({ id: `n${next++}`, healthy: false }));
            // While the batch starts: the most instances running, the fewest healthy.
            expect(state.fresh.length + old.length + started.length).toBeLessThanOrEqual(count + maxSurge);
            expect(state.fresh.length + old.length).toBeGreaterThanOrEqual(count - maxUnavailable);
            // The batch becomes healthy; one old instance goes for each new healthy one (ShiftTrafficToBatch).
            const fresh = [...state.fresh, ...started].map((i) => ({ ...i, healthy: true }));
            state = { fresh, old: old.slice(0, Math.max(0, count - fresh.length)) };
          }
          expect(state.fresh).toHaveLength(count);
          expect(state.old).toEqual([]);
        }
      }
    }
  });
});
