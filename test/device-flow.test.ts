// `berth login` through the OAuth device flow (RFC 8628), end to end over HTTP: the real CLI runs
// as a subprocess against an embedded platform, and a small cookie-keeping "browser" drives the
// approval page the way a person does (sign in, read the CSRF token off the form, approve or deny).
// The platform's device-flow clock and interval are shortened (test-only options), so nothing here
// waits five seconds; the clock is moved, not waited on, to expire codes.
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as oidc from 'openid-client';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { issueOwnerToken, issueToken } from '../functions/api/auth.ts';
import { inviteMember } from '../functions/core/services/members.ts';
import { startEmbeddedPlatform, type EmbeddedPlatform } from '../functions/embedded/platform.ts';
import { BERTH_BIN, runBerth, type CliResult } from './support/cli-harness.ts';

const GRANT_TYPE = 'urn:ietf:params:oauth:grant-type:device_code';
const USER_CODE = /user_code=([B-DF-HJ-NP-TV-XZ]{4}-[B-DF-HJ-NP-TV-XZ]{4})/;

let dir: string;
let platform: EmbeddedPlatform;
let url: string;
let bootstrap: string;
// The platform's device-flow clock: real time moved by `offset`, or `frozen` at one instant.
let offset = 0;
let frozen: number | undefined;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'berth-device-'));
  platform = await startEmbeddedPlatform({
    home: join(dir, 'platform'),
    port: 0,
    version: 'test',
    reconcileIntervalMs: 0,
    deviceFlow: { intervalSeconds: 0.2, slowDownSeconds: 0.2, now: () => frozen ?? Date.now() + offset },
  });
  url = platform.url;
  bootstrap = (await issueOwnerToken(platform.deps.store)).token;
  for (const name of ['acme', 'globex']) expect((await api('POST', '/v1/orgs', bootstrap, { name })).status).toBe(201);
}, 60_000);

afterAll(async () => {
  await platform?.close();
  rmSync(dir, { recursive: true, force: true });
});

beforeEach(() => {
  offset = 0;
  frozen = undefined;
});

async function api(method: string, path: string, token?: string, body?: unknown): Promise<{ status: number; body: any }> {
  const res = await fetch(`${url}${path}`, {
    method,
    headers: { ...(token ? { authorization: `Bearer ${token}` } : {}), ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  return { status: res.status, body: text ? JSON.parse(text) : undefined };
}

/** A form POST to the OAuth endpoints, as OAuth clients send them. */
async function oauth(path: string, params: Record<string, string>): Promise<{ status: number; body: any }> {
  const res = await fetch(`${url}${path}`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams(params).toString() });
  return { status: res.status, body: await res.json() };
}

const startDevice = () => oauth('/v1/device/code', { client_id: 'berth-cli' });
const pollDevice = (deviceCode: string) => oauth('/v1/device/token', { grant_type: GRANT_TYPE, device_code: deviceCode, client_id: 'berth-cli' });

/** A browser with a cookie jar that sends its page's Origin on forms, as browsers do. */
class Browser {
  readonly cookies = new Map<string, string>();
  readonly setCookies: string[] = [];

  async get(path: string): Promise<{ status: number; html: string }> {
    const res = await fetch(`${url}${path}`, { headers: this.cookieHeader(), redirect: 'manual' });
    return { status: res.status, html: await res.text() };
  }

  async post(path: string, form: Record<string, string>, headers: Record<string, string> = {}): Promise<{ status: number; html: string; location?: string }> {
    const res = await fetch(`${url}${path}`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', origin: url, ...this.cookieHeader(), ...headers },
      body: new URLSearchParams(form).toString(),
      redirect: 'manual',
    });
    for (const cookie of res.headers.getSetCookie()) {
      this.setCookies.push(cookie);
      const [pair] = cookie.split(';');
      const [name, value] = [pair.slice(0, pair.indexOf('=')), pair.slice(pair.indexOf('=') + 1)];
      if (value) this.cookies.set(name, value);
      else this.cookies.delete(name);
    }
    return { status: res.status, html: await res.text(), location: res.headers.get('location') ?? undefined };
  }

  /** Signs in on the page of `userCode` and returns the approval page it redirects to. */
  async signIn(userCode: string, credential: { token: string } | { invite: string }): Promise<{ status: number; html: string }> {
    const res = await this.post('/device/sign-in', { user_code: userCode, ...credential });
    expect(res.status, res.html).toBe(303);
    expect(res.location).toBe(`/device?user_code=${userCode}`);
    return this.get(res.location!);
  }

  private cookieHeader(): Record<string, string> {
    return this.cookies.size ? { cookie: [...this.cookies].map(([k, v]) => `${k}=${v}`).join('; ') } : {};
  }
}

const csrfOf = (html: string): string => {
  const m = /name="csrf" value="([^"]+)"/.exec(html);
  if (!m) throw new Error(`no CSRF token in:\n${html}`);
  return m[1];
};

/** `berth login` as a subprocess: resolves its user code as soon as it printed one, and its end. */
function startLogin(home: string, extra: string[] = []): { userCode: Promise<string>; done: Promise<CliResult> } {
  const child = spawn(process.execPath, [BERTH_BIN, 'login', '--api', url, ...extra], { cwd: dir, env: { ...process.env, NO_COLOR: '1', BERTH_HOME: home }, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  let found: (code: string) => void;
  const userCode = new Promise<string>((resolve) => (found = resolve));
  const seen = () => {
    const m = USER_CODE.exec(stdout) ?? USER_CODE.exec(stderr);
    if (m) found(m[1]);
  };
  child.stdout.on('data', (d) => {
    stdout += d;
    seen();
  });
  child.stderr.on('data', (d) => {
    stderr += d;
    seen();
  });
  const done = new Promise<CliResult>((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code) => resolve({ code: code ?? -1, stdout, stderr }));
  });
  // A login that ends before printing a code fails the test with its output.
  void done.then((r) => found(`no user code printed (exit ${r.code}):\n${r.stdout}\n${r.stderr}`));
  return { userCode, done };
}

const cliHome = (name: string) => join(dir, 'cli', name);
const berth = (home: string, args: string[]) => runBerth(args, { cwd: dir, env: { BERTH_HOME: home } });

describe('berth login through the browser', () => {
  it('signs in with the bootstrap token, picks an org, approves; the CLI stores a 30-day session token that whoami shows', async () => {
    const home = cliHome('bootstrap');
    const login = startLogin(home);
    const userCode = await login.userCode;
    expect(userCode).toMatch(/^[A-Z]{4}-[A-Z]{4}$/);

    const browser = new Browser();
    const signInForm = await browser.get(`/device?user_code=${userCode}`);
    expect(signInForm.status).toBe(200);
    expect(signInForm.html).toContain('Sign in to approve a login');
    expect(signInForm.html).toContain(userCode);
    expect(signInForm.html).toContain('berth-cli');

    const page = await browser.signIn(userCode, { token: bootstrap });
    expect(page.status).toBe(200);
    expect(page.html).toContain('Signed in as <strong>owner</strong>');
    // The installer is in both orgs: the page lets them choose.
    expect(page.html).toContain('<option value="acme">acme (owner)</option>');
    expect(page.html).toContain('<option value="globex">globex (owner)</option>');

    const approved = await browser.post('/device/decide', { user_code: userCode, csrf: csrfOf(page.html), org: 'globex', decision: 'approve' });
    expect(approved.status).toBe(200);
    expect(approved.html).toContain('Login approved');

    const result = await login.done;
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toContain(`Logged in to ${url} as owner: org globex, role owner.`);
    const saved = JSON.parse(readFileSync(join(home, 'cli.json'), 'utf8'));
    expect(saved).toMatchObject({ api: url, org: 'globex' });
    expect(saved.token).toMatch(/^berth_/);

    const whoami = await berth(home, ['whoami', '--json']);
    expect(whoami.code, whoami.stderr).toBe(0);
    const me = JSON.parse(whoami.stdout);
    expect(me).toMatchObject({ principal: 'owner', org: 'globex', role: 'owner', token: { kind: 'session' } });
    const days = (Date.parse(me.token.expiresAt) - Date.now()) / 86_400_000;
    expect(days).toBeGreaterThan(29);
    expect(days).toBeLessThanOrEqual(30);
    // Only the hash is stored.
    expect(await platform.deps.store.getTokenByHash(saved.token)).toBeUndefined();
    expect((await platform.deps.store.getTokenByHash(createHash('sha256').update(saved.token).digest('hex')))?.org).toBe('globex');

    // The session token acts in its org only.
    expect((await api('GET', '/v1/orgs/globex/projects', saved.token)).status).toBe(200);
    expect((await api('GET', '/v1/orgs/acme/projects', saved.token)).status).toBe(404);

    // The approval is in the org's audit log, by the member who signed in on the page.
    const audit = await api('GET', '/v1/orgs/globex/audit', bootstrap);
    expect(audit.body.records.find((r: { action: string }) => r.action === 'POST /device/decide')).toMatchObject({ actor: 'owner', org: 'globex', outcome: 'success', tokenId: 'device-page' });

    const human = await berth(home, ['whoami']);
    expect(human.stdout).toMatch(/^principal +owner$/m);
    expect(human.stdout).toMatch(/^org +globex$/m);
    expect(human.stdout).toMatch(/^role +owner$/m);
  });

  it("an invited member's first login: the invite signs them in, the token has their role in that org only, and the invite is spent", async () => {
    const { code: invite } = await inviteMember(platform.deps.store, 'acme', { email: 'dev@acme.test', role: 'deployer' }, { principal: 'owner', role: 'owner' });
    const home = cliHome('invitee');
    const login = startLogin(home);
    const userCode = await login.userCode;
    const browser = new Browser();
    const page = await browser.signIn(userCode, { invite });
    expect(page.html).toContain('Signed in as <strong>dev@acme.test</strong> (with an invite)');
    expect(page.html).toContain('Org: <strong>acme</strong>, role <strong>deployer</strong>');
    expect(page.html).not.toContain('globex');
    expect((await browser.post('/device/decide', { user_code: userCode, csrf: csrfOf(page.html), org: 'acme', decision: 'approve' })).status).toBe(200);

    const result = await login.done;
    expect(result.code, result.stderr).toBe(0);
    const me = JSON.parse((await berth(home, ['whoami', '--json'])).stdout);
    expect(me).toMatchObject({ principal: 'dev@acme.test', org: 'acme', role: 'deployer', token: { kind: 'session' } });

    // The same invite cannot sign anyone in again.
    const again = await startDevice();
    const refused = await new Browser().post('/device/sign-in', { user_code: again.body.user_code, invite });
    expect(refused.status).toBe(401);
    expect(refused.html).toContain('already used');
  });

  it('a denied request ends the CLI with a permission error and no token; with --json the code goes to stderr', async () => {
    const home = cliHome('denied');
    const login = startLogin(home, ['--json']);
    const userCode = await login.userCode;
    const browser = new Browser();
    const page = await browser.signIn(userCode, { token: bootstrap });
    const denied = await browser.post('/device/decide', { user_code: userCode, csrf: csrfOf(page.html), org: 'acme', decision: 'deny' });
    expect(denied.html).toContain('Login denied');

    const result = await login.done;
    expect(result.code).toBe(6);
    expect(result.stderr).toContain(`user_code=${userCode}`);
    expect(JSON.parse(result.stdout).error).toMatchObject({ category: 'permission', code: 'login-denied' });
    expect(() => readFileSync(join(home, 'cli.json'), 'utf8')).toThrow();
  });

  it('a code that expires before approval: the page says so and the CLI stops with a timeout', async () => {
    const home = cliHome('expired');
    const login = startLogin(home);
    const userCode = await login.userCode;
    offset = 601_000;
    const page = await new Browser().get(`/device?user_code=${userCode}`);
    expect(page.status).toBe(410);
    expect(page.html).toContain('Code expired');
    const result = await login.done;
    expect(result.code).toBe(10);
    expect(result.stderr).toContain(`the code ${userCode} expired`);
  });

  it('logout revokes the token on the server and forgets it; a second logout is harmless', async () => {
    const home = cliHome('logout');
    const login = startLogin(home);
    const userCode = await login.userCode;
    const browser = new Browser();
    const page = await browser.signIn(userCode, { token: bootstrap });
    await browser.post('/device/decide', { user_code: userCode, csrf: csrfOf(page.html), org: 'acme', decision: 'approve' });
    expect((await login.done).code).toBe(0);
    const token = JSON.parse(readFileSync(join(home, 'cli.json'), 'utf8')).token as string;

    const out = await berth(home, ['logout']);
    expect(out.code, out.stderr).toBe(0);
    expect(out.stdout).toMatch(/^Revoked token tok-[0-9a-f]+ \("login \(berth-cli\)"\)/m);
    expect(JSON.parse(readFileSync(join(home, 'cli.json'), 'utf8')).token).toBeUndefined();
    expect((await api('GET', '/v1/whoami', token)).body.error.code).toBe('token-revoked');

    const again = await berth(home, ['logout']);
    expect(again.code).toBe(0);
    expect(again.stdout).toContain('Not logged in');
    // Revoking it again through the API is as harmless, and the bootstrap token is never revoked.
    expect((await api('DELETE', '/v1/tokens/self', bootstrap)).body.error.code).toBe('bootstrap-token-kept');
    expect((await api('GET', '/v1/whoami', bootstrap)).status).toBe(200);
  });

  it('--token still stores a given token without the browser', async () => {
    const home = cliHome('token');
    const r = await runBerth(['login', '--api', url, '--token', bootstrap], { cwd: dir, env: { BERTH_HOME: home } });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain(`Logged in to ${url} as owner.`);
    expect(r.stdout).not.toContain('user_code');
  });
});

describe('the token endpoint (RFC 8628 §3.5)', () => {
  it('answers authorization_pending, then slow_down with a longer interval when polled faster than it', async () => {
    const start = await startDevice();
    expect(start.status).toBe(200);
    expect(start.body).toMatchObject({ expires_in: 600, interval: 0.2, verification_uri: `${url}/device` });
    expect(start.body.verification_uri_complete).toBe(`${url}/device?user_code=${start.body.user_code}`);
    frozen = Date.now();
    expect((await pollDevice(start.body.device_code)).body.error).toBe('authorization_pending');
    const fast = await pollDevice(start.body.device_code);
    expect(fast.status).toBe(400);
    expect(fast.body).toMatchObject({ error: 'slow_down', interval: 0.4 });
    // The longer interval holds from now on: 0.3 s later is still too soon.
    frozen += 300;
    expect((await pollDevice(start.body.device_code)).body).toMatchObject({ error: 'slow_down', interval: 0.6 });
    frozen += 1000;
    expect((await pollDevice(start.body.device_code)).body.error).toBe('authorization_pending');
  });

  it("openid-client's discovery() finds the device flow (RFC 8414 metadata) and completes it; the token carries its scope", async () => {
    // http: the embedded platform listens on localhost without TLS, which the library refuses by default.
    const config = await oidc.discovery(new URL(url), 'berth-cli', undefined, oidc.None(), { algorithm: 'oauth2', execute: [oidc.allowInsecureRequests] });
    expect(config.serverMetadata()).toMatchObject({ issuer: url, device_authorization_endpoint: `${url}/v1/device/code`, token_endpoint: `${url}/v1/device/token`, grant_types_supported: [GRANT_TYPE], scopes_supported: ['berth'] });
    const device = await oidc.initiateDeviceAuthorization(config, { scope: 'berth' });
    const browser = new Browser();
    const page = await browser.signIn(device.user_code, { token: bootstrap });
    await browser.post('/device/decide', { user_code: device.user_code, csrf: csrfOf(page.html), org: 'acme', decision: 'approve' });
    const tokens = await oidc.pollDeviceAuthorizationGrant(config, device);
    expect(tokens).toMatchObject({ token_type: 'bearer', scope: 'berth', expires_in: 30 * 86400 });
    expect((await api('GET', '/v1/whoami', tokens.access_token)).body.token).toMatchObject({ kind: 'session', org: 'acme' });
  });

  it('answers a 401 with WWW-Authenticate (RFC 6750 §3): no error without a token, invalid_token with a bad one', async () => {
    const none = await fetch(`${url}/v1/whoami`);
    expect(none.status).toBe(401);
    expect(none.headers.get('www-authenticate')).toBe('Bearer realm="berth"');
    const bad = await fetch(`${url}/v1/whoami`, { headers: { authorization: 'Bearer not-a-token' } });
    expect(bad.status).toBe(401);
    expect(bad.headers.get('www-authenticate')).toMatch(/^Bearer realm="berth", error="invalid_token", error_description="[^"]+"$/);
  });

  it('exchanges an approved device code once: of two concurrent polls one gets the token, and later polls get invalid_grant', async () => {
    const start = await startDevice();
    const browser = new Browser();
    const page = await browser.signIn(start.body.user_code, { token: bootstrap });
    await browser.post('/device/decide', { user_code: start.body.user_code, csrf: csrfOf(page.html), org: 'acme', decision: 'approve' });
    const polls = await Promise.all([pollDevice(start.body.device_code), pollDevice(start.body.device_code)]);
    const won = polls.filter((p) => p.status === 200);
    expect(won).toHaveLength(1);
    expect(won[0].body).toMatchObject({ token_type: 'Bearer', expires_in: 30 * 86400, org: 'acme', role: 'owner' });
    expect(polls.find((p) => p.status !== 200)!.body.error).toBe('invalid_grant');
    expect((await pollDevice(start.body.device_code)).body.error).toBe('invalid_grant');
  });

  it('answers expired_token once the code expired, and access_denied after a denial', async () => {
    const expiring = await startDevice();
    offset = 600_000;
    expect((await pollDevice(expiring.body.device_code)).body.error).toBe('expired_token');
    offset = 0;
    const denied = await startDevice();
    const browser = new Browser();
    const page = await browser.signIn(denied.body.user_code, { token: bootstrap });
    await browser.post('/device/decide', { user_code: denied.body.user_code, csrf: csrfOf(page.html), org: 'acme', decision: 'deny' });
    expect((await pollDevice(denied.body.device_code)).body).toMatchObject({ error: 'access_denied' });
  });

  it('accepts JSON as well as forms, and refuses a wrong grant type or a missing client_id in the OAuth shape', async () => {
    const res = await fetch(`${url}/v1/device/code`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ client_id: 'berth-cli' }) });
    expect(res.status).toBe(200);
    expect(res.headers.get('cache-control')).toBe('no-store');
    const { device_code } = (await res.json()) as { device_code: string };
    expect((await oauth('/v1/device/token', { grant_type: 'password', device_code, client_id: 'berth-cli' })).body.error).toBe('unsupported_grant_type');
    const missing = await oauth('/v1/device/code', {});
    expect(missing.status).toBe(400);
    expect(missing.body.error).toBe('invalid_request');
    expect(missing.body.error_description).toBe('client_id: required');
    expect((await oauth('/v1/device/token', { grant_type: GRANT_TYPE, device_code, client_id: 'someone-else' })).body.error).toBe('invalid_grant');
  });

  it('the device endpoints are in the OpenAPI document as public (no token), logout as authenticated', async () => {
    const doc = (await (await fetch(`${url}/v1/openapi.json`)).json()) as { paths: Record<string, Record<string, { security?: unknown[]; 'x-berth-permission'?: string }>> };
    for (const path of ['/v1/device/code', '/v1/device/token']) expect(doc.paths[path].post).toMatchObject({ security: [], 'x-berth-permission': 'public' });
    expect(doc.paths['/v1/tokens/self'].delete).toMatchObject({ 'x-berth-permission': 'authenticated' });
  });
});

describe('the approval page', () => {
  it('refuses to decide without the CSRF token, with another session’s token, or from another site; the request stays pending', async () => {
    const start = await startDevice();
    const userCode = start.body.user_code as string;
    const browser = new Browser();
    const page = await browser.signIn(userCode, { token: bootstrap });
    const other = new Browser();
    const otherPage = await other.signIn(userCode, { token: bootstrap });

    const noCsrf = await browser.post('/device/decide', { user_code: userCode, org: 'acme', decision: 'approve' });
    expect(noCsrf.status).toBe(403);
    const wrongCsrf = await browser.post('/device/decide', { user_code: userCode, csrf: csrfOf(otherPage.html), org: 'acme', decision: 'approve' });
    expect(wrongCsrf.status).toBe(403);
    const crossSite = await browser.post('/device/decide', { user_code: userCode, csrf: csrfOf(page.html), org: 'acme', decision: 'approve' }, { origin: 'https://evil.example' });
    expect(crossSite.status).toBe(403);
    expect((await pollDevice(start.body.device_code)).body.error).toBe('authorization_pending');
    // The right token still works afterwards.
    expect((await browser.post('/device/decide', { user_code: userCode, csrf: csrfOf(page.html), org: 'acme', decision: 'approve' })).status).toBe(200);
  });

  it('sets an HttpOnly, SameSite=Strict, one-hour session cookie scoped to the page, and stores only its hash', async () => {
    const start = await startDevice();
    const browser = new Browser();
    await browser.signIn(start.body.user_code, { token: bootstrap });
    const cookie = browser.setCookies.find((c) => c.startsWith('berth_device_session='))!;
    const attributes = cookie.split(';').map((a) => a.trim());
    expect(attributes).toEqual(expect.arrayContaining(['HttpOnly', 'SameSite=Strict', 'Path=/device', 'Max-Age=3600']));
    // Served over http here, so not Secure (it is over https).
    expect(attributes).not.toContain('Secure');
    const value = browser.cookies.get('berth_device_session')!;
    expect(await platform.deps.store.getWebSession(value)).toBeUndefined();
    expect(await platform.deps.store.getWebSession(createHash('sha256').update(value).digest('hex'))).toMatchObject({ principal: 'owner', via: 'bootstrap' });
    // Sign-in cookies do not sign anyone in to the API.
    expect((await api('GET', '/v1/whoami', value)).status).toBe(401);
  });

  it('shows clear pages for an unknown code, and escapes what it echoes', async () => {
    const unknown = await new Browser().get('/device?user_code=BBBB-BBBB');
    expect(unknown.status).toBe(404);
    expect(unknown.html).toContain('There is no login request with the code');
    const hostile = await new Browser().get(`/device?user_code=${encodeURIComponent('<script>alert(1)</script>')}`);
    expect(hostile.status).toBe(404);
    expect(hostile.html).not.toContain('<script>alert(1)</script>');
    expect(hostile.html).toContain('&lt;script&gt;alert(1)&lt;/script&gt;');
  });

  it('refuses a CI token as a sign-in, and a wrong token, on the form itself', async () => {
    const { token: ci } = await issueToken(platform.deps.store, { name: 'github-actions', kind: 'ci', principal: 'token:github-actions', org: 'acme', role: 'deployer', createdBy: 'owner' });
    const start = await startDevice();
    const browser = new Browser();
    const ciSignIn = await browser.post('/device/sign-in', { user_code: start.body.user_code, token: ci });
    expect(ciSignIn.status).toBe(403);
    expect(ciSignIn.html).toContain('is a CI token');
    const wrong = await browser.post('/device/sign-in', { user_code: start.body.user_code, token: 'berth_not-a-token' });
    expect(wrong.status).toBe(401);
    expect(wrong.html).toContain('Sign in to approve a login');
    expect(browser.cookies.size).toBe(0);
  });
});
