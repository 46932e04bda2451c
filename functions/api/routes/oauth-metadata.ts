// RFC 8414: the authorization server's metadata, so that an OAuth library finds the device login
// by itself (openid-client's `discovery()`). The issuer is the origin the request reached (one
// platform, one issuer; RFC 8414 §3: metadata at /.well-known/oauth-authorization-server of it).
import { Hono } from 'hono';
import { API_VERSION } from '../../contract/api.ts';
import { API_SCOPE, DEVICE_CODE_GRANT_TYPE, pollDeviceToken, startDeviceLogin } from '../../contract/routes/device.ts';
import { DOCUMENT_PATH } from '../openapi.ts';

export const OAUTH_METADATA_PATH = '/.well-known/oauth-authorization-server';

export function oauthMetadata(): Hono {
  const pages = new Hono();
  pages.get('/', (c) => {
    const origin = new URL(c.req.url).origin;
    return c.json({
      issuer: origin,
      device_authorization_endpoint: `${origin}/${API_VERSION}${startDeviceLogin.path}`,
      token_endpoint: `${origin}/${API_VERSION}${pollDeviceToken.path}`,
      grant_types_supported: [DEVICE_CODE_GRANT_TYPE],
      // The device flow has no authorization endpoint, so no response types (RFC 8414 §2 asks for
      // the member; an empty list is the honest value).
      response_types_supported: [],
      scopes_supported: [API_SCOPE],
      // A public client (the CLI): client_id only, no secret.
      token_endpoint_auth_methods_supported: ['none'],
      service_documentation: `${origin}${DOCUMENT_PATH}`,
    });
  });
  return pages;
}
