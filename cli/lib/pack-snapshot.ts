// Packs an app directory into a release snapshot (the format is cli/core/snapshot-archive.ts,
// shared with the web console). Only what the process needs at run time goes in: `.git/`,
// `.berth/` and whatever `.berthignore` lists stay out; `node_modules` goes in, because embedded
// mode runs the snapshot as it is.
import { lstat, readdir, readFile, readlink } from 'node:fs/promises';
import { join } from 'node:path';
import { InvalidInputError } from '../../functions/core/errors.ts';
import { archiveSnapshot, checkSnapshotEntries, IGNORE_FILE, ignoreMatcher, sortEntries, type PackedSnapshot, type SnapshotEntry } from '../core/snapshot-archive.ts';

export { ignoreMatcher, IGNORE_FILE, SNAPSHOT_LIMIT_BYTES, type PackedSnapshot } from '../core/snapshot-archive.ts';

export async function packSnapshot(dir: string): Promise<PackedSnapshot> {
  await assertDirectory(dir);
  const isIgnored = ignoreMatcher(await readIgnoreFile(dir));
  const entries: SnapshotEntry[] = [];
  await walk(dir, '', isIgnored, entries);
  sortEntries(entries);
  checkSnapshotEntries(dir, entries);
  return archiveSnapshot(entries, (path) => readEntry(dir, path));
}

async function assertDirectory(dir: string): Promise<void> {
  const stat = await lstat(dir).catch(() => undefined);
  if (!stat?.isDirectory()) {
    throw new InvalidInputError('snapshot-dir-missing', `cannot snapshot "${dir}": it is not a directory; run from your app directory (the one holding berth.yaml)`, {
      details: { dir },
    });
  }
}

async function readIgnoreFile(dir: string): Promise<string> {
  try {
    return await readFile(join(dir, IGNORE_FILE), 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return '';
    throw err;
  }
}

async function walk(root: string, rel: string, isIgnored: (path: string, isDir: boolean) => boolean, out: SnapshotEntry[]): Promise<void> {
  const names = await readdir(join(root, rel));
  const children = await Promise.all(
    names.map(async (name) => {
      const path = rel ? `${rel}/${name}` : name;
      return { path, stat: await lstat(join(root, path)) };
    }),
  );
  for (const { path, stat } of children) {
    const isDir = stat.isDirectory();
    if (isIgnored(path, isDir)) continue;
    const mode = stat.mode & 0o777;
    if (isDir) {
      out.push({ path, type: 'directory', mode, size: 0 });
      await walk(root, path, isIgnored, out);
    } else if (stat.isFile()) {
      out.push({ path, type: 'file', mode, size: stat.size });
    } else if (stat.isSymbolicLink()) {
      out.push({ path, type: 'symlink', mode, size: 0, linkname: await readlink(join(root, path)) });
    }
    // Sockets, FIFOs and devices only mean something on the machine that made them: left out.
  }
}

async function readEntry(root: string, path: string): Promise<Uint8Array> {
  try {
    return await readFile(join(root, path));
  } catch (err) {
    throw new InvalidInputError('snapshot-unreadable', `cannot read ${path} for the snapshot (${(err as NodeJS.ErrnoException).code ?? String(err)}); fix its permissions or list it in ${IGNORE_FILE}`, {
      details: { path },
      cause: err,
    });
  }
}
