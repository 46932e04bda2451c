import { defineCommand } from '../../core/command.ts';
import { flag } from '../../core/flags.ts';
import { cliError } from '../../core/errors.ts';
import { watchOperation } from '../../core/watch-operation.ts';

interface Cancelled {
  operation: { id: string; kind: string; status: string; cancelRequested?: { reason: string } };
}

export default defineCommand({
  description:
    'Asks a running operation to stop. It ends through its compensation, as any failure would (a deploy puts the previous release back, a scale the previous scale), and its status becomes `cancelled`. With --wait, follows it to the end (exit code of `conflict`, since it did not do what it was started for).',
  positionals: [{ name: 'operation', description: 'Operation id (op-…); default: the operation running in the env' }],
  flags: { ...flag('wait', 'Follow the operation until its compensation has finished') },
  requires: ['auth', 'org', 'project', 'app', 'env'],
  examples: ['berth operations cancel', 'berth operations cancel op-01J… --wait'],
  async handler(ctx) {
    let id = ctx.positionals[0];
    if (!id) {
      const { status } = await ctx.api.get<{ status: { activeOperation: { id: string } | null } }>(ctx.api.envPath(ctx.target, '/status'));
      id = status.activeOperation?.id ?? '';
      if (!id) throw cliError('not-found', 'no-running-operation', `no operation is running in ${ctx.target.env}; nothing to cancel`, ['berth status', 'berth events']);
    }
    const { operation } = await ctx.api.post<Cancelled>(ctx.api.envPath(ctx.target, `/operations/${id}/cancel`), {});
    if (ctx.out.json && !ctx.flags.wait) return ctx.out.jsonLine({ operation });
    if (!ctx.out.json) {
      ctx.out.line(
        operation.status === 'running'
          ? `Cancelling ${operation.kind} ${operation.id}: it undoes its changes at its next step.`
          : `${operation.kind} ${operation.id} is ${operation.status}.`,
      );
      if (!ctx.flags.wait) ctx.out.note(`Follow it with: berth wait ${operation.id}`);
    }
    if (ctx.flags.wait) await watchOperation(ctx, operation.id, { afterReceipt: true });
  },
});
