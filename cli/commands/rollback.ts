import type { DeployReceipt } from '../../functions/contract/responses.ts';
import { defineCommand } from '../core/command.ts';
import { flag } from '../core/flags.ts';
import { renderReceipt } from '../core/receipt.ts';
import { watchOperation } from '../core/watch-operation.ts';

export default defineCommand({
  description: 'Nothing is rebuilt: the release\'s snapshot, manifest, config version and secret versions are used as they were. The rollout is the same as a deploy\'s and is compensated the same way if it fails.',
  positionals: [{ name: 'release', description: 'Release id such as rel-3 (default: the previous successful release)' }],
  flags: { ...flag('wait', 'Follow the rollout until it converges or fails') },
  requires: ['auth', 'org', 'project', 'app', 'env'],
  examples: ['berth rollback', 'berth rollback rel-3 --wait'],
  async handler(ctx) {
    const releaseId = ctx.positionals[0];
    const { receipt } = await ctx.api.post<{ receipt: DeployReceipt }>(ctx.api.envPath(ctx.target, '/rollbacks'), releaseId ? { releaseId } : {});
    if (ctx.out.json && ctx.flags.wait) ctx.out.jsonLine({ receipt });
    else
      ctx.out.result({ receipt }, () =>
        renderReceipt(
          receipt,
          ctx.out.style,
          `${ctx.out.style.green('Rollback')} to ${ctx.out.style.bold(receipt.releaseId)} accepted for ${receipt.env}; rolling out as ${receipt.operationId}\n  restores  code, config v${receipt.configVersion} and secret versions pinned by ${receipt.releaseId}`,
        ),
      );
    if (ctx.flags.wait && receipt.operationId) await watchOperation(ctx, receipt.operationId, { afterReceipt: true });
  },
});
