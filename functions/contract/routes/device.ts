// `berth login`'s two OAuth endpoints (RFC 8628): no token, forms or JSON in, OAuth's shapes out
// (`{error, error_description}` with 400) so that any OAuth client library can drive them.
import { z } from 'zod';
import { defineRoute } from '../route-def.ts';

export const DEVICE_CODE_GRANT_TYPE = 'urn:ietf:params:oauth:grant-type:device_code';
/** The one scope a login token has: the API, with the role the approving member chose. */
export const API_SCOPE = 'berth';

export const ClientId = z.string({ error: 'required' }).regex(/^[A-Za-z0-9._:-]{1,64}$/, 'must be 1-64 letters, digits, or . _ : -');
export const CodeRequest = z.object({ client_id: ClientId, scope: z.string().optional() });
export const TokenRequest = z.object({
  grant_type: z.literal(DEVICE_CODE_GRANT_TYPE, `must be ${DEVICE_CODE_GRANT_TYPE}`),
  device_code: z.string({ error: 'required' }).min(1).max(200),
  client_id: ClientId,
});

export const CodeResponse = z.object({
  device_code: z.string(),
  user_code: z.string().describe('XXXX-XXXX, for a person to type'),
  verification_uri: z.string(),
  verification_uri_complete: z.string(),
  expires_in: z.number(),
  interval: z.number(),
});
export const TokenResponse = z.object({
  access_token: z.string(),
  token_type: z.literal('Bearer'),
  expires_in: z.number(),
  scope: z.string().describe('RFC 6749 §5.1: the scope granted'),
  org: z.string(),
  role: z.string(),
  principal: z.string(),
});
export const OAuthError = z
  .object({ error: z.string(), error_description: z.string().optional(), interval: z.number().optional().describe('slow_down: the interval to keep from now on') })
  .meta({ id: 'OAuthError' });

export const startDeviceLogin = defineRoute({
  operationId: 'startDeviceLogin', method: 'post', path: '/device/code', tag: 'identity', permission: 'public',
  summary: 'Start a device login (RFC 8628 §3.1): a device code for the client, a user code for a person',
  body: CodeRequest, bodyMediaType: 'oauth-form', oauthErrors: true, requestExample: { client_id: 'berth-cli' },
  responses: { 200: { description: 'The codes and where to approve them', schema: CodeResponse } },
});
export const pollDeviceToken = defineRoute({
  operationId: 'pollDeviceToken', method: 'post', path: '/device/token', tag: 'identity', permission: 'public',
  summary: 'Poll for the token of a device login (RFC 8628 §3.4): a session token once a member approved',
  description: '400 with error authorization_pending, slow_down (with the new interval), access_denied, expired_token, invalid_grant or invalid_request.',
  body: TokenRequest, bodyMediaType: 'oauth-form', oauthErrors: true,
  requestExample: { grant_type: DEVICE_CODE_GRANT_TYPE, device_code: 'dc-example', client_id: 'berth-cli' },
  responses: { 200: { description: 'A session token for one org and role, valid 30 days', schema: TokenResponse } },
});

export const DEVICE_ROUTES = [startDeviceLogin, pollDeviceToken] as const;
