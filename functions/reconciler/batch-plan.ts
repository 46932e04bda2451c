// One batch of a rolling replacement, as Kubernetes defines its two knobs: at no point more than
// `count + maxSurge` instances of the workload run, and at no point fewer than
// `count - maxUnavailable` of them are healthy. `maxSurge: 0` therefore stops an old instance
// before its replacement starts (a database on a single-writer volume never runs twice), and
// `maxUnavailable: 0` keeps every old instance serving until a new one is healthy.

export interface BatchInput {
  /** Desired instances at the new revision. */
  count: number;
  maxSurge: number;
  maxUnavailable: number;
  /** Live instances already at the new revision (starting or healthy). */
  fresh: { id: string; healthy: boolean }[];
  /** Live instances at any other revision. */
  old: { id: string; healthy: boolean }[];
}

export interface BatchPlan {
  /** Old instances to take out of traffic and stop before anything starts. */
  stopFirst: string[];
  /** New instances to start now. */
  start: number;
}

export function planBatch({ count, maxSurge, maxUnavailable, fresh, old }: BatchInput): BatchPlan {
  const need = Math.max(0, count - fresh.length);
  if (need === 0) return { stopFirst: [], start: 0 };
  const ceiling = count + maxSurge;
  const room = ceiling - fresh.length - old.length;
  const stopFirst: string[] = [];
  if (room < need && old.length) {
    // An old instance that is not healthy serves nobody: it goes first and costs no availability.
    const ordered = [...old.filter((i) => !i.healthy), ...old.filter((i) => i.healthy)];
    const healthy = fresh.filter((i) => i.healthy).length + old.filter((i) => i.healthy).length;
    let spareHealthy = healthy - Math.max(0, count - maxUnavailable);
    for (const instance of ordered) {
      if (stopFirst.length >= need - Math.max(0, room)) break;
      if (instance.healthy) {
        if (spareHealthy <= 0) break;
        spareHealthy--;
      }
      stopFirst.push(instance.id);
    }
  }
  const start = Math.max(0, Math.min(need, ceiling - fresh.length - (old.length - stopFirst.length)));
  return { stopFirst, start };
}
