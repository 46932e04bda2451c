import type { CommandContext } from '../../core/command.ts';

export interface BundleSummary {
  bundle: string;
  version: number;
  keys: string[];
  digest: string;
  updatedAt: string;
  updatedBy: string;
}

export function printBundleChange(ctx: CommandContext, body: { bundle: BundleSummary }): void {
  const b = body.bundle;
  // Only names, versions and digests: values never come back from the API.
  ctx.out.result(body, () =>
    [`Secret bundle ${b.bundle} is now v${b.version} (keys: ${b.keys.join(', ')}; ${b.digest})`, 'Instances get it as a file in $BERTH_SECRETS_DIR after the next release: berth deploy'].join('\n'),
  );
}
