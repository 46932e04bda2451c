// The CLI's one error handler: a BerthError-shaped body becomes text (or JSON) and an exit code.
import { BerthError, EXIT_CODES, isErrorCategory, type ErrorBody, type ErrorCategory } from '../../functions/core/errors.ts';
import type { Output } from './output.ts';
import { visible } from './terminal-safe.ts';

/** An error as the CLI shows it: the API's envelope, or one the CLI raises itself. */
export class CliError extends Error {
  constructor(readonly body: ErrorBody) {
    super(body.message);
    this.name = 'CliError';
  }
}

export function cliError(category: ErrorCategory, code: string, message: string, next: string[] = [], details?: unknown): CliError {
  return new CliError({ category, code, message, next, ...(details === undefined ? {} : { details }) });
}

export function exitCodeFor(err: unknown): number {
  if (err instanceof CliError && isErrorCategory(err.body.category)) return EXIT_CODES[err.body.category];
  if (err instanceof BerthError) return EXIT_CODES[err.category];
  return EXIT_CODES.internal;
}

export function reportError(out: Output, err: unknown): number {
  // A BerthError raised on this side (the snapshot packer's, shared with the server) is shown as
  // the API would answer it, not as a crash with a stack.
  const body: ErrorBody =
    err instanceof CliError ? err.body : err instanceof BerthError ? err.toBody() : { category: 'internal', code: 'cli-crashed', message: (err as Error)?.stack ?? String(err), next: [] };
  if (out.json) {
    out.errorJson({ error: body });
  } else {
    const s = out.errStyle;
    // A failure's message quotes app stderr and log lines: shown, never obeyed by the terminal.
    const lines = [`${s.red(s.bold(`Error (${visible(body.category)})`))}: ${visible(body.message)}`];
    if (body.next?.length) lines.push('', 'Next:', ...body.next.map((n) => `  ${visible(n)}`));
    out.errorText(lines.join('\n'));
  }
  return exitCodeFor(err);
}
