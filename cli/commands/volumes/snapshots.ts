import { defineCommand } from '../../core/command.ts';
import { ago, table } from '../../core/output.ts';
import { bytes, volumeView } from './render.ts';

export default defineCommand({
  positionals: [{ name: 'name', description: 'Volume name', required: true }],
  requires: ['auth', 'org', 'project', 'app', 'env'],
  examples: ['berth volumes snapshots data'],
  async handler(ctx) {
    const name = ctx.positionals[0];
    const snapshots = (await volumeView(ctx, name)).snapshots ?? [];
    ctx.out.result(snapshots, () => {
      if (!snapshots.length) return `No snapshots of ${name} yet. Take one: berth volumes snapshot ${name}`;
      const rows = snapshots.map((s) => [s.id, `${s.at} (${ago(s.at, ctx.host.now())})`, bytes(s.sizeBytes), s.consistency ?? 'unknown']);
      return `${table([['ID', 'TAKEN', 'SIZE', 'CONSISTENCY'], ...rows], ctx.out.style)}\n\nRestore one: berth volumes restore ${name} --snapshot <ID>`;
    });
  },
});
