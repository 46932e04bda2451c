import { randomBytes } from 'node:crypto';

// Crockford base32, as ULID uses: ids sort by creation time, so DynamoDB sort keys built from
// them list operations and events in order without a timestamp index.
const ALPHABET = '0123456789ABCDEFGHJKMNPQRSTVWXYZ';
let lastTime = 0;
let lastRandom: number[] = [];

/** A monotonic ULID: within one millisecond the random part is incremented, so order holds. */
export function ulid(now = Date.now()): string {
  let random: number[];
  if (now === lastTime) {
    random = increment(lastRandom);
  } else {
    random = Array.from(randomBytes(16), (b) => b % 32);
    lastTime = now;
  }
  lastRandom = random;
  return ulidTime(now) + random.map((d) => ALPHABET[d]).join('');
}

/** The 10-character time part of a ULID made at `ms`: a sort-key bound for "since"/"until" queries. */
export function ulidTime(ms: number): string {
  let time = '';
  let t = ms;
  for (let i = 0; i < 10; i++) {
    time = ALPHABET[t % 32] + time;
    t = Math.floor(t / 32);
  }
  return time;
}

function increment(digits: number[]): number[] {
  const out = digits.slice();
  for (let i = out.length - 1; i >= 0; i--) {
    if (out[i] < 31) {
      out[i]++;
      return out;
    }
    out[i] = 0;
  }
  return out;
}

export const operationId = (): string => `op-${ulid()}`;
export const eventId = (): string => `ev-${ulid()}`;
export const releaseId = (seq: number): string => `rel-${seq}`;
export const tokenId = (): string => `tok-${randomBytes(6).toString('hex')}`;

export function releaseSeq(id: string): number | undefined {
  const m = /^rel-(\d+)$/.exec(id);
  return m ? Number(m[1]) : undefined;
}
