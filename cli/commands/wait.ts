import { defineCommand } from '../core/command.ts';
import { flag } from '../core/flags.ts';
import { cliError } from '../core/errors.ts';
import { watchOperation } from '../core/watch-operation.ts';

export default defineCommand({
  description: 'Prints each event as it happens. Exits 0 when the operation succeeded; otherwise prints the failing step, category and next commands, and exits with the category\'s code.',
  positionals: [{ name: 'operation', description: 'Operation id (op-…); default: the running or latest operation of the env' }],
  flags: { ...flag('timeout') },
  requires: ['auth', 'org', 'project', 'app', 'env'],
  async handler(ctx) {
    let id = ctx.positionals[0];
    if (!id) {
      const { status } = await ctx.api.get<{ status: { activeOperation: { id: string } | null; lastOperation: { id: string } | null } }>(ctx.api.envPath(ctx.target, '/status'));
      id = status.activeOperation?.id ?? status.lastOperation?.id ?? '';
      if (!id) throw cliError('not-found', 'no-operation', `env ${ctx.target.env} has no operation yet`, ['berth deploy']);
    }
    const timeout = ctx.flags.timeout ? Number(ctx.flags.timeout) : undefined;
    if (timeout !== undefined && !(timeout > 0)) throw cliError('invalid-input', 'timeout-invalid', `--timeout must be a positive number of seconds; got ${JSON.stringify(ctx.flags.timeout)}`);
    await watchOperation(ctx, id, { timeoutMs: timeout ? timeout * 1000 : undefined });
  },
});
