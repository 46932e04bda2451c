// Shared by `wait` and `deploy --wait`: print the operation's events as they happen and end with
// its outcome. A failed operation becomes the CLI error of its category (and its exit code).
import type { BerthEvent, EnvStatus } from '../../functions/contract/responses.ts';
import type { CommandContext } from './command.ts';
import { CliError } from './errors.ts';
import { envLine, workloadTable } from './status-view.ts';
import { visible } from './terminal-safe.ts';

const POLL_MS = 200;
/** Lines of the failing instance's log shown with a failed operation: enough for a stack trace. */
const LOG_TAIL = 20;

const firstLine = (text: string) => {
  const [first, ...rest] = text.split('\n');
  return rest.length ? `${first.replace(/[:;,]\s*$/, '')} (…)` : first;
};

/** What the failing step recorded as data (functions/core/model.ts OperationFailureDetails). */
interface FailureDetails {
  instance?: string;
  workload?: string;
  releaseId?: string;
  exitCode?: number | null;
  signal?: string | null;
}

interface OperationBody {
  operation: { id: string; kind: string; status: 'running' | 'succeeded' | 'failed' | 'cancelled'; releaseId: string; step?: string; scaleChange?: { workload: string; settings: { count?: number; min?: number; max?: number; cpu?: number; memory?: number } }; error?: { category: string; code: string; message: string; step: string; next: string[]; details?: FailureDetails } };
}

export type EventItem = BerthEvent;

/** Event messages quote app stderr (a crash's last words): control characters are made visible. */
export function formatEvent(e: EventItem): string {
  return `${e.at}  ${e.type.padEnd(20)} ${visible(e.message)}`;
}

/** `afterReceipt`: the command just printed its receipt; a blank line (never in --json) sets the events apart. */
export async function watchOperation(ctx: CommandContext, operationId: string, options: { timeoutMs?: number; afterReceipt?: boolean } = {}): Promise<OperationBody['operation']> {
  if (options.afterReceipt && !ctx.out.json) ctx.out.line();
  const deadline = options.timeoutMs ? ctx.host.now() + options.timeoutMs : Infinity;
  let after: string | undefined;
  let interrupted = false;
  void ctx.host.interrupted.then(() => (interrupted = true));
  for (;;) {
    const query = new URLSearchParams({ operation: operationId, ...(after ? { after } : {}) });
    const { events } = await ctx.api.get<{ events: EventItem[] }>(ctx.api.envPath(ctx.target, `/events?${query}`));
    for (const e of events) {
      if (ctx.out.json) ctx.out.jsonLine({ event: e });
      // Progress: one line per event. A failure's full text (a stack trace) comes once, at the end.
      else ctx.out.line(formatEvent({ ...e, message: firstLine(e.message) }));
      after = e.id;
    }
    const { operation } = await ctx.api.get<OperationBody>(ctx.api.envPath(ctx.target, `/operations/${operationId}`));
    if (operation.status !== 'running' && !events.length) return finish(ctx, operation);
    if (interrupted) {
      ctx.out.note(`Stopped watching; ${operationId} goes on. Resume with: berth wait ${operationId}`);
      return operation;
    }
    if (ctx.host.now() > deadline) {
      throw new CliError({ category: 'timeout', code: 'wait-timeout', message: `${operationId} is still running (step ${operation.step ?? '?'})`, next: [`berth wait ${operationId}`] });
    }
    if (!events.length) await ctx.host.sleep(POLL_MS);
  }
}

/** Waits quietly for an operation to end (a short one, such as env provisioning); throws if it failed. */
export async function settle(ctx: CommandContext, operationId: string): Promise<void> {
  for (;;) {
    const { operation } = await ctx.api.get<OperationBody>(ctx.api.envPath(ctx.target, `/operations/${operationId}`));
    if (operation.status !== 'running') {
      if (operation.status !== 'succeeded') await finish(ctx, operation);
      return;
    }
    await ctx.host.sleep(POLL_MS / 4);
  }
}

async function finish(ctx: CommandContext, operation: OperationBody['operation']): Promise<OperationBody['operation']> {
  if (operation.status === 'succeeded') {
    if (ctx.out.json) ctx.out.jsonLine({ operation });
    else {
      ctx.out.line(ctx.out.style.green(['deploy', 'rollback', 'reconcile'].includes(operation.kind) ? `${operation.id} succeeded: ${operation.releaseId} is live` : `${operation.kind} ${operation.id} succeeded`));
      // What runs now, desired beside current, so a --wait ends where `berth status` would start.
      if (['deploy', 'rollback', 'reconcile', 'scale'].includes(operation.kind)) {
        const { status } = await ctx.api.get<{ status: EnvStatus }>(ctx.api.envPath(ctx.target, '/status'));
        ctx.out.line(`\n${envLine(status, ctx.out.style)}\n\n${workloadTable(status, ctx.out.style)}`);
      }
    }
    return operation;
  }
  const error = operation.error ?? { category: 'internal', code: 'unknown', message: 'the operation failed without an error record', step: operation.step ?? '?', next: [] };
  const failed = error.details ?? {};
  const instance = typeof failed.instance === 'string' ? failed.instance : undefined;
  let message = error.message;
  if (instance) {
    const { lines } = await ctx.api.get<{ lines: { ts: string; level: string; message: string }[] }>(ctx.api.envPath(ctx.target, `/logs?${new URLSearchParams({ instance, limit: String(LOG_TAIL) })}`));
    // The instance's own lines say the same as the message's stderr excerpt, and more: show them once.
    if (lines.length) message = `${firstLine(error.message)}\n\nLast log lines of ${instance}:\n${lines.map((l) => `  ${l.ts} ${l.level.padEnd(5)} ${visible(l.message)}`).join('\n')}`;
  }
  throw new CliError({
    category: error.category as never,
    code: error.code,
    message: `${operation.id} ${operation.status === 'cancelled' ? 'was cancelled' : 'failed'} at step ${error.step}: ${message}`,
    // The failure as data for --json and scripts: which instance, workload, release, exit code.
    details: {
      operationId: operation.id,
      step: error.step,
      ...(instance ? { instance } : {}),
      ...(typeof failed.workload === 'string' ? { workload: failed.workload } : {}),
      releaseId: typeof failed.releaseId === 'string' ? failed.releaseId : operation.releaseId,
      ...(failed.exitCode !== undefined ? { exitCode: failed.exitCode } : {}),
      ...(failed.signal ? { signal: failed.signal } : {}),
    },
    next: [...error.next, ...retryHints(operation)],
  });
}

/** What to run again after fixing the cause: the kind of command that failed, not always deploy. */
function retryHints(operation: OperationBody['operation']): string[] {
  switch (operation.kind) {
    case 'deploy':
      return ['berth releases', 'berth deploy (retry after fixing)'];
    case 'rollback':
      return ['berth releases', `berth rollback ${operation.releaseId ?? ''} (retry after fixing)`.replace('  ', ' ')];
    case 'scale': {
      const change = operation.scaleChange;
      if (!change) return ['berth status', 'berth scale … (retry after fixing; the previous scale is back in place)'];
      const { workload, settings: s } = change;
      const vm = s.cpu !== undefined || s.memory !== undefined ? `berth scale vm --workload ${workload}${s.cpu !== undefined ? ` --cpu ${s.cpu}` : ''}${s.memory !== undefined ? ` --memory ${s.memory}` : ''}` : undefined;
      const count = s.count !== undefined ? `berth scale count ${s.count} --workload ${workload}` : undefined;
      return ['berth status', `${[vm, count].filter(Boolean).join('; ') || `berth scale … --workload ${workload}`} (retry after fixing; the previous scale is back in place)`];
    }
    case 'reconcile':
      return ['berth releases', 'berth rollback (to the last release that was live)'];
    default:
      return ['berth events', `berth ${operation.kind} … (retry after fixing)`];
  }
}
