// The approval page of `berth login` (RFC 8628 §3.3), served by the API outside /v1: plain HTML
// forms, no script. GET /device shows the request and either the sign-in forms or Approve/Deny;
// the POSTs sign in, decide and sign out, and answer with a page or a redirect back (303).
// Cross-site requests are refused twice over: the session cookie is SameSite=Strict, and every
// state-changing form carries a CSRF token derived from the session (device-session.ts); a POST
// whose Origin is another site's (or "null") is refused before anything else.
import { Hono, type Context } from 'hono';
import { getCookie, setCookie } from 'hono/cookie';
import { BerthError } from '../../core/errors.ts';
import type { AuthVariables } from '../auth.ts';
import type { DeviceGrant } from '../../core/model.ts';
import { formatUserCode, type DeviceFlow } from '../../core/services/device-flow.ts';
import type { StateStore } from '../../core/state-store.ts';
import { approvalChoices, csrfMatches, csrfToken, currentSession, SESSION_COOKIE, sessionCookie, signIn, signOut } from '../device-session.ts';
import { approvePage, donePage, enterCodePage, messagePage, signInPage } from '../device-html.ts';

export const DEVICE_PAGE_PATH = '/device';

const SECURITY_HEADERS: Record<string, string> = {
  // No script, no frames (clickjacking the Approve button), forms only to this origin.
  'content-security-policy': "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
  'x-frame-options': 'DENY',
  'x-content-type-options': 'nosniff',
  'cache-control': 'no-store',
  // The user code is in the URL; it goes nowhere else. Same-origin (not no-referrer) so that the
  // forms' POSTs carry a real Origin, which the check below needs.
  'referrer-policy': 'same-origin',
};

export function devicePages(store: StateStore, flow: DeviceFlow): Hono {
  const pages = new Hono();
  pages.use('*', async (c, next) => {
    await next();
    for (const [name, value] of Object.entries(SECURITY_HEADERS)) c.res.headers.set(name, value);
  });
  // The Berth errors a page meets are written for people; show them as a page, not JSON.
  pages.onError((err, c) => {
    if (!(err instanceof BerthError)) {
      console.error('[device page]', err);
      return c.html(messagePage('Something went wrong', 'The approval page failed; the server log has the details. Try again, or run berth login again.'), 500);
    }
    return c.html(messagePage('Not possible', err.message), err.httpStatus as 400);
  });
  pages.use('*', async (c, next) => {
    if (c.req.method === 'POST' && !sameOrigin(c)) return c.html(messagePage('Refused', 'This form was sent from another site. Open the page from the link berth login printed.'), 403);
    return next();
  });

  pages.get('/', async (c) => {
    const input = c.req.query('user_code');
    if (input === undefined || input.trim() === '') return c.html(enterCodePage());
    const grant = await pendingGrant(c, flow, input);
    if (grant instanceof Response) return grant;
    const cookie = getCookie(c, SESSION_COOKIE);
    const session = await currentSession(store, cookie, flow.now());
    if (!session || !cookie) return c.html(signInPage(grant, flow.now()));
    const choices = await approvalChoices(store, session);
    if (!choices.length) {
      return c.html(messagePage('No org to approve for', `${session.principal} is not an active member of an org this sign-in covers. Sign in with another invite or token.`), 403);
    }
    return c.html(approvePage({ grant, session, choices, csrf: csrfToken(cookie), now: flow.now() }));
  });

  pages.post('/sign-in', async (c) => {
    const form = await formOf(c);
    const grant = await pendingGrant(c, flow, form.user_code ?? '');
    if (grant instanceof Response) return grant;
    if (Boolean(form.invite) === Boolean(form.token)) return c.html(signInPage(grant, flow.now(), 'Give either an invite code or an API token.'), 400);
    let signedIn;
    try {
      signedIn = await signIn(store, { invite: form.invite, token: form.token }, flow.now());
    } catch (err) {
      // A wrong code or token is answered on the form itself, so the person can try again.
      if (!(err instanceof BerthError) || err.category !== 'permission') throw err;
      return c.html(signInPage(grant, flow.now(), err.message), err.httpStatus as 401);
    }
    c.header('set-cookie', sessionCookie(signedIn.cookie, isHttps(c)));
    return c.redirect(pageFor(grant), 303);
  });

  pages.post('/decide', async (c) => {
    const form = await formOf(c);
    const cookie = getCookie(c, SESSION_COOKIE);
    const session = await currentSession(store, cookie, flow.now());
    if (!session || !cookie) return c.html(messagePage('Signed out', 'Your sign-in on this page expired or was revoked. Open the page again and sign in.', back(form.user_code)), 401);
    if (!csrfMatches(cookie, form.csrf)) return c.html(messagePage('Refused', 'The form is missing its security token or it does not belong to your sign-in. Reload the page and try again.', back(form.user_code)), 403);
    const grant = await pendingGrant(c, flow, form.user_code ?? '');
    if (grant instanceof Response) return grant;
    if (form.decision === 'deny') {
      if (!(await flow.deny(grant, session.principal))) return alreadyDecided(c, grant);
      return c.html(donePage('denied', grant));
    }
    if (form.decision !== 'approve') return c.html(messagePage('Refused', 'Choose Approve or Deny.', back(form.user_code)), 400);
    const choice = (await approvalChoices(store, session)).find((ch) => ch.org === form.org);
    if (!choice) return c.html(messagePage('Refused', `You cannot approve a login for org "${form.org ?? ''}" with this sign-in.`, back(form.user_code)), 403);
    if (!(await flow.approve(grant, { principal: session.principal, org: choice.org, role: choice.role }))) return alreadyDecided(c, grant);
    // The org's audit log records who approved a login into it (the session is not an API token).
    (c as unknown as Context<{ Variables: AuthVariables }>).set('auditSubject', { org: choice.org, actor: session.principal, tokenId: 'device-page', tokenKind: 'session' });
    return c.html(donePage('approved', grant, choice.org));
  });

  pages.post('/sign-out', async (c) => {
    const form = await formOf(c);
    const cookie = getCookie(c, SESSION_COOKIE);
    if (cookie && csrfMatches(cookie, form.csrf)) await signOut(store, cookie);
    setCookie(c, SESSION_COOKIE, '', { path: DEVICE_PAGE_PATH, maxAge: 0, httpOnly: true, sameSite: 'Strict', secure: isHttps(c) });
    return c.redirect(form.user_code ? `${DEVICE_PAGE_PATH}?user_code=${encodeURIComponent(form.user_code)}` : DEVICE_PAGE_PATH, 303);
  });

  return pages;
}

/** The grant of the typed code if it can still be approved; otherwise the page that says why. */
async function pendingGrant(c: Context, flow: DeviceFlow, input: string): Promise<DeviceGrant | Response> {
  const grant = await flow.findByUserCode(input);
  if (!grant) return c.html(enterCodePage(`There is no login request with the code "${input}". Check the code berth login printed, or run berth login again.`), 404);
  if (flow.isExpired(grant)) return c.html(messagePage('Code expired', `The code ${formatUserCode(grant.userCode)} expired. Run berth login again for a new one.`), 410);
  if (grant.status !== 'pending') return alreadyDecided(c, grant);
  return grant;
}

function alreadyDecided(c: Context, grant: DeviceGrant): Response | Promise<Response> {
  const what = grant.status === 'denied' ? 'denied' : 'approved';
  return c.html(messagePage('Already decided', `The request ${formatUserCode(grant.userCode)} was already ${what}${grant.decidedBy ? ` by ${grant.decidedBy}` : ''}. Run berth login again for a new code.`), 409);
}

async function formOf(c: Context): Promise<Record<string, string | undefined>> {
  let body: Awaited<ReturnType<typeof c.req.parseBody>>;
  try {
    body = await c.req.parseBody();
  } catch (err) {
    // The Fetch API's formData() rejects a body that does not match its multipart boundary with a
    // TypeError; that is the sender's fault (the page's own forms never do it), so a 400 page.
    if (!(err instanceof TypeError)) throw err;
    throw new BerthError('invalid-input', 'form-invalid', `The form could not be read (${err.message}). Open the page from the link berth login printed and send the form from there.`, { cause: err });
  }
  return Object.fromEntries(Object.entries(body).map(([k, v]) => [k, typeof v === 'string' ? v : undefined]));
}

const pageFor = (grant: DeviceGrant): string => `${DEVICE_PAGE_PATH}?user_code=${formatUserCode(grant.userCode)}`;
const back = (userCode: string | undefined) => ({ href: userCode ? `${DEVICE_PAGE_PATH}?user_code=${encodeURIComponent(userCode)}` : DEVICE_PAGE_PATH, label: 'Back to the request' });
const isHttps = (c: Context): boolean => new URL(c.req.url).protocol === 'https:';

/** A POST from a page of this origin, or from a client that sends no Origin (not a browser). */
function sameOrigin(c: Context): boolean {
  const origin = c.req.header('origin');
  return origin === undefined || origin === new URL(c.req.url).origin;
}
