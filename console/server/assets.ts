// Where the embedded API finds the console's files (functions/api/routes/console-pages.ts serves
// them): in a checkout, built in memory by esbuild on the first request for the page and again
// when any source that went in has changed since (no build step, nothing to go stale); in an
// installed package, which has no esbuild, what `prepack` wrote to dist/console/.
import { existsSync } from 'node:fs';
import { stat } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { ConsoleAssets } from '../../functions/api/routes/console-pages.ts';
import type { ConsoleBuild } from '../build.ts';
import { prebuiltConsole } from './prebuilt.ts';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));

export function liveConsole(): ConsoleAssets {
  let current: { build: ConsoleBuild; at: number } | undefined;
  let previous: ConsoleBuild | undefined;
  let building: Promise<ConsoleBuild> | undefined;

  const rebuild = () =>
    (building ??= (async () => {
      const at = Date.now();
      const { buildConsole } = await import('../build.ts');
      const build = await buildConsole();
      previous = current?.build;
      current = { build, at };
      return build;
    })().finally(() => (building = undefined)));

  const stale = async (): Promise<boolean> => {
    if (!current) return true;
    const since = current.at;
    const times = await Promise.all(current.build.inputs.map((p) => stat(p).then((s) => s.mtimeMs, () => Infinity)));
    return times.some((t) => t >= since);
  };

  return {
    async get(name) {
      // The page is where a new build is noticed; its hashed files are then served from that build
      // (or the one before, for a tab that loaded the page just before the rebuild).
      if (name === 'index.html' && (await stale())) await rebuild();
      const build = current?.build ?? (await rebuild());
      return build.files.get(name) ?? previous?.files.get(name);
    },
  };
}

/** A checkout with esbuild builds from its sources; an installed package serves what prepack built. */
export function embeddedConsole(): ConsoleAssets {
  const sources = existsSync(join(ROOT, 'console/src/main.ts')) && existsSync(join(ROOT, 'node_modules/esbuild')) && existsSync(join(ROOT, 'node_modules/ghostty-web'));
  if (sources) return liveConsole();
  const dist = join(ROOT, 'dist/console');
  return existsSync(join(dist, 'index.html')) ? prebuiltConsole(dist) : unbuiltConsole();
}

/** Neither esbuild (dev dependencies left out) nor a prebuilt console: `/` says how to get one. */
function unbuiltConsole(): ConsoleAssets {
  const page = new TextEncoder().encode(
    '<!doctype html><meta charset="utf-8"><title>Berth console</title><h1>The web console is not built here</h1>' +
      '<p>This install has neither the console\'s build tools (the dev dependencies) nor a prebuilt console. Run <code>npm install</code> (with dev dependencies) and restart, or <code>npm run build:console</code>. The API works without it: <code>npx berth --help</code>.</p>',
  );
  return { get: async (name) => (name === 'index.html' ? { body: page, type: 'text/html; charset=utf-8', immutable: false } : undefined) };
}
