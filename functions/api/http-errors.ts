// Every error the app's onError meets, as the Berth error it answers with. Hono and its
// validators throw HTTPException for requests they cannot read (a 415 for a body that is not
// JSON, a 400 for one that does not parse); those are the client's, so they keep their 4xx status
// and get the envelope. Only what is neither is internal.
import type { Context } from 'hono';
import { HTTPException } from 'hono/http-exception';
import { BerthError, type ErrorCategory } from '../core/errors.ts';

/** The category a 4xx from hono stands for; any other 4xx is the request's fault: invalid-input. */
const CATEGORY_BY_STATUS: Record<number, ErrorCategory> = { 401: 'permission', 403: 'permission', 404: 'not-found', 409: 'conflict', 429: 'quota' };

export function toBerthError(err: unknown, c: Context): BerthError {
  if (err instanceof BerthError) return err;
  if (err instanceof HTTPException && err.status >= 400 && err.status < 500) return fromHttpException(err, c);
  return new BerthError('internal', 'unexpected', `unexpected error (request ${c.get('requestId')}); the server log has the details`);
}

function fromHttpException(err: HTTPException, c: Context): BerthError {
  const status = err.status;
  if (status === 415) {
    const sent = c.req.header('content-type');
    return new BerthError('invalid-input', 'unsupported-media-type', `${c.req.method} ${new URL(c.req.url).pathname} takes a JSON body: send it with Content-Type: application/json (got ${sent ? JSON.stringify(sent) : 'no Content-Type'})`, {
      httpStatus: 415,
      details: { contentType: sent ?? null, accepted: ['application/json'] },
    });
  }
  const category = CATEGORY_BY_STATUS[status] ?? 'invalid-input';
  const code = status === 400 ? 'request-malformed' : `http-${status}`;
  return new BerthError(category, code, `the request could not be used: ${err.message || `HTTP ${status}`}`, { httpStatus: status, cause: err });
}
