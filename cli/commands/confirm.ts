// Destructive commands ask for --yes. There is no interactive prompt (the console and scripts run
// the same commands), so without --yes the command refuses and says how to go ahead.
import type { CommandContext } from '../core/command.ts';
import type { SharedFlags } from '../core/flags.ts';
import { cliError } from '../core/errors.ts';

export function requireYes(ctx: CommandContext<Pick<SharedFlags, 'yes'>>, what: string, command: string): void {
  if (ctx.flags.yes) return;
  const why = ctx.host.stdinIsTTY ? '' : ' (stdin is not a terminal, so scripts must say so explicitly)';
  throw cliError('invalid-input', 'confirmation-required', `${what} cannot be undone; pass --yes to confirm${why}`, [`${command} --yes`]);
}
