// `Idempotency-Key` on a mutating request: the first response (2xx or 4xx) is stored and returned
// again for every retry with the same key, so a retried deploy never starts a second rollout.
// Keys are scoped to the token that sent them; reusing one for a different request is an error.
import { createHash } from 'node:crypto';
import type { MiddlewareHandler } from 'hono';
import { ConflictError, InvalidInputError } from '../core/errors.ts';
import type { StateStore } from '../core/state-store.ts';
import type { AuthVariables } from './auth.ts';

const MUTATING = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);

export function idempotency(store: StateStore): MiddlewareHandler<{ Variables: AuthVariables }> {
  return async (c, next) => {
    const key = c.req.header('idempotency-key');
    // Without a token (the device-login endpoints) there is no caller to scope a key to.
    if (!key || !MUTATING.has(c.req.method) || !c.get('actor')) return next();
    if (key.length > 255) throw new InvalidInputError('idempotency-key-invalid', 'Idempotency-Key must be at most 255 characters; a UUID is a good choice');
    const body = new Uint8Array(await c.req.raw.clone().arrayBuffer());
    const requestHash = createHash('sha256').update(`${c.req.method} ${new URL(c.req.url).pathname}\n`).update(body).digest('hex');
    const scope = c.get('actor').id;
    const existing = await store.claimIdempotencyKey(scope, key, requestHash);
    if (existing) {
      if (existing.requestHash !== requestHash) {
        throw new InvalidInputError('idempotency-key-reused', `Idempotency-Key "${key}" was already used for a different request; use a new key for a new request`);
      }
      if (existing.state !== 'done' || !existing.response) {
        throw new ConflictError('idempotency-key-in-progress', `a request with Idempotency-Key "${key}" is still being processed; retry in a moment`);
      }
      return new Response(existing.response.body, { status: existing.response.status, headers: { 'content-type': 'application/json', 'idempotent-replayed': 'true' } });
    }
    try {
      await next();
    } catch (err) {
      await store.releaseIdempotencyKey(scope, key);
      throw err;
    }
    // hono turns thrown errors into responses before this point; a 5xx may succeed on retry.
    if (c.res.status >= 500) {
      await store.releaseIdempotencyKey(scope, key);
      return;
    }
    const text = await c.res.clone().text();
    await store.completeIdempotencyKey(scope, key, { status: c.res.status, body: text });
  };
}
