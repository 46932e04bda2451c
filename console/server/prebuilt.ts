// Console files a build wrote to a directory (console/build.ts `writeConsole`): dist/console/ in a
// packed install, the `console/` folder beside the API Lambda's bundle on AWS. Each file is read
// once, with its `.gz` when there is one. Imports nothing of esbuild: the Lambda bundles this.
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { ConsoleAsset, ConsoleAssets } from '../../functions/api/routes/console-pages.ts';

export function prebuiltConsole(dir: string): ConsoleAssets {
  const cache = new Map<string, Promise<ConsoleAsset | undefined>>();
  const load = async (name: string): Promise<ConsoleAsset | undefined> => {
    try {
      const [body, gzip] = await Promise.all([readFile(join(dir, name)), readFile(join(dir, `${name}.gz`)).catch(() => undefined)]);
      return { body, gzip, type: contentType(name), immutable: name !== 'index.html' };
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw err;
    }
  };
  return {
    get(name) {
      if (!/^[\w.-]+$/.test(name) || name.endsWith('.gz')) return Promise.resolve(undefined);
      let found = cache.get(name);
      if (!found) cache.set(name, (found = load(name)));
      return found;
    },
  };
}

function contentType(name: string): string {
  if (name.endsWith('.html')) return 'text/html; charset=utf-8';
  if (name.endsWith('.js')) return 'text/javascript; charset=utf-8';
  if (name.endsWith('.css')) return 'text/css; charset=utf-8';
  return 'application/octet-stream';
}
