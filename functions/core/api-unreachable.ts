// What every client says when the Berth API cannot be reached (the CLI's requests and streams, its
// device login and exec socket, the MCP server's tool calls): one message, naming the URL and
// the fix, and structured details so a caller decides on a retry without reading the message.
import type { ErrorBody } from './errors.ts';

/** Socket errors of a connection that was open and then dropped: a request with an Idempotency-Key may be sent again. */
const DROPPED = new Set(['ECONNRESET', 'EPIPE', 'UND_ERR_SOCKET', 'UND_ERR_CLOSED']);

export interface UnreachableDetails {
  url: string;
  /** The socket error's code (`ECONNREFUSED`, `ENOTFOUND`, `ECONNRESET`…), when there was one. */
  errno?: string;
  /** The connection was established and then lost: safe to retry an idempotent request once. */
  dropped: boolean;
}

export type UnreachableBody = ErrorBody & { code: 'api-unreachable'; details: UnreachableDetails; next: string[] };

/** `what` names the thing reached, when it is not the API itself (`the exec endpoint`). */
export function apiUnreachable(url: string, err: unknown, what = 'the Berth API'): UnreachableBody {
  const { errno, reason } = describeCause(err);
  return {
    category: 'internal',
    code: 'api-unreachable',
    message: `${what} at ${url} is not reachable (${reason})`,
    details: { url, ...(errno ? { errno } : {}), dropped: errno !== undefined && DROPPED.has(errno) },
    next: ['npm start (in the Berth checkout) to run the embedded platform', 'berth login --api <url> (or BERTH_API=<url>) to use a platform elsewhere'],
  };
}

export function isUnreachable(body: ErrorBody): body is UnreachableBody {
  return body.code === 'api-unreachable' && typeof body.details === 'object' && body.details !== null && 'url' in body.details;
}

/** fetch wraps the socket error: `TypeError: fetch failed` with the real one (or an AggregateError of them) as `cause`. */
function describeCause(err: unknown): { errno?: string; reason: string } {
  let e: unknown = err;
  for (let depth = 0; depth < 4 && e && typeof e === 'object'; depth++) {
    const o = e as { code?: unknown; message?: unknown; cause?: unknown; errors?: unknown };
    if (typeof o.code === 'string' && /^[A-Z_]+$/.test(o.code)) return { errno: o.code, reason: typeof o.message === 'string' && o.message ? o.message : o.code };
    e = o.cause ?? (Array.isArray(o.errors) ? o.errors[0] : undefined);
  }
  const message = err instanceof Error ? err.message : String(err);
  return { reason: message || 'no answer' };
}
