import { defineCommand, type CommandContext } from '../core/command.ts';
import { flag } from '../core/flags.ts';
import { cliError } from '../core/errors.ts';
import { renderReceipt, type Receipt } from '../core/receipt.ts';
import { watchOperation } from '../core/watch-operation.ts';

export default defineCommand({
  description:
    'Uploads a content-addressed snapshot of the directory (embedded mode runs each workload\'s command in it), ' +
    'creates an immutable release pinning the snapshot, the manifest, the config version and the secret-bundle versions, ' +
    'and starts the rollout. Prints a receipt at once; --wait follows the rollout to the end. A workload that requires ' +
    'config keys or secret bundles the env lacks blocks the deploy before any release exists.',
  flags: {
    dir: { type: 'string', valueName: 'path', description: 'App directory (default: .)' },
    ...flag('file', 'Manifest (default: <dir>/berth.yaml)'),
    image: { type: 'string', valueName: 'repo@sha256:…', description: 'On AWS: the image every workload runs, pinned by digest (nothing is uploaded)' },
    'dry-run': { type: 'boolean', description: 'Validate and print the receipt without creating a release' },
    ...flag('wait', 'Follow the rollout until it converges or fails'),
  },
  requires: ['auth', 'org', 'project', 'app', 'env'],
  examples: ['berth deploy', 'berth deploy --wait', 'berth deploy --dry-run --json'],
  async handler(ctx) {
    const dir = ctx.host.resolvePath(ctx.flags.dir ?? '.');
    const file = ctx.flags.file ? ctx.host.resolvePath(ctx.flags.file) : ctx.host.resolvePath(dir, 'berth.yaml');
    if (!(await ctx.host.fileExists(file))) {
      throw cliError('invalid-input', 'manifest-not-found', `no manifest at ${file}`, ['berth init (writes a berth.yaml)', 'berth deploy --file <path>']);
    }
    const manifest = await ctx.host.readFile(file);
    // Validate here too: a bad manifest should fail before a large upload, with the same message.
    // Imported here, not at the top: zod and the schema are most of the bundle, and help needs neither.
    const { parseManifest } = await import('../../functions/contract/parse-manifest.ts');
    try {
      parseManifest(manifest, file);
    } catch (err) {
      const e = err as { category?: string; code?: string; message: string; details?: unknown; next?: string[] };
      throw cliError('invalid-input', e.code ?? 'manifest-invalid', e.message, e.next ?? [], e.details);
    }
    const image = ctx.flags.image;
    const artifact = image ? { image } : { artifactDigest: await uploadSnapshot(ctx, dir) };
    const { receipt } = await ctx.api.post<{ receipt: Receipt }>(ctx.api.envPath(ctx.target, '/deploys'), {
      manifest,
      ...artifact,
      ...(ctx.flags['dry-run'] ? { dryRun: true } : {}),
    });
    if (ctx.out.json && ctx.flags.wait) ctx.out.jsonLine({ receipt });
    else ctx.out.result({ receipt }, () => renderReceipt(receipt, ctx.out.style));
    if (ctx.flags.wait && receipt.operationId) await watchOperation(ctx, receipt.operationId, { afterReceipt: true });
  },
});

/** Packs the directory and uploads it unless the org already has that exact snapshot. */
async function uploadSnapshot(ctx: CommandContext, dir: string): Promise<string> {
  ctx.out.progress(`Packing ${dir} …`);
  const snapshot = await ctx.host.packSnapshot(dir);
  const artifactPath = `/v1/orgs/${ctx.target.org}/artifacts/${snapshot.digest}`;
  const { present } = await ctx.api.get<{ present: boolean }>(artifactPath);
  if (!present) {
    ctx.out.progress(`Uploading ${snapshot.digest.slice(0, 19)}… (${snapshot.files} files, ${(snapshot.size / 1024).toFixed(1)} KiB)`);
    await ctx.api.upload(artifactPath, snapshot.bytes);
  }
  return snapshot.digest;
}
