// How a tool reaches the API: one fetch-based caller for both transports. `berth mcp` passes the
// CLI's API URL, token and the global fetch; `/v1/mcp` passes the caller's own Authorization header
// and a fetch that hands the request to the same hono app in-process. Either way the request meets
// the same auth, role check, audit, limits and validation as any other client's.
import { apiUnreachable } from '../core/api-unreachable.ts';
import type { ErrorBody } from '../core/errors.ts';
import type { ApiRequest } from './tools.ts';

export type ApiAnswer = { ok: true; status: number; body: Record<string, unknown> } | { ok: false; status: number; error: Required<Omit<ErrorBody, 'details'>> & { details?: unknown } };

export type ApiCaller = (request: ApiRequest) => Promise<ApiAnswer>;

export interface FetchApiOptions {
  /** The API's origin, e.g. http://[::1]:4680 (no /v1). */
  baseUrl: string;
  /** The Authorization header every call carries (`Bearer <token>`). */
  authorization?: string;
  fetch?: (input: string, init: RequestInit) => Promise<Response>;
}

export function fetchApi(options: FetchApiOptions): ApiCaller {
  const doFetch = options.fetch ?? ((input, init) => fetch(input, init));
  const base = options.baseUrl.replace(/\/$/, '');
  return async (request) => {
    const url = new URL(`${base}${request.path}`);
    for (const [key, value] of Object.entries(request.query ?? {})) if (value !== undefined) url.searchParams.set(key, String(value));
    const headers: Record<string, string> = { accept: 'application/json' };
    if (options.authorization) headers.authorization = options.authorization;
    if (request.body !== undefined) headers['content-type'] = 'application/json';
    if (request.idempotencyKey) headers['idempotency-key'] = request.idempotencyKey;
    let res: Response;
    try {
      res = await doFetch(url.toString(), { method: request.method, headers, body: request.body === undefined ? undefined : JSON.stringify(request.body) });
    } catch (err) {
      return { ok: false, status: 0, error: apiUnreachable(base, err) };
    }
    const text = await res.text();
    let body: unknown;
    try {
      body = text ? JSON.parse(text) : {};
    } catch {
      body = undefined;
    }
    if (res.ok && body && typeof body === 'object') return { ok: true, status: res.status, body: body as Record<string, unknown> };
    const error = (body as { error?: ErrorBody } | undefined)?.error;
    if (error?.category) return { ok: false, status: res.status, error: { ...error, next: error.next ?? [] } };
    return { ok: false, status: res.status, error: { category: 'internal', code: 'bad-response', message: `the API answered ${res.status} ${res.statusText}: ${text.slice(0, 200)}`, next: [] } };
  };
}
