// Berth events: what happened to an env, in order, for `events`, `wait` and the receipts.
import { eventId } from './ids.ts';
import type { BerthEvent } from './model.ts';
import type { EnvRef } from './ports.ts';
import type { StateStore } from './state-store.ts';

export type NewEvent = Omit<BerthEvent, 'id' | 'at'>;

export class EventLog {
  private readonly listeners = new Set<(env: EnvRef, event: BerthEvent) => void>();

  constructor(private readonly store: StateStore) {}

  async record(env: EnvRef, event: NewEvent): Promise<BerthEvent> {
    const full: BerthEvent = { id: eventId(), at: new Date().toISOString(), ...event };
    // Before the write, synchronously: a cue that fires in the same turn as the fact it follows
    // (a compute event is recorded without being awaited).
    for (const listener of this.listeners) listener(env, full);
    await this.store.appendEvent(env, full);
    return full;
  }

  /**
   * Calls `listener` with each event this process records (embedded: the reconcile loop's cue that
   * an env changed). Not a subscription to the log: events other processes record are not seen.
   */
  onRecord(listener: (env: EnvRef, event: BerthEvent) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }
}
