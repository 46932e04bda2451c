import { defineCommand } from '../core/command.ts';
import { CliError } from '../core/errors.ts';

/** The token is already unusable: nothing left to revoke. */
const ALREADY_INVALID = new Set(['invalid-token', 'token-revoked', 'token-expired']);

export default defineCommand({
  description: 'Revokes the token the CLI uses on the server, then forgets it here. Running it again is harmless. The installer’s bootstrap token is never revoked by a logout (it is how the platform is administered); the CLI only forgets a stored copy.',
  async handler(ctx) {
    const settings = ctx.settings.read();
    if (!settings.token) {
      ctx.out.result({ revoked: null, forgotten: false }, () => 'Not logged in: no token to forget.');
      return;
    }
    let revoked: { id: string; name: string; revokedAt: string } | null = null;
    let note: string | undefined;
    try {
      revoked = (await ctx.api.delete<{ revoked: { id: string; name: string; revokedAt: string } }>('/v1/tokens/self')).revoked;
    } catch (err) {
      if (!(err instanceof CliError)) throw err;
      if (err.body.code === 'bootstrap-token-kept') note = 'The installer’s bootstrap token stays valid (logout never revokes it).';
      else if (ALREADY_INVALID.has(err.body.code)) note = 'The token was no longer valid on the server.';
      else throw err;
    }
    await ctx.settings.save({ token: undefined });
    const fromVariable = Boolean(ctx.settings.variables().token);
    ctx.out.result({ revoked, forgotten: true, tokenVariableSet: fromVariable }, () =>
      [
        revoked ? `Revoked token ${revoked.id} ("${revoked.name}") at ${revoked.revokedAt}.` : note,
        `Forgot the stored token (${ctx.settings.location}).`,
        fromVariable ? 'BERTH_TOKEN is still set in this shell: unset BERTH_TOKEN' : undefined,
      ]
        .filter(Boolean)
        .join('\n'),
    );
  },
});
