// vitest globalSetup: builds the published CLI once per run, into a temp dir laid out as the
// installed package is (package.json, cli/bin/berth.js, dist/cli/), with no node_modules beside it.
// CLI tests run `berth` from there, so they exercise what `npm pack` ships: the bin script, the
// bundle and its lazily imported chunks, and that the bundle needs nothing it did not bundle.
import { copyFile, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { TestProject } from 'vitest/node';
import { buildCli, BUNDLE_DIR } from '../../cli/build.ts';

declare module 'vitest' {
  export interface ProvidedContext {
    /** The root of the temp package: `cli/bin/berth.js` under it is the command. */
    berthPackage: string;
  }
}

const ROOT = fileURLToPath(new URL('../../', import.meta.url));

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const root = await mkdtemp(join(tmpdir(), 'berth-package-'));
  const metafile = await buildCli(join(root, BUNDLE_DIR));
  await mkdir(join(root, 'cli/bin'), { recursive: true });
  await copyFile(join(ROOT, 'cli/bin/berth.js'), join(root, 'cli/bin/berth.js'));
  await copyFile(join(ROOT, 'package.json'), join(root, 'package.json'));
  // What went into which chunk, for the test that keeps `berth --help` light.
  await writeFile(join(root, 'metafile.json'), JSON.stringify(metafile));
  project.provide('berthPackage', root);
  return () => rm(root, { recursive: true, force: true });
}
