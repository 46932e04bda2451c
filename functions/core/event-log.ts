// Berth events: what happened to an env, in order, for `events`, `wait` and the receipts.
import { eventId } from './ids.ts';
import type { BerthEvent } from './model.ts';
import type { EnvRef } from './ports.ts';
import type { StateStore } from './state-store.ts';

export type NewEvent = Omit<BerthEvent, 'id' | 'at'>;

export class EventLog {
  constructor(private readonly store: StateStore) {}

  async record(env: EnvRef, event: NewEvent): Promise<BerthEvent> {
    const full: BerthEvent = { id: eventId(), at: new Date().toISOString(), ...event };
    await this.store.appendEvent(env, full);
    return full;
  }
}
