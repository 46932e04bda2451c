// Every request gets the server's own id (`req-<ulid>`): it is what the audit record, the server
// log and the `X-Request-Id` answer carry, so a client cannot make two records share an id or make
// one look like another's. A client's own `X-Request-Id` (for correlating with its logs) is kept
// beside it as `clientRequestId`, printable ASCII only and bounded, never in its place.
import type { MiddlewareHandler } from 'hono';
import { ulid } from '../core/ids.ts';
import type { AuthVariables } from './auth.ts';

export const MAX_CLIENT_REQUEST_ID = 128;

/** The client's id as it may be stored and shown: no control or non-ASCII characters, bounded. */
export function sanitizeClientRequestId(raw: string | undefined): string | undefined {
  if (raw === undefined) return undefined;
  const clean = raw.replace(/[^\x20-\x7e]/g, '').trim().slice(0, MAX_CLIENT_REQUEST_ID);
  return clean || undefined;
}

export function requestIds(): MiddlewareHandler<{ Variables: AuthVariables }> {
  return async (c, next) => {
    const requestId = `req-${ulid()}`;
    c.set('requestId', requestId);
    const clientRequestId = sanitizeClientRequestId(c.req.header('x-request-id'));
    if (clientRequestId) c.set('clientRequestId', clientRequestId);
    await next();
    c.header('x-request-id', requestId);
  };
}
