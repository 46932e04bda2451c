// One route of the table (functions/contract/route-def.ts) as the OpenAPI operation it publishes:
// operationId, tags, header parameters, every status it can answer (successes with their media
// types and headers, each error with the envelope), examples. Pure: the document and the
// registration (route.ts) both read it.
import { z } from 'zod';
import { ErrorEnvelope } from '../contract/api.ts';
import { OAuthError } from '../contract/routes/device.ts';
import type { ResponseDef, ResponseHeader, RouteDef } from '../contract/route-def.ts';
import { MINIMUM_ROLE } from '../core/roles.ts';

const MUTATING = new Set(['post', 'put', 'patch', 'delete']);
export const isMutation = (route: RouteDef): boolean => MUTATING.has(route.method);

/** The error statuses a route can answer, from what it takes and who may call it. */
export function errorStatuses(route: RouteDef): number[] {
  const s = new Set<number>(route.errors ?? []);
  const guarded = route.permission !== 'public';
  // Idempotency-Key misuse is a 400, a key still in progress a 409 (functions/api/idempotency.ts).
  if (route.params || route.query || route.body || isMutation(route)) s.add(400);
  if (guarded) s.add(401);
  if (guarded && route.permission !== 'authenticated') s.add(403);
  if (route.params) s.add(404);
  if (guarded && isMutation(route)) s.add(409);
  if (route.body) s.add(413);
  if (route.body && route.bodyMediaType !== 'oauth-form') s.add(415);
  s.add(429);
  return [...s].sort((a, b) => a - b);
}

const ERROR_DESCRIPTIONS: Record<number, string> = {
  400: 'invalid-input: the request is not valid (the message names each field, the value and the rule)',
  401: 'permission: no token, or a token that is unknown, expired or revoked (see WWW-Authenticate)',
  403: "permission: the token's role in the org does not allow this",
  404: 'not-found: the org, project, app, env or the named resource does not exist',
  405: 'invalid-input: method not offered here (see Allow)',
  409: 'conflict: a concurrent change, a running operation, or a name that exists; retry once it ends',
  413: 'invalid-input: the body is larger than this route accepts',
  415: 'invalid-input: send the body with the media type this route takes',
  422: 'config-missing: the env lacks config keys or secret bundles the workloads need (the next commands set them)',
  429: 'quota: rate limited; wait Retry-After seconds',
};

export const RESPONSE_HEADERS: Record<ResponseHeader | 'retry-after' | 'www-authenticate', { description: string; schema: { type: 'string' } | { type: 'integer' } }> = {
  'x-request-id': { description: "The server's id of this request (req-<ulid>), also in the audit log", schema: { type: 'string' } },
  'idempotent-replayed': { description: '"true" when this answer is a replay stored under the Idempotency-Key', schema: { type: 'string' } },
  'x-berth-next': { description: 'format=csv: the `after` of the next (older) page; absent on the last', schema: { type: 'string' } },
  'retry-after': { description: 'Seconds to wait before retrying', schema: { type: 'integer' } },
  'www-authenticate': { description: 'RFC 6750 §3: Bearer realm and error', schema: { type: 'string' } },
};

const headersOf = (names: readonly (keyof typeof RESPONSE_HEADERS)[]) => Object.fromEntries(names.map((n) => [n, RESPONSE_HEADERS[n]]));

function successResponse(route: RouteDef, r: ResponseDef) {
  const content: Record<string, { schema: z.ZodType | Record<string, unknown>; example?: unknown }> = {};
  if (r.schema) content['application/json'] = { schema: r.schema, ...(r.example === undefined ? {} : { example: r.example }) };
  if (r.stream) content[r.stream.mediaType] = { schema: r.stream.item ?? z.string().describe(r.stream.description) };
  const headers: (keyof typeof RESPONSE_HEADERS)[] = ['x-request-id', ...(isMutation(route) ? (['idempotent-replayed'] as const) : []), ...(r.headers ?? [])];
  return { description: r.stream ? `${r.description}. ${r.stream.description}.` : r.description, headers: headersOf(headers), ...(Object.keys(content).length ? { content } : {}) };
}

function errorResponse(route: RouteDef, status: number) {
  const oauth = route.oauthErrors && status === 400;
  const headers: (keyof typeof RESPONSE_HEADERS)[] = ['x-request-id', ...(status === 429 ? (['retry-after'] as const) : []), ...(status === 401 ? (['www-authenticate'] as const) : [])];
  return {
    description: oauth ? 'OAuth error (RFC 6749 §5.2): invalid_request, authorization_pending, slow_down, access_denied, expired_token…' : ERROR_DESCRIPTIONS[status] ?? 'An error: see the envelope',
    headers: headersOf(headers),
    content: { 'application/json': { schema: oauth ? OAuthError : ErrorEnvelope } },
  };
}

function requestBody(route: RouteDef) {
  if (!route.body) return undefined;
  const example = route.requestExample === undefined ? {} : { example: route.requestExample };
  if (route.bodyMediaType === 'application/octet-stream') return { required: true, content: { 'application/octet-stream': { schema: route.body } } };
  if (route.bodyMediaType === 'oauth-form') return { required: true, content: { 'application/x-www-form-urlencoded': { schema: route.body, ...example }, 'application/json': { schema: route.body, ...example } } };
  return { required: true, content: { 'application/json': { schema: route.body, ...example } } };
}

function needs(route: RouteDef): string {
  const p = route.permission;
  if (p in MINIMUM_ROLE) return `role ${MINIMUM_ROLE[p as keyof typeof MINIMUM_ROLE]} or higher in the org`;
  return p === 'platform' ? 'the bootstrap token' : p === 'public' ? 'nothing (no token)' : 'any valid token';
}

export const IdempotencyHeaders = z.object({
  'idempotency-key': z.string().optional().meta({ description: 'Any string up to 255 characters: a retry with the same key answers the first answer again (idempotent-replayed: true) instead of running twice' }),
});

/** The OpenAPI operation of `route`, in @hono/zod-openapi's RouteConfig shape (minus middleware). */
export function operationOf(route: RouteDef) {
  const body = requestBody(route);
  const withBodyInRequest = body && route.bodyMediaType !== 'application/octet-stream' && route.bodyMediaType !== 'oauth-form';
  return {
    method: route.method,
    path: route.path,
    operationId: route.operationId,
    summary: route.summary,
    description: [`Needs: ${needs(route)}.`, route.description].filter(Boolean).join(' '),
    tags: [route.tag],
    security: route.permission === 'public' ? [] : [{ bearer: [] }],
    'x-berth-permission': route.permission,
    request: {
      ...(route.params ? { params: route.params } : {}),
      ...(route.query ? { query: route.query } : {}),
      ...(isMutation(route) && route.permission !== 'public' ? { headers: IdempotencyHeaders } : {}),
      ...(withBodyInRequest ? { body } : {}),
    },
    responses: {
      ...Object.fromEntries(Object.entries(route.responses).map(([status, r]) => [status, successResponse(route, r as ResponseDef)])),
      ...Object.fromEntries(errorStatuses(route).map((s) => [s, errorResponse(route, s)])),
      default: { description: 'internal (a bug) or a failure of the platform underneath (502, 503, 504)', headers: headersOf(['x-request-id']), content: { 'application/json': { schema: ErrorEnvelope } } },
    },
    // Bodies the validators do not read (raw bytes, OAuth forms) are documented all the same.
    ...(body && !withBodyInRequest ? { documentedBody: body } : {}),
  };
}
