// `Idempotency-Key` on a mutating request, after Powertools' idempotency utility: the first final
// answer is stored and returned again for every retry with the same key, so a retried deploy never
// starts a second rollout. Keys are scoped to the token that sent them; reusing one for a different
// request is an error.
//
// - A claim is in progress for at most IN_PROGRESS_TIMEOUT_MS: a platform killed mid-request leaves
//   a claim that the next retry takes over after that, instead of answering "in progress" forever.
// - Only final answers are stored (isFinalStatus); a transient one (409, 429, 5xx…) releases the
//   claim, so the retry runs again.
// - Fields a route declares shown once (shown-once.ts) are never stored: a replay says so instead.
import { createHash } from 'node:crypto';
import type { MiddlewareHandler } from 'hono';
import { ConflictError, InvalidInputError } from '../core/errors.ts';
import type { StateStore } from '../core/state-store.ts';
import type { AuthVariables } from './auth.ts';
import { withoutShownOnce, type ShownOnceVariables } from './shown-once.ts';

const MUTATING = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);

/**
 * How long a claim may stay in progress before another request with the key takes it over. Above
 * the longest a request runs (API Gateway cuts one at 29 s; the body is read before the claim, so a
 * slow upload does not count), short enough that the CLI's retry after a crash succeeds in a minute.
 */
export const IN_PROGRESS_TIMEOUT_MS = 60_000;

/**
 * Statuses that are an answer to the request itself, the same on every retry: 2xx, 3xx and the
 * deterministic 4xx (400, 403, 404, 413, 415, 422…). Not final: 408 (timeout), 409 (a conflict with
 * a concurrent change or a running operation, gone once it ends), 423, 425, 429 (rate limited) and
 * every 5xx; a retry with the same key runs the request again.
 */
export function isFinalStatus(status: number): boolean {
  return status < 500 && !TRANSIENT_4XX.has(status);
}
const TRANSIENT_4XX = new Set([408, 409, 423, 425, 429]);

/** What makes two requests with one key the same request: method, path and body bytes. */
export function requestHashOf(method: string, pathname: string, body: Uint8Array): string {
  return createHash('sha256').update(`${method} ${pathname}\n`).update(body).digest('hex');
}

export interface IdempotencyOptions {
  /** Epoch milliseconds; a test's fake clock. */
  now?: () => number;
  inProgressMs?: number;
}

export function idempotency(store: StateStore, options: IdempotencyOptions = {}): MiddlewareHandler<{ Variables: AuthVariables & ShownOnceVariables }> {
  const now = options.now ?? Date.now;
  const inProgressMs = options.inProgressMs ?? IN_PROGRESS_TIMEOUT_MS;
  return async (c, next) => {
    const key = c.req.header('idempotency-key');
    // Without a token (the device-login endpoints) there is no caller to scope a key to.
    if (!key || !MUTATING.has(c.req.method) || !c.get('actor')) return next();
    if (key.length > 255) throw new InvalidInputError('idempotency-key-invalid', 'Idempotency-Key must be at most 255 characters; a UUID is a good choice');
    const body = new Uint8Array(await c.req.raw.clone().arrayBuffer());
    const requestHash = requestHashOf(c.req.method, new URL(c.req.url).pathname, body);
    const scope = c.get('actor').id;
    const claim = await store.claimIdempotencyKey(scope, key, { requestHash, now: now(), inProgressMs });
    if (!claim.claimed) {
      const existing = claim.existing;
      if (existing.requestHash !== requestHash) {
        throw new InvalidInputError('idempotency-key-reused', `Idempotency-Key "${key}" was already used for a different request; use a new key for a new request`);
      }
      if (existing.state !== 'done' || !existing.response) {
        const retryAfterSeconds = Math.max(1, Math.ceil(((existing.inProgressExpiresAt ?? now()) - now()) / 1000));
        throw new ConflictError('idempotency-key-in-progress', `a request with Idempotency-Key "${key}" is still being processed; retry in a moment (its claim lapses in ${retryAfterSeconds} s if it never finishes)`, {
          details: { idempotencyKey: key, retryAfterSeconds },
        });
      }
      return new Response(existing.response.body, { status: existing.response.status, headers: { 'content-type': 'application/json', 'idempotent-replayed': 'true' } });
    }
    try {
      await next();
    } catch (err) {
      await store.releaseIdempotencyKey(scope, key, claim.claimId);
      throw err;
    }
    // hono turns thrown errors into responses before this point.
    if (!isFinalStatus(c.res.status)) {
      await store.releaseIdempotencyKey(scope, key, claim.claimId);
      return;
    }
    const text = await c.res.clone().text();
    const shownOnce = c.get('shownOnce');
    const stored = shownOnce?.length ? withoutShownOnce(text, shownOnce) : { body: text };
    // False when the claim was taken over (this request outlived IN_PROGRESS_TIMEOUT_MS): the
    // successor's answer is the one kept; this one still goes to its caller.
    await store.completeIdempotencyKey(scope, key, claim.claimId, { response: { status: c.res.status, body: stored.body }, redactedDigests: stored.redactedDigests });
  };
}
