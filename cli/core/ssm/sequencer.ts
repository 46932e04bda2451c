// Stream sequencing both ways, as session-manager-plugin does it (src/datachannel/streaming.go,
// constants in src/config/config.go).
import type { ClientMessage } from './client-message.ts';

const BUFFER_CAPACITY = 10_000;

/**
 * Incoming stream messages, numbered by the agent from 0 (HandleOutputMessage): the expected one is
 * acknowledged and delivered, with any held ones that now follow it; a later one is acknowledged
 * and held; an earlier one was delivered already and is dropped without an ack, as the plugin does.
 * With the hold full, a later one is dropped unacknowledged, so the agent sends it again.
 */
export class IncomingSequence {
  private expected = 0;
  private readonly held = new Map<number, ClientMessage>();

  constructor(private readonly capacity = BUFFER_CAPACITY) {}

  accept(m: ClientMessage): { acknowledge: boolean; deliver: ClientMessage[] } {
    if (m.sequenceNumber < this.expected) return { acknowledge: false, deliver: [] };
    if (m.sequenceNumber > this.expected) {
      if (this.held.size >= this.capacity) return { acknowledge: false, deliver: [] };
      this.held.set(m.sequenceNumber, m);
      return { acknowledge: true, deliver: [] };
    }
    const deliver = [m];
    this.expected++;
    for (let next = this.held.get(this.expected); next; next = this.held.get(this.expected)) {
      this.held.delete(this.expected);
      deliver.push(next);
      this.expected++;
    }
    return { acknowledge: true, deliver };
  }
}

// Retransmission timing (config.go): start at 200 ms, then follow the measured round trip the way
// TCP does (RFC 6298 constants), never above 1 s; give up after 3,000 resends of one message.
const INITIAL_TIMEOUT_MS = 200;
const INITIAL_ROUND_TRIP_MS = 100;
const CLOCK_GRANULARITY_MS = 10;
const MAX_TIMEOUT_MS = 1_000;
export const RESEND_MAX_ATTEMPTS = 3_000;

interface Unacknowledged {
  sequenceNumber: number;
  frame: Uint8Array;
  lastSent: number;
  resends: number;
}

/**
 * Outgoing stream messages: numbered from 0, kept until the agent acknowledges them, the oldest
 * resent when its ack is overdue (ResendStreamDataMessageScheduler, ProcessAcknowledgedMessage).
 */
export class OutgoingSequence {
  private nextNumber = 0;
  private readonly pending: Unacknowledged[] = [];
  private roundTrip = INITIAL_ROUND_TRIP_MS;
  private roundTripVariation = 0;
  private timeout = INITIAL_TIMEOUT_MS;

  constructor(private readonly capacity = BUFFER_CAPACITY) {}

  /** The sequence number of the next message, which the caller then reports with `sent`. */
  next(): number {
    return this.nextNumber++;
  }

  sent(sequenceNumber: number, frame: Uint8Array, now: number): void {
    // Full: the oldest is given up on (AddDataToOutgoingMessageBuffer).
    if (this.pending.length >= this.capacity) this.pending.shift();
    this.pending.push({ sequenceNumber, frame, lastSent: now, resends: 0 });
  }

  acknowledged(sequenceNumber: number, now: number): void {
    const i = this.pending.findIndex((p) => p.sequenceNumber === sequenceNumber);
    if (i < 0) return;
    const sample = now - this.pending[i].lastSent;
    this.roundTripVariation = 0.75 * this.roundTripVariation + 0.25 * Math.abs(this.roundTrip - sample);
    this.roundTrip = 0.875 * this.roundTrip + 0.125 * sample;
    this.timeout = Math.min(MAX_TIMEOUT_MS, this.roundTrip + Math.max(CLOCK_GRANULARITY_MS, 4 * this.roundTripVariation));
    this.pending.splice(i, 1);
  }

  /** The oldest unacknowledged frame if its ack is overdue, marked as sent again now. */
  overdue(now: number): { frame: Uint8Array; sequenceNumber: number; resends: number } | undefined {
    const oldest = this.pending[0];
    if (!oldest || now - oldest.lastSent <= this.timeout) return undefined;
    oldest.lastSent = now;
    oldest.resends++;
    return { frame: oldest.frame, sequenceNumber: oldest.sequenceNumber, resends: oldest.resends };
  }

  get unacknowledged(): number[] {
    return this.pending.map((p) => p.sequenceNumber);
  }
}
