// When each env is next looked at by the embedded reconcile loop: an in-memory due-time index, so a
// tick costs store reads for the envs that changed or are due, not for every env. It is only a
// cache of "when to look": losing it (a restart) loses nothing, the first full sweep rebuilds it.
import type { EnvRef } from '../core/ports.ts';

const keyOf = (r: EnvRef): string => `${r.org}/${r.project}/${r.app}/${r.env}`;

export class ReconcileSchedule {
  /** Envs with a next check, by key; an env absent here waits for a change or the next sweep. */
  private readonly due = new Map<string, { ref: EnvRef; at: number }>();

  /** Checked at the next tick: something happened to it (an event, an instance crashed). */
  markChanged(ref: EnvRef): void {
    this.due.set(keyOf(ref), { ref, at: 0 });
  }

  /** Checked at `at`, unless it is already due sooner. */
  checkAt(ref: EnvRef, at: number): void {
    const key = keyOf(ref);
    const current = this.due.get(key);
    if (!current || current.at > at) this.due.set(key, { ref, at });
  }

  /** Nothing to check until it changes (no release yet, destroyed, or gone). */
  forget(ref: EnvRef): void {
    this.due.delete(keyOf(ref));
  }

  /** Removes and returns the envs due at `now`, soonest first. */
  takeDue(now: number): EnvRef[] {
    const taken = [...this.due.entries()].filter(([, d]) => d.at <= now).sort((a, b) => a[1].at - b[1].at);
    for (const [key] of taken) this.due.delete(key);
    return taken.map(([, d]) => d.ref);
  }

  get size(): number {
    return this.due.size;
  }
}
