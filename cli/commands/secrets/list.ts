import { defineCommand } from '../../core/command.ts';
import { ago, table } from '../../core/output.ts';
import type { BundleSummary } from './render.ts';

export default defineCommand({
  requires: ['auth', 'org', 'project', 'app', 'env'],
  async handler(ctx) {
    const { bundles } = await ctx.api.get<{ bundles: BundleSummary[] }>(ctx.api.envPath(ctx.target, '/secrets'));
    ctx.out.result(bundles, () =>
      bundles.length
        ? table([['BUNDLE', 'VERSION', 'KEYS', 'DIGEST', 'UPDATED', 'BY'], ...bundles.map((b) => [b.bundle, `v${b.version}`, b.keys.join(','), b.digest, ago(b.updatedAt, ctx.host.now()), b.updatedBy])], ctx.out.style)
        : 'No secret bundles yet. Add one: berth secrets set <bundle> KEY=VALUE',
    );
  },
});
