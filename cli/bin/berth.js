#!/usr/bin/env node
// The `berth` command. `--version` answers without loading anything, so it starts as fast as node
// itself. Otherwise: installed from npm, it runs the bundle `npm pack` builds (dist/cli/, see
// cli/build.ts), which imports each command only when it is used; in a checkout there is no bundle
// and it runs the TypeScript sources through tsx (no build step).
import { existsSync, readFileSync } from 'node:fs';

if (process.argv[2] === '--version' && process.argv.length === 3) {
  const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8'));
  process.stdout.write(`berth ${pkg.version}\n`);
} else {
  const bundle = new URL('../../dist/cli/main.js', import.meta.url);
  if (existsSync(bundle)) {
    await import(bundle.href);
  } else {
    const { register } = await import('tsx/esm/api');
    register();
    await import('../main.ts');
  }
}
