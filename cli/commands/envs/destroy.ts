import type { EnvDestroyReceipt } from '../../../functions/contract/responses.ts';
import { defineCommand } from '../../core/command.ts';
import { flag } from '../../core/flags.ts';
import { watchOperation } from '../../core/watch-operation.ts';
import { requireYes } from '../confirm.ts';

type DestroyReceipt = EnvDestroyReceipt;

export default defineCommand({
  description: 'A destroyed env accepts no further deploy; create a new env to run the app again.',
  positionals: [{ name: 'name', description: 'Env to destroy', required: true }],
  flags: {
    ...flag('yes', 'Confirm: every instance stops and every endpoint closes'),
    ...flag('wait', 'Follow the operation until the env is destroyed'),
    'purge-volumes': { type: 'boolean', description: "Delete the env's volumes (their data) too; by default they are kept" },
  },
  requires: ['auth', 'org', 'project', 'app'],
  examples: ['berth envs destroy staging --yes --wait', 'berth envs destroy preview-42 --yes --purge-volumes'],
  async handler(c) {
    const ctx = { ...c, target: { ...c.target, env: c.positionals[0] } };
    // `berth wait` looks at the selected env; point it at this one when they differ.
    const elsewhere = c.target.env !== ctx.target.env;
    const purge = ctx.flags['purge-volumes'] === true;
    requireYes(ctx, `destroying env ${ctx.target.env} stops its instances, closes its endpoints${purge ? ', deletes its volumes' : ''} and`, `berth envs destroy ${ctx.target.env}${purge ? ' --purge-volumes' : ''}`);
    const { receipt } = await ctx.api.delete<{ receipt: DestroyReceipt }>(ctx.api.envPath(ctx.target, purge ? '?purge-volumes=true' : ''));
    const volumes = receipt.volumes.names.length ? receipt.volumes.names.join(', ') : 'none';
    if (ctx.out.json && ctx.flags.wait) ctx.out.jsonLine({ receipt });
    else
      ctx.out.result({ receipt }, () =>
        [`Destroy of ${receipt.env} accepted; applying as ${receipt.operationId}`, '  stops     every instance (logs stay readable)', '  closes    every endpoint', '  deletes   its secrets and network resources', receipt.volumes.purged ? `  deletes   volumes: ${volumes}` : `  keeps     volumes: ${volumes} (--purge-volumes deletes them)`, '  keeps     releases, events and logs', '', 'Next:', ...receipt.next.map((n) => `  ${elsewhere && n.startsWith('berth wait') ? `${n} --env ${ctx.target.env}` : n}`)].join('\n'),
      );
    if (ctx.flags.wait) await watchOperation(ctx, receipt.operationId, { afterReceipt: true });
  },
});
