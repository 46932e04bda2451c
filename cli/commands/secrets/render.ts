import type { SecretBundleSummary } from '../../../functions/contract/responses.ts';
import type { CommandContext } from '../../core/command.ts';

export type BundleSummary = SecretBundleSummary;

export function printBundleChange(ctx: CommandContext, body: { bundle: BundleSummary }): void {
  const b = body.bundle;
  // Only names, versions and digests: values never come back from the API.
  ctx.out.result(body, () =>
    [`Secret bundle ${b.bundle} is now v${b.version} (keys: ${b.keys.join(', ')}; ${b.digest})`, 'Instances get it as a file in $BERTH_SECRETS_DIR after the next release: berth deploy'].join('\n'),
  );
}
