// `berth login` without a token: the OAuth 2.0 device authorization grant (RFC 8628). Ask the API
// for a code, show the person where to approve it (and open the browser when there is one), then
// poll the token endpoint at the interval the API asks for, slowing down when told to. Uses only
// `fetch` and the Host: the web console runs it too.
import type { BooleanFlagSpec, CommandContext } from './command.ts';
import { apiUnreachable } from '../../functions/core/api-unreachable.ts';
import { CliError, cliError } from './errors.ts';

export const CLIENT_ID = 'berth-cli';
const GRANT_TYPE = 'urn:ietf:params:oauth:grant-type:device_code';
/** RFC 8628 §3.5: without a value from the server, slow_down adds five seconds. */
const SLOW_DOWN_SECONDS = 5;

interface CodeResponse {
  device_code: string;
  user_code: string;
  verification_uri: string;
  verification_uri_complete?: string;
  expires_in: number;
  interval?: number;
}

export interface DeviceToken {
  access_token: string;
  token_type: string;
  expires_in: number;
  org: string;
  role: string;
  principal?: string;
}

export async function deviceLogin(ctx: CommandContext<{ browser: BooleanFlagSpec }>, api: string): Promise<DeviceToken> {
  const code = await oauthPost<CodeResponse>(api, '/v1/device/code', { client_id: CLIENT_ID });
  if (!code.ok) throw refused(code.error);
  const start = code.body;
  const page = start.verification_uri_complete ?? start.verification_uri;
  const minutes = Math.round(start.expires_in / 60);
  tell(ctx, `To log in, open this page in a browser and approve the request:\n\n  ${page}\n\nCheck that the page shows the code  ${start.user_code}  (it expires in ${minutes} minute${minutes === 1 ? '' : 's'}).`);
  if (ctx.flags.browser !== false && ctx.host.stdinIsTTY && ctx.host.openBrowser && (await ctx.host.openBrowser(page))) tell(ctx, 'Opened your browser.');
  tell(ctx, 'Waiting for approval… (Ctrl-C to stop)');

  let interval = start.interval ?? 5;
  const deadline = ctx.host.now() + start.expires_in * 1000;
  let interrupted = false;
  void ctx.host.interrupted.then(() => (interrupted = true));
  for (;;) {
    await Promise.race([ctx.host.sleep(interval * 1000), ctx.host.interrupted]);
    if (interrupted) {
      ctx.out.note('Interrupted: not logged in.');
      return ctx.host.exit(130);
    }
    const res = await oauthPost<DeviceToken>(api, '/v1/device/token', { grant_type: GRANT_TYPE, device_code: start.device_code, client_id: CLIENT_ID });
    if (res.ok) return res.body;
    const { error, error_description: description, interval: next } = res.error;
    if (error === 'authorization_pending') {
      if (ctx.host.now() > deadline) throw expired(start.user_code);
      continue;
    }
    if (error === 'slow_down') {
      interval = typeof next === 'number' && next > interval ? next : interval + SLOW_DOWN_SECONDS;
      continue;
    }
    if (error === 'access_denied') throw cliError('permission', 'login-denied', `the login request ${start.user_code} was denied on the approval page${description ? ` (${description})` : ''}; no token was issued`, ['berth login']);
    if (error === 'expired_token') throw expired(start.user_code);
    throw refused(res.error);
  }
}

/** What must reach the person even when stdout is JSON for a program: stderr then. */
function tell(ctx: CommandContext, text: string): void {
  if (ctx.out.json) ctx.out.errorText(text);
  else ctx.out.line(text);
}

interface OAuthError {
  error: string;
  error_description?: string;
  interval?: number;
}

type OAuthResult<T> = { ok: true; body: T } | { ok: false; error: OAuthError };

/** A form POST (RFC 6749 §4.1.3); OAuth errors come back as `{error}`, Berth's (a 429) as the envelope. */
async function oauthPost<T>(api: string, path: string, params: Record<string, string>): Promise<OAuthResult<T>> {
  const url = `${api.replace(/\/$/, '')}${path}`;
  let res: Response;
  try {
    res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' }, body: new URLSearchParams(params).toString() });
  } catch (err) {
    throw new CliError(apiUnreachable(api, err));
  }
  const text = await res.text();
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    throw cliError('internal', 'bad-response', `the API answered ${res.status} ${res.statusText} to ${path}: ${text.slice(0, 200)}`);
  }
  if (res.ok) return { ok: true, body: body as T };
  const error = (body as { error?: unknown }).error;
  if (typeof error === 'string') return { ok: false, error: body as OAuthError };
  if (error && typeof error === 'object' && 'category' in error) throw new CliError({ next: [], ...(error as CliError['body']) });
  throw cliError('internal', 'bad-response', `the API answered ${res.status} to ${path}: ${text.slice(0, 200)}`);
}

function expired(userCode: string): CliError {
  return cliError('timeout', 'login-expired', `the code ${userCode} expired before anyone approved it`, ['berth login']);
}

function refused(error: OAuthError): CliError {
  return cliError('permission', 'login-failed', `the API refused the login: ${error.error}${error.error_description ? ` (${error.error_description})` : ''}`, ['berth login']);
}
