import { ApiClient } from '../core/api-client.ts';
import { defineCommand, type CliSettings } from '../core/command.ts';
import { deviceLogin } from '../core/device-login.ts';
import { cliError } from '../core/errors.ts';

export interface WhoAmI {
  actor: { id: string; name: string };
  token: { id: string; name: string; kind: 'bootstrap' | 'session' | 'ci'; principal: string; org: string | null; role: string | null; expiresAt: string | null };
}

export default defineCommand({
  description: [
    'Without --token: prints a URL and a code, opens the browser on a terminal, and waits while you approve the login on that page (sign in there with your invite code or a token you hold). You get a session token for one org, with your role in it, for 30 days.',
    'With --token (or the token on stdin): stores that token, for scripts and CI.',
    'The embedded platform writes its owner token where the CLI finds it, so `npm start` needs no login. BERTH_TOKEN and BERTH_API override what is stored.',
  ].join('\n\n'),
  flags: {
    token: { type: 'string', valueName: 'token', description: 'Store this API token instead of logging in through the browser (or pipe it on stdin)' },
    browser: { type: 'boolean', description: 'Open the approval page in the browser (the default on a terminal; --no-browser only prints it)' },
  },
  examples: ['berth login --api https://berth.example.com', 'berth login --no-browser', 'berth login --token berth_…', 'echo "$BERTH_CI_TOKEN" | berth login --api https://berth.example.com'],
  async handler(ctx) {
    const api = ctx.flags.api ?? ctx.settings.read().api;
    if (!api) throw cliError('invalid-input', 'api-unknown', 'no Berth API to log in to', ['berth login --api <url>', 'npm start (the embedded platform; the CLI then finds it)']);
    const given = (ctx.flags.token ?? (ctx.host.stdinIsTTY ? '' : (await ctx.host.readStdin()).trim())) || undefined;
    const token = given ?? (await deviceLogin(ctx, api)).access_token;
    const who = await new ApiClient(api, token).get<WhoAmI>('/v1/whoami');
    const saved = ctx.settings.read();
    const change: Partial<CliSettings> = { token };
    // Stored only when given here: otherwise it was found where it already is (the embedded platform's credentials).
    const explicitApi = ctx.flags.api ?? ctx.settings.variables().api;
    if (explicitApi) change.api = explicitApi;
    if (who.token.org) {
      change.org = who.token.org;
      // Selections below another org's would point nowhere.
      if (saved.org && saved.org !== who.token.org) Object.assign(change, { project: undefined, app: undefined, env: undefined });
    }
    await ctx.settings.save(change);
    const t = who.token;
    ctx.out.result({ api, principal: t.principal, org: t.org, role: t.role, token: { id: t.id, name: t.name, kind: t.kind, expiresAt: t.expiresAt } }, () =>
      [
        `Logged in to ${api} as ${t.principal}${t.org ? `: org ${t.org}, role ${t.role}` : ''}.`,
        `Token ${t.id} (${t.kind}) ${t.expiresAt ? `expires ${t.expiresAt}` : 'does not expire'}. Saved in ${ctx.settings.location}.`,
      ].join('\n'),
    );
  },
});
