// `npm run build:cli`: the published `berth` as one esbuild bundle of cli/main.ts, in dist/cli/.
// Every command is its own chunk (the table imports it lazily), so `berth --help` parses only the
// dispatcher and `berth deploy` only what deploy needs. Runtime dependencies are bundled too: the
// installed CLI resolves nothing from node_modules and needs neither tsx nor a devDependency.
// Built only by `prepack` (and by the test suite, into a temp dir): a checkout runs the sources
// through tsx, so no stale bundle can stand between a developer and their edit.
import { build, type Metafile } from 'esbuild';
import { rm } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('../', import.meta.url));

/** Where `cli/bin/berth.js` looks for the bundle, relative to the package root. */
export const BUNDLE_DIR = 'dist/cli';

export async function buildCli(outdir: string): Promise<Metafile> {
  await rm(outdir, { recursive: true, force: true });
  const result = await build({
    absWorkingDir: ROOT,
    entryPoints: { main: 'cli/main.ts' },
    outdir,
    bundle: true,
    splitting: true,
    format: 'esm',
    platform: 'node',
    target: 'node20',
    minify: true,
    chunkNames: 'chunks/[name]-[hash]',
    // ws loads these native speed-ups only if they are installed, in a try/catch.
    external: ['bufferutil', 'utf-8-validate'],
    // Bundled CommonJS (ws, tar-stream) calls require() for Node built-ins; ESM has no require.
    banner: { js: "import { createRequire as __berthRequire } from 'node:module'; const require = __berthRequire(import.meta.url);" },
    metafile: true,
    logLevel: 'warning',
  });
  return result.metafile;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const metafile = await buildCli(`${ROOT}${BUNDLE_DIR}`);
  const outputs = Object.values(metafile.outputs);
  const kib = outputs.reduce((sum, o) => sum + o.bytes, 0) / 1024;
  // Said out loud: from now on cli/bin/berth.js in this checkout runs the bundle, not the sources.
  process.stderr.write(`Built ${BUNDLE_DIR}/ (${outputs.length} files, ${kib.toFixed(0)} KiB); berth runs it until it is deleted (npm pack deletes it after packing).\n`);
}
