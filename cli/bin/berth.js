#!/usr/bin/env node
// The `berth` command. `--version` answers without loading TypeScript, so it starts as fast as
// node itself; everything else runs the TypeScript sources through tsx (no build step).
if (process.argv[2] === '--version' && process.argv.length === 3) {
  const { readFileSync } = await import('node:fs');
  const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8'));
  process.stdout.write(`berth ${pkg.version}\n`);
} else {
  const { register } = await import('tsx/esm/api');
  register();
  await import('../main.ts');
}
