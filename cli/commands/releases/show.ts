import { defineCommand } from '../../core/command.ts';
import { ago, table } from '../../core/output.ts';
import type { Manifest } from '../../../functions/contract/manifest.ts';

interface Release {
  id: string;
  status: string;
  createdAt: string;
  createdBy: string;
  operationId: string;
  artifactDigest: string;
  configVersion: number;
  secretVersions: Record<string, number>;
  manifest: Manifest;
}

export default defineCommand({
  positionals: [{ name: 'release', description: 'Release id such as rel-3', required: true }],
  requires: ['auth', 'org', 'project', 'app', 'env'],
  examples: ['berth releases show rel-3', 'berth releases show rel-3 --json'],
  async handler(ctx) {
    const { release: r } = await ctx.api.get<{ release: Release }>(ctx.api.envPath(ctx.target, `/releases/${encodeURIComponent(ctx.positionals[0])}`));
    ctx.out.result(r, () => {
      const workloads = Object.entries(r.manifest.workloads).map(([name, w]) => [
        name,
        Array.isArray(w.command) ? w.command.join(' ') : w.command,
        w.image ?? '-',
        String(w.count ?? 1),
        `${w.cpu ?? 256}/${w.memory ?? 512}`,
        (w.ports ?? []).join(',') || '-',
      ]);
      return [
        `${ctx.out.style.bold(r.id)}  ${r.status}  created ${ago(r.createdAt, ctx.host.now())} by ${r.createdBy} (${r.operationId})`,
        `  artifact  ${r.artifactDigest}`,
        `  config    v${r.configVersion}`,
        `  secrets   ${Object.entries(r.secretVersions).map(([b, v]) => `${b}@v${v}`).join(', ') || 'none'}`,
        '',
        table([['WORKLOAD', 'COMMAND', 'IMAGE', 'COUNT', 'CPU/MEM', 'PORTS'], ...workloads], ctx.out.style),
        '',
        `Roll back to it: berth rollback ${r.id}`,
      ].join('\n');
    });
  },
});
