import { ApiClient } from '../core/api-client.ts';
import type { CommandSpec } from '../core/command.ts';
import { cliError } from '../core/errors.ts';

export default {
  description: 'The embedded platform writes its owner token where the CLI finds it, so `npm start` needs no login. Use this for another platform or a CI token. BERTH_TOKEN and BERTH_API override what is stored.',
  flags: { token: { type: 'string', valueName: 'token', description: 'The API token (or pipe it on stdin)' } },
  examples: ['berth login --token berth_…', 'berth login --api https://berth.example.com --token berth_…'],
  async handler(ctx) {
    const token = ((ctx.flags.token as string | undefined) ?? (ctx.host.stdinIsTTY ? '' : (await ctx.host.readStdin()).trim())) || undefined;
    if (!token) throw cliError('invalid-input', 'token-missing', 'give the token with --token or on stdin', ['berth login --token <token>']);
    const api = (ctx.flags.api as string | undefined) ?? ctx.settings.read().api;
    const { actor } = await new ApiClient(api, token).get<{ actor: { id: string; name: string } }>('/v1/whoami');
    await ctx.settings.save({ token, ...(ctx.flags.api ? { api: ctx.flags.api as string } : {}) });
    ctx.out.result({ actor, api }, () => `Logged in to ${api} as ${actor.name} (${actor.id}). Saved in ${ctx.settings.location}.`);
  },
} satisfies CommandSpec;
