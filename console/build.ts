// The console's bundle: console/src/main.ts and everything it imports (the CLI's command table and
// command layer, zod, yaml, ghostty-web with its WebAssembly inlined) as ES modules (the page's,
// and a chunk per command) and a stylesheet, named by content hash, plus the index.html that loads
// them, each also gzipped.
//
// Who builds it, so that it is never stale:
// - a checkout (`npm start`, tests): the API builds it in memory on the first request for the
//   console and again whenever a source is newer than the build (console/server/assets.ts);
// - `npm pack` (prepack): dist/console/, for an installed package, which has no esbuild;
// - AWS: `cdk synth` runs this file after bundling the API Lambda, into the Lambda's own asset
//   (infra/berth-stack.ts), so a deploy ships the console that matches its API.
import { build } from 'esbuild';
import { mkdir, rm, writeFile } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';

const ROOT = fileURLToPath(new URL('../', import.meta.url));

export interface BuiltFile {
  body: Uint8Array;
  gzip: Uint8Array;
  type: string;
  /** Named by content hash: cache for ever. */
  immutable: boolean;
}

export interface ConsoleBuild {
  /** By name as served under /console/ (and `index.html` for /). */
  files: Map<string, BuiltFile>;
  /** Absolute paths of every source that went in, to tell when the build is stale. */
  inputs: string[];
}

export async function buildConsole(): Promise<ConsoleBuild> {
  const result = await build({
    absWorkingDir: ROOT,
    entryPoints: { console: 'console/src/main.ts' },
    outdir: 'console-out',
    write: false,
    bundle: true,
    // Every command is its own chunk, as in the CLI's bundle: the page loads the terminal and the
    // dispatcher, and a command's code (zod, yaml, ...) when it first runs.
    splitting: true,
    format: 'esm',
    platform: 'browser',
    target: ['es2022', 'chrome111', 'firefox115', 'safari16.4'],
    minify: true,
    entryNames: '[name]-[hash]',
    chunkNames: '[name]-[hash]',
    metafile: true,
    legalComments: 'eof',
    logLevel: 'warning',
  });
  const files = new Map<string, BuiltFile>();
  const outDir = join(ROOT, 'console-out');
  for (const out of result.outputFiles) {
    const name = relative(outDir, out.path);
    const type = name.endsWith('.js') ? 'text/javascript; charset=utf-8' : name.endsWith('.css') ? 'text/css; charset=utf-8' : 'text/plain; charset=utf-8';
    files.set(name, file(out.contents, type, true));
  }
  const [entry, meta] = Object.entries(result.metafile.outputs).find(([, o]) => o.entryPoint === 'console/src/main.ts')!;
  const js = relative('console-out', entry);
  const css = meta.cssBundle ? relative('console-out', meta.cssBundle) : undefined;
  files.set('index.html', file(new TextEncoder().encode(indexHtml(js, css)), 'text/html; charset=utf-8', false));
  return { files, inputs: Object.keys(result.metafile.inputs).map((p) => join(ROOT, p)) };
}

function file(body: Uint8Array, type: string, immutable: boolean): BuiltFile {
  return { body, gzip: gzipSync(body, { level: 9 }), type, immutable };
}

function indexHtml(js: string, css: string | undefined): string {
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Berth console</title>
<link rel="icon" href="data:image/svg+xml,%3Csvg xmlns='http://www.w3.org/2000/svg' viewBox='0 0 16 16'%3E%3Crect width='16' height='16' rx='3' fill='%230f1419'/%3E%3Cpath d='M3 5l4 3-4 3M8 12h5' stroke='%238bd5ca' stroke-width='1.6' fill='none'/%3E%3C/svg%3E">
${css ? `<link rel="stylesheet" href="/console/${css}">\n` : ''}<script type="module" src="/console/${js}"></script>
</head>
<body>
<div id="app"></div>
<noscript>The Berth console is a terminal that runs in JavaScript; the CLI (npx berth) does the same without.</noscript>
</body>
</html>
`;
}

/** Writes a build into `dir` (what `prepack` and the CDK app ship): each file and its `.gz`. */
export async function writeConsole(dir: string): Promise<ConsoleBuild> {
  const built = await buildConsole();
  await rm(dir, { recursive: true, force: true });
  await mkdir(dir, { recursive: true });
  for (const [name, f] of built.files) {
    await writeFile(join(dir, name), f.body);
    await writeFile(join(dir, `${name}.gz`), f.gzip);
  }
  return built;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const dir = process.argv[2] ?? join(ROOT, 'dist/console');
  const built = await writeConsole(dir);
  const kib = [...built.files.values()].reduce((n, f) => n + f.gzip.byteLength, 0) / 1024;
  process.stderr.write(`Built the console into ${dir} (${built.files.size} files, ${kib.toFixed(0)} KiB gzipped).\n`);
}
