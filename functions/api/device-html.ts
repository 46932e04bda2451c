// The approval page's HTML: plain forms, no script, every value escaped by hono's `html` tag (only
// nested `html` fragments pass through unescaped). The web console will adopt the same flow.
import { html } from 'hono/html';
import type { HtmlEscapedString } from 'hono/utils/html';
import type { DeviceGrant, Role, WebSession } from '../core/model.ts';
import { formatUserCode } from '../core/services/device-flow.ts';

type Html = HtmlEscapedString | Promise<HtmlEscapedString>;

const STYLE = `
  body { font: 16px/1.5 system-ui, sans-serif; max-width: 34rem; margin: 3rem auto; padding: 0 1rem; color: #1b1f24; }
  h1 { font-size: 1.4rem; } code, .code { font-family: ui-monospace, monospace; }
  .code { font-size: 1.6rem; letter-spacing: .15em; }
  dl { display: grid; grid-template-columns: max-content 1fr; gap: .25rem 1rem; } dt { color: #57606a; }
  form { margin: 1rem 0; } label { display: block; margin: .5rem 0 .25rem; }
  input[type=text], input[type=password], select { width: 100%; padding: .4rem; font: inherit; box-sizing: border-box; }
  button { padding: .45rem 1rem; font: inherit; margin-right: .5rem; }
  .warn { background: #fff8c5; padding: .5rem .75rem; border-radius: 4px; }
  .error { background: #ffebe9; padding: .5rem .75rem; border-radius: 4px; }
  .muted { color: #57606a; font-size: .9rem; }
`;

export function layout(title: string, body: Html): Html {
  return html`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="same-origin">
<title>${title} · Berth</title>
<style>${STYLE}</style>
</head>
<body>
<h1>${title}</h1>
${body}
</body>
</html>`;
}

export function enterCodePage(error?: string): Html {
  return layout(
    'Log in a device',
    html`${error ? html`<p class="error">${error}</p>` : ''}
<p>Enter the code that <code>berth login</code> printed.</p>
<form method="get" action="/device">
  <label for="user_code">Code</label>
  <input type="text" id="user_code" name="user_code" placeholder="XXXX-XXXX" autocomplete="off" autocapitalize="characters" required>
  <p><button type="submit">Continue</button></p>
</form>`,
  );
}

function requestDetails(grant: DeviceGrant, now: number): Html {
  const minutes = Math.max(0, Math.round((now - Date.parse(grant.requestedAt)) / 60000));
  const from = grant.requestedFrom?.replace(/^::ffff:(\d+\.\d+\.\d+\.\d+)$/, '$1');
  return html`<dl>
  <dt>Code</dt><dd class="code">${formatUserCode(grant.userCode)}</dd>
  <dt>Client</dt><dd><code>${grant.clientId}</code></dd>
  <dt>Requested</dt><dd>${grant.requestedAt} (${minutes === 0 ? 'just now' : `${minutes} min ago`})</dd>
  <dt>From</dt><dd>${from ?? 'unknown address'}</dd>
</dl>`;
}

export function signInPage(grant: DeviceGrant, now: number, error?: string): Html {
  const code = formatUserCode(grant.userCode);
  return layout(
    'Sign in to approve a login',
    html`${error ? html`<p class="error">${error}</p>` : ''}
${requestDetails(grant, now)}
<form method="post" action="/device/sign-in">
  <input type="hidden" name="user_code" value="${code}">
  <label for="invite">Invite code (your first login)</label>
  <input type="password" id="invite" name="invite" autocomplete="off" placeholder="inv_…">
  <p><button type="submit">Sign in with the invite</button></p>
</form>
<form method="post" action="/device/sign-in">
  <input type="hidden" name="user_code" value="${code}">
  <label for="token">Or an API token you hold (the installer's bootstrap token, or a login token)</label>
  <input type="password" id="token" name="token" autocomplete="off" placeholder="berth_…">
  <p><button type="submit">Sign in with the token</button></p>
</form>
<p class="muted">Signing in lasts an hour in this browser and can only approve logins.</p>`,
  );
}

export interface ApprovalView {
  grant: DeviceGrant;
  session: WebSession;
  choices: { org: string; role: Role }[];
  csrf: string;
  now: number;
}

export function approvePage(v: ApprovalView): Html {
  const code = formatUserCode(v.grant.userCode);
  const via = v.session.via === 'invite' ? 'an invite' : v.session.via === 'bootstrap' ? "the installer's bootstrap token" : 'a login token';
  const org =
    v.choices.length === 1
      ? html`<input type="hidden" name="org" value="${v.choices[0].org}"><p>Org: <strong>${v.choices[0].org}</strong>, role <strong>${v.choices[0].role}</strong></p>`
      : html`<label for="org">Org the CLI will act for</label>
  <select id="org" name="org" required>${v.choices.map((c) => html`<option value="${c.org}">${c.org} (${c.role})</option>`)}</select>`;
  return layout(
    'Approve this login?',
    html`<p>Signed in as <strong>${v.session.principal}</strong> (with ${via}).</p>
${requestDetails(v.grant, v.now)}
<p class="warn">Approve only if you ran <code>berth login</code> yourself, just now, and it shows this code. The CLI gets a token that acts as you in the org below for 30 days.</p>
<form method="post" action="/device/decide">
  <input type="hidden" name="user_code" value="${code}">
  <input type="hidden" name="csrf" value="${v.csrf}">
  ${org}
  <p><button type="submit" name="decision" value="approve">Approve</button><button type="submit" name="decision" value="deny">Deny</button></p>
</form>
<form method="post" action="/device/sign-out">
  <input type="hidden" name="user_code" value="${code}">
  <input type="hidden" name="csrf" value="${v.csrf}">
  <p class="muted"><button type="submit">Sign out</button> to approve as someone else.</p>
</form>`,
  );
}

export function donePage(outcome: 'approved' | 'denied', grant: DeviceGrant, org?: string): Html {
  const code = formatUserCode(grant.userCode);
  return outcome === 'approved'
    ? layout('Login approved', html`<p>The CLI that shows <span class="code">${code}</span> now finishes logging in to <strong>${org}</strong>. You can close this page.</p>`)
    : layout('Login denied', html`<p>The request <span class="code">${code}</span> was denied; that CLI stops with a permission error and gets no token.</p>`);
}

export function messagePage(title: string, message: string, next?: { href: string; label: string }): Html {
  return layout(title, html`<p class="error">${message}</p>${next ? html`<p><a href="${next.href}">${next.label}</a></p>` : ''}`);
}
