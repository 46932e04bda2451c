// RFC 6750 §3: a 401 of a bearer-token API says how to authenticate. No `error` when no token was
// sent (§3.1: the request lacked authentication); `invalid_token` when the one sent is unknown,
// expired or revoked. The description is a quoted-string: quotes and backslashes are left out.
import type { BerthError } from '../core/errors.ts';

export const REALM = 'berth';

export function wwwAuthenticate(e: BerthError): string {
  if (e.code === 'unauthenticated') return `Bearer realm="${REALM}"`;
  const description = e.message.replace(/["\\]/g, "'").replace(/[^\x20-\x7e]/g, '?');
  return `Bearer realm="${REALM}", error="invalid_token", error_description="${description}"`;
}
