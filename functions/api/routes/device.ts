// `berth login`'s side of the API: the two OAuth endpoints of RFC 8628 (device authorization and
// token), which need no token and answer in OAuth's shapes (`{error, error_description}`, status
// 400) rather than the Berth envelope, so any OAuth client library can drive them; and logout.
// They are plain routes, documented from the table (contract/routes/device.ts): the zod-openapi validators would answer a
// bad body with the Berth envelope, and OAuth clients send forms (RFC 6749 §4.1.3) as well as JSON.
import type { z } from 'zod';
import { API_SCOPE, CodeRequest, DEVICE_CODE_GRANT_TYPE, DEVICE_ROUTES, TokenRequest } from '../../contract/routes/device.ts';
import type { Context } from 'hono';
import { ConflictError } from '../../core/errors.ts';
import { formatUserCode, SESSION_TOKEN_TTL_SECONDS, type DeviceFlow } from '../../core/services/device-flow.ts';
import type { PlatformDeps } from '../../core/services/deps.ts';
import type { Api } from '../app.ts';
import { issueToken } from '../auth.ts';
import { sourceIp } from '../request-facts.ts';
import * as R from '../../contract/routes/index.ts';
import { document, register } from '../route.ts';
import { DEVICE_PAGE_PATH } from './device-pages.ts';

/** The paths that take no token (app.ts lets them through without one). */
export const DEVICE_ENDPOINTS = DEVICE_ROUTES.map((r) => r.path);

export function registerDeviceRoutes(api: Api, deps: PlatformDeps, flow: DeviceFlow): void {
  for (const r of DEVICE_ROUTES) document(api, r);

  api.post('/device/code', async (c) => {
    const parsed = CodeRequest.safeParse(await readParams(c));
    if (!parsed.success) return oauthError(c, 'invalid_request', describe(parsed.error));
    const { deviceCode, grant } = await flow.start({ clientId: parsed.data.client_id, requestedFrom: sourceIp(c) });
    const page = `${new URL(c.req.url).origin}${DEVICE_PAGE_PATH}`;
    const userCode = formatUserCode(grant.userCode);
    return noStore(
      c.json({
        device_code: deviceCode,
        user_code: userCode,
        verification_uri: page,
        verification_uri_complete: `${page}?user_code=${userCode}`,
        expires_in: flow.expiresInSeconds,
        interval: flow.intervalSeconds,
      }),
    );
  });

  api.post('/device/token', async (c) => {
    const params = await readParams(c);
    if (params.grant_type !== undefined && params.grant_type !== DEVICE_CODE_GRANT_TYPE) return oauthError(c, 'unsupported_grant_type', `grant_type must be ${DEVICE_CODE_GRANT_TYPE}`);
    const parsed = TokenRequest.safeParse(params);
    if (!parsed.success) return oauthError(c, 'invalid_request', describe(parsed.error));
    const outcome = await flow.poll(parsed.data.device_code, parsed.data.client_id);
    if (!outcome.ok) return oauthError(c, outcome.error, outcome.description, outcome.error === 'slow_down' ? outcome.intervalSeconds : undefined);
    const { principal, org, role } = outcome.grant as Required<typeof outcome.grant>;
    const { token } = await issueToken(deps.store, {
      name: `login (${parsed.data.client_id})`,
      kind: 'session',
      principal,
      org,
      role,
      createdBy: outcome.grant.decidedBy ?? principal,
      expiresAt: new Date(flow.now() + SESSION_TOKEN_TTL_SECONDS * 1000).toISOString(),
    });
    return noStore(c.json({ access_token: token, token_type: 'Bearer' as const, expires_in: SESSION_TOKEN_TTL_SECONDS, scope: API_SCOPE, org, role, principal }));
  });

  register(api, R.revokeOwnToken, async (c) => {
    const token = c.get('token');
    if (token.kind === 'bootstrap') {
      // It is how the installer administers the platform; revoking it by a logout would lock them out.
      throw new ConflictError('bootstrap-token-kept', "logout does not revoke the installer's bootstrap token; the CLI only forgets it", { next: ['berth login (to use a login token instead)'] });
    }
    const at = new Date().toISOString();
    await deps.store.revokeToken(token, at);
    return c.json({ revoked: { id: token.id, name: token.name, kind: token.kind, principal: token.principal, org: token.org ?? null, revokedAt: token.revokedAt ?? at } }, 200);
  });
}

/** Form (RFC 6749 §4.1.3) or JSON; only string values count, the rest reads as missing. */
async function readParams(c: Context): Promise<Record<string, string>> {
  const type = c.req.header('content-type') ?? '';
  if (/^application\/x-www-form-urlencoded/i.test(type)) return Object.fromEntries(new URLSearchParams(await c.req.text()));
  if (/^application\/json/i.test(type)) {
    const body: unknown = await c.req.json().catch(() => undefined);
    if (body && typeof body === 'object') return Object.fromEntries(Object.entries(body).filter((e): e is [string, string] => typeof e[1] === 'string'));
  }
  return {};
}

function describe(error: z.ZodError): string {
  return error.issues.map((i) => `${i.path.join('.') || 'body'}: ${i.message}`).join('; ');
}

function oauthError(c: Context, error: string, description: string, interval?: number): Response {
  return noStore(c.json({ error, error_description: description, ...(interval === undefined ? {} : { interval }) }, 400));
}

/** RFC 6749 §5.1: responses with codes and tokens are not cached. */
function noStore(res: Response): Response {
  res.headers.set('cache-control', 'no-store');
  res.headers.set('pragma', 'no-cache');
  return res;
}
