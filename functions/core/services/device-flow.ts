// OAuth 2.0 Device Authorization Grant (RFC 8628) for `berth login`: the CLI asks for a device code
// and a user code, a member approves the user code on the approval page, the CLI polls and gets a
// session token. This module holds the grant's life: start, poll (with slow_down), decide, and the
// one-time exchange; the HTTP shapes live in api/routes/device.ts, the page in api/device-pages.ts.
// https://www.rfc-editor.org/rfc/rfc8628
import { createHash, randomBytes, randomInt } from 'node:crypto';
import { ConflictError } from '../errors.ts';
import type { DeviceGrant, Role } from '../model.ts';
import type { StateStore } from '../state-store.ts';

export { DEVICE_CODE_GRANT_TYPE } from '../../contract/routes/device.ts';

/** RFC 8628 §6.1: consonants only (no words, no 0/O or 1/I to confuse), 20^8 ≈ 2.6e10 codes. */
export const USER_CODE_ALPHABET = 'BCDFGHJKLMNPQRSTVWXZ';
const USER_CODE_LENGTH = 8;

/** A session token from `berth login` lives this long. */
export const SESSION_TOKEN_TTL_SECONDS = 30 * 24 * 3600;

export interface DeviceFlowSettings {
  /** Seconds between polls the CLI is told to keep. @default 5 (RFC 8628 §3.2) */
  intervalSeconds?: number;
  /** How long a user code can be approved. @default 600 */
  expiresInSeconds?: number;
  /** Added to the interval on every slow_down. @default 5 (RFC 8628 §3.5) */
  slowDownSeconds?: number;
  /** The clock (tests move it forward to expire a code). @default Date.now */
  now?: () => number;
}

/** What a poll of the token endpoint comes to; `error` values are RFC 8628 §3.5's. */
export type PollOutcome =
  | { ok: true; grant: DeviceGrant }
  | { ok: false; error: 'authorization_pending' | 'access_denied' | 'expired_token' | 'invalid_grant'; description: string }
  | { ok: false; error: 'slow_down'; description: string; intervalSeconds: number };

export const hashDeviceCode = (code: string): string => createHash('sha256').update(code).digest('hex');

/** `abcd-efgh`, `ABCDEFGH`, ` abcd efgh ` → `ABCDEFGH`; anything else → undefined. */
export function normalizeUserCode(input: string): string | undefined {
  const code = input.toUpperCase().replace(/[\s-]/g, '');
  if (code.length !== USER_CODE_LENGTH) return undefined;
  return [...code].every((ch) => USER_CODE_ALPHABET.includes(ch)) ? code : undefined;
}

/** How a person reads it: `BCDF-GHJK`. */
export const formatUserCode = (code: string): string => `${code.slice(0, 4)}-${code.slice(4)}`;

function newUserCode(): string {
  // randomInt draws without modulo bias.
  return Array.from({ length: USER_CODE_LENGTH }, () => USER_CODE_ALPHABET[randomInt(USER_CODE_ALPHABET.length)]).join('');
}

export class DeviceFlow {
  readonly intervalSeconds: number;
  readonly expiresInSeconds: number;
  private readonly slowDownSeconds: number;
  readonly now: () => number;

  constructor(
    private readonly store: StateStore,
    settings: DeviceFlowSettings = {},
  ) {
    this.intervalSeconds = settings.intervalSeconds ?? 5;
    this.expiresInSeconds = settings.expiresInSeconds ?? 600;
    this.slowDownSeconds = settings.slowDownSeconds ?? 5;
    this.now = settings.now ?? Date.now;
  }

  /** A new request: the device code goes to the client once; only its hash is stored. */
  async start(request: { clientId: string; requestedFrom?: string }): Promise<{ deviceCode: string; grant: DeviceGrant }> {
    const deviceCode = randomBytes(32).toString('base64url');
    const now = this.now();
    for (let attempt = 0; ; attempt++) {
      const grant: DeviceGrant = {
        deviceCodeHash: hashDeviceCode(deviceCode),
        userCode: newUserCode(),
        clientId: request.clientId,
        requestedAt: new Date(now).toISOString(),
        ...(request.requestedFrom ? { requestedFrom: request.requestedFrom } : {}),
        expiresAt: Math.floor(now / 1000) + this.expiresInSeconds,
        intervalSeconds: this.intervalSeconds,
        status: 'pending',
      };
      try {
        await this.store.createDeviceGrant(grant);
        return { deviceCode, grant };
      } catch (err) {
        // A live grant holds that user code: draw another (rare: 2.6e10 codes, ten minutes each).
        if (!(err instanceof ConflictError && err.code === 'user-code-taken') || attempt >= 4) throw err;
      }
    }
  }

  isExpired(grant: DeviceGrant): boolean {
    return this.now() >= grant.expiresAt * 1000;
  }

  /** The grant a person typed the code of, if the code is well-formed and known. */
  async findByUserCode(input: string): Promise<DeviceGrant | undefined> {
    const code = normalizeUserCode(input);
    return code ? this.store.getDeviceGrantByUserCode(code) : undefined;
  }

  /**
   * One poll of the token endpoint. An approved grant is moved to `exchanged` by a conditional
   * write before the caller mints the token, so of two pollers with the same code one wins.
   */
  async poll(deviceCode: string, clientId: string): Promise<PollOutcome> {
    const hash = hashDeviceCode(deviceCode);
    const grant = await this.store.getDeviceGrant(hash);
    if (!grant || grant.clientId !== clientId) return { ok: false, error: 'invalid_grant', description: 'the device code is not known (for this client_id)' };
    if (grant.status === 'exchanged') return { ok: false, error: 'invalid_grant', description: 'the device code was already exchanged for a token; run `berth login` again' };
    if (this.isExpired(grant)) return { ok: false, error: 'expired_token', description: 'the user code expired before it was approved; run `berth login` again' };
    if (grant.status === 'denied') return { ok: false, error: 'access_denied', description: `the request was denied by ${grant.decidedBy ?? 'a member'}` };
    if (grant.status === 'approved') {
      if (await this.store.exchangeDeviceGrant(hash)) return { ok: true, grant };
      return { ok: false, error: 'invalid_grant', description: 'the device code was already exchanged for a token; run `berth login` again' };
    }
    const now = this.now();
    const tooSoon = grant.lastPolledAt !== undefined && now - grant.lastPolledAt < grant.intervalSeconds * 1000;
    // Rounded to milliseconds: 0.2 + 0.4 must read 0.6 in the JSON, not 0.6000000000000001.
    const interval = tooSoon ? Math.round((grant.intervalSeconds + this.slowDownSeconds) * 1000) / 1000 : grant.intervalSeconds;
    // A poll that raced another one (same `lastPolledAt` read) polled too fast as well.
    const recorded = await this.store.recordDevicePoll(hash, grant.lastPolledAt, now, interval);
    if (tooSoon || !recorded) {
      return { ok: false, error: 'slow_down', description: `polled faster than every ${grant.intervalSeconds}s; wait ${interval}s between polls`, intervalSeconds: interval };
    }
    return { ok: false, error: 'authorization_pending', description: 'waiting for a member to approve the user code' };
  }

  /** Approves a pending grant: the exchange mints a session token for this principal, org and role. */
  approve(grant: DeviceGrant, who: { principal: string; org: string; role: Role }): Promise<boolean> {
    return this.store.decideDeviceGrant(grant.deviceCodeHash, { status: 'approved', decidedAt: new Date(this.now()).toISOString(), decidedBy: who.principal, ...who });
  }

  deny(grant: DeviceGrant, by: string): Promise<boolean> {
    return this.store.decideDeviceGrant(grant.deviceCodeHash, { status: 'denied', decidedAt: new Date(this.now()).toISOString(), decidedBy: by });
  }
}
