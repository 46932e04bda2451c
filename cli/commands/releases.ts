import { defineCommand } from '../core/command.ts';
import { flag } from '../core/flags.ts';
import { ago, table } from '../core/output.ts';

interface ReleaseItem {
  id: string;
  createdAt: string;
  createdBy: string;
  artifactDigest: string;
  configVersion: number;
  secretVersions: Record<string, number>;
  status: string;
}

export default defineCommand({
  flags: { ...flag('limit', 'How many (default 20)') },
  requires: ['auth', 'org', 'project', 'app', 'env'],
  async handler(ctx) {
    const limit = ctx.flags.limit ?? '20';
    const body = await ctx.api.get<{ currentReleaseId: string | null; releases: ReleaseItem[] }>(ctx.api.envPath(ctx.target, `/releases?limit=${encodeURIComponent(limit)}`));
    ctx.out.result(body, () => {
      if (!body.releases.length) return 'No releases yet: berth deploy';
      const rows = body.releases.map((r) => [
        `${r.id === body.currentReleaseId ? '* ' : '  '}${r.id}`,
        r.status,
        ago(r.createdAt, ctx.host.now()),
        r.createdBy,
        `${r.artifactDigest.slice(0, 19)}…`,
        `v${r.configVersion}`,
        Object.entries(r.secretVersions).map(([b, v]) => `${b}@v${v}`).join(',') || '-',
      ]);
      return table([['  RELEASE', 'STATUS', 'CREATED', 'BY', 'ARTIFACT', 'CONFIG', 'SECRETS'], ...rows], ctx.out.style);
    });
  },
});
