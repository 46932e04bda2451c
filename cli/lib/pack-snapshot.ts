// Packs an app directory into a release snapshot: a deterministic gzipped tar whose sha256 is its
// identity. Same tree in, same bytes out: entries sorted by path, mtime 0, owner 0/0 with no names,
// and a gzip header without file name or timestamp. Only what the process needs at run time goes
// in: `.git/`, `.berth/` and whatever `.berthignore` lists stay out; `node_modules` goes in, because
// embedded mode runs the snapshot as it is.
import { createHash } from 'node:crypto';
import { lstat, readdir, readFile, readlink } from 'node:fs/promises';
import { join, posix } from 'node:path';
import { constants as zlib, gzipSync } from 'node:zlib';
import { pack as tarPack, type Header, type Pack } from 'tar-stream';
import { InvalidInputError } from '../../functions/core/errors.ts';

export const SNAPSHOT_LIMIT_BYTES = 200 * 1024 * 1024;
export const IGNORE_FILE = '.berthignore';

export interface PackedSnapshot {
  /** `sha256:<hex>` of `bytes`. */
  digest: string;
  /** The gzipped tar. */
  bytes: Uint8Array;
  /** Entries that are not directories (regular files and symlinks). */
  files: number;
  /** Total bytes of file contents before compression. */
  size: number;
}

interface SnapshotEntry {
  /** Relative, `/`-separated. */
  path: string;
  type: 'file' | 'directory' | 'symlink';
  mode: number;
  size: number;
  linkname?: string;
}

export async function packSnapshot(dir: string): Promise<PackedSnapshot> {
  await assertDirectory(dir);
  const isIgnored = ignoreMatcher(await readIgnoreFile(dir));
  const entries: SnapshotEntry[] = [];
  await walk(dir, '', isIgnored, entries);
  // Code-unit order, not localeCompare: the order must not depend on the machine's locale.
  entries.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
  assertWithinLimit(dir, entries);
  assertSymlinksInside(entries);

  const { tar, size } = await writeTar(dir, entries);
  const bytes = gzipSync(tar, { level: 6, memLevel: 8, windowBits: 15, strategy: zlib.Z_DEFAULT_STRATEGY });
  // zlib writes mtime 0 and no file name, but the OS byte is a compile-time constant (3 on Linux,
  // 19 on macOS with zlib >= 1.2.12); pin it so the header never differs between machines.
  // https://www.rfc-editor.org/rfc/rfc1952#section-2.3
  bytes[9] = 3;
  const digest = `sha256:${createHash('sha256').update(bytes).digest('hex')}`;
  return { digest, bytes, files: entries.filter((e) => e.type !== 'directory').length, size };
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

function assertWithinLimit(dir: string, entries: SnapshotEntry[]): void {
  const total = entries.reduce((sum, e) => sum + e.size, 0);
  if (total <= SNAPSHOT_LIMIT_BYTES) return;
  const byTop = new Map<string, number>();
  for (const e of entries) {
    const top = e.path.split('/')[0]!;
    byTop.set(top, (byTop.get(top) ?? 0) + e.size);
  }
  const largest = [...byTop.entries()]
    .sort((a, b) => b[1] - a[1])
    .slice(0, 3)
    .map(([path, size]) => ({ path, size }));
  throw new InvalidInputError(
    'snapshot-too-large',
    `the app directory "${dir}" holds ${mib(total)} of files, over the ${mib(SNAPSHOT_LIMIT_BYTES)} snapshot limit; ` +
      `the largest are ${largest.map((l) => `${l.path} (${mib(l.size)})`).join(', ')}. ` +
      `List what the app does not need at run time in ${IGNORE_FILE} (one pattern per line, e.g. "dist/" or "*.log")`,
    { details: { size: total, limit: SNAPSHOT_LIMIT_BYTES, largest } },
  );
}

function mib(bytes: number): string {
  return `${(bytes / 1024 / 1024).toFixed(1)} MiB`;
}

// A link that leaves the snapshot would point at whatever the running machine has there; unpack
// refuses such artifacts, so say so here, where the fix (ignore it, or make it relative) is at hand.
function assertSymlinksInside(entries: SnapshotEntry[]): void {
  const outside = entries.filter((e) => e.type === 'symlink' && !linkStaysInside(e.path, e.linkname!));
  if (outside.length === 0) return;
  const shown = outside.slice(0, 5).map((e) => `${e.path} -> ${e.linkname}`);
  const more = outside.length > shown.length ? ` and ${outside.length - shown.length} more` : '';
  throw new InvalidInputError(
    'snapshot-symlink-outside',
    `symlinks point outside the app directory: ${shown.join(', ')}${more}; ` +
      `make them relative links inside the app, or list them in ${IGNORE_FILE} (e.g. ".venv/")`,
    { details: outside.map((e) => ({ path: e.path, target: e.linkname })) },
  );
}

function linkStaysInside(path: string, linkname: string): boolean {
  if (linkname === '' || posix.isAbsolute(linkname) || /^[A-Za-z]:[\\/]/.test(linkname)) return false;
  const resolved = posix.normalize(posix.join(posix.dirname(path), linkname));
  return resolved !== '..' && !resolved.startsWith('../');
}

async function writeTar(root: string, entries: SnapshotEntry[]): Promise<{ tar: Buffer; size: number }> {
  const pack = tarPack();
  const chunks: Buffer[] = [];
  // Read while writing: an entry's callback waits until the pack stream has been drained.
  const ended = new Promise<void>((resolve, reject) => {
    pack.on('data', (chunk) => chunks.push(chunk as Buffer));
    pack.on('end', resolve);
    pack.on('error', reject);
  });
  let size = 0;
  for (const e of entries) {
    const header: Header = {
      name: e.path,
      type: e.type,
      mode: e.mode,
      mtime: new Date(0),
      uid: 0,
      gid: 0,
      uname: '',
      gname: '',
      size: 0,
      linkname: e.linkname ?? '',
      devmajor: 0,
      devminor: 0,
    };
    if (e.type === 'file') {
      const data = await readEntry(root, e.path);
      size += data.byteLength;
      await addEntry(pack, header, data);
    } else {
      await addEntry(pack, header);
    }
  }
  pack.finalize();
  await ended;
  return { tar: Buffer.concat(chunks), size };
}

async function readEntry(root: string, path: string): Promise<Buffer> {
  try {
    return await readFile(join(root, path));
  } catch (err) {
    throw new InvalidInputError('snapshot-unreadable', `cannot read ${path} for the snapshot (${(err as NodeJS.ErrnoException).code ?? String(err)}); fix its permissions or list it in ${IGNORE_FILE}`, {
      details: { path },
      cause: err,
    });
  }
}

function addEntry(pack: Pack, header: Header, data?: Buffer): Promise<void> {
  return new Promise((resolve, reject) => {
    const done = (err?: Error | null) => (err ? reject(err) : resolve());
    if (data) pack.entry(header, data, done);
    else pack.entry(header, done);
  });
}

interface IgnoreRule {
  re: RegExp;
  dirOnly: boolean;
  negate: boolean;
}

// Never part of a snapshot, whatever `.berthignore` says: history and Berth's own local state.
const ALWAYS_IGNORED = [/^(?:.*\/)?\.git$/, /^(?:.*\/)?\.berth$/];

/**
 * Compiles `.berthignore` text into a matcher of relative `/`-separated paths. One pattern per line;
 * `#` starts a comment; `*` matches within a segment, `**` across segments, a trailing `/` matches
 * directories only, a leading `/` anchors at the root, and an unanchored pattern matches at any
 * depth. `!pattern` re-includes what an earlier line excluded (the last matching line wins), as in
 * .gitignore; anything under an excluded directory stays excluded.
 */
export function ignoreMatcher(text: string): (path: string, isDir: boolean) => boolean {
  const rules = text.split(/\r?\n/).flatMap((line) => {
    const rule = parseIgnoreLine(line);
    return rule ? [rule] : [];
  });
  return (path, isDir) => {
    if (ALWAYS_IGNORED.some((re) => re.test(path))) return true;
    let ignored = false;
    for (const rule of rules) {
      if (rule.dirOnly && !isDir) continue;
      if (rule.re.test(path)) ignored = !rule.negate;
    }
    return ignored;
  };
}

function parseIgnoreLine(line: string): IgnoreRule | undefined {
  let pattern = line.replace(/\s+$/, '');
  if (pattern === '' || pattern.startsWith('#')) return undefined;
  let negate = false;
  if (pattern.startsWith('!')) {
    negate = true;
    pattern = pattern.slice(1);
  } else if (pattern.startsWith('\\#') || pattern.startsWith('\\!')) {
    pattern = pattern.slice(1);
  }
  const dirOnly = pattern.endsWith('/');
  if (dirOnly) pattern = pattern.replace(/\/+$/, '');
  const anchored = pattern.startsWith('/');
  if (anchored) pattern = pattern.replace(/^\/+/, '');
  if (pattern === '') return undefined;
  const body = globToRegExpSource(pattern);
  return { re: new RegExp(anchored ? `^${body}$` : `^(?:.*/)?${body}$`), dirOnly, negate };
}

function globToRegExpSource(glob: string): string {
  const segments = glob.split('/');
  return segments
    .map((segment, i) => {
      const last = i === segments.length - 1;
      if (segment === '**') return last ? '.*' : '(?:[^/]*/)*';
      const source = segment.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*+/g, '[^/]*').replace(/\?/g, '[^/]');
      return last ? source : `${source}/`;
    })
    .join('');
}
