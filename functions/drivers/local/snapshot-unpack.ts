// Unpacks an uploaded snapshot (a gzipped tar) into a fresh directory, as a stream: the archive is
// read, inflated (node:zlib, off the main thread) and written one chunk at a time, so memory stays
// flat and the event loop free whatever the archive holds. Everything in it came from outside:
// limits bound the work, and every entry is checked against the tree it lands in.
import { lstat, mkdir, open, readdir, readlink, symlink, chmod } from 'node:fs/promises';
import { dirname, isAbsolute, join, posix, sep } from 'node:path';
import { createGunzip } from 'node:zlib';
import { InvalidInputError, NotFoundError } from '../../core/errors.ts';
import { clip, readTar, TarFormatError, TarLimitError } from './tar-reader.ts';

export interface UnpackLimits {
  /** Bytes the archive may inflate to (contents, headers, padding). */
  maxInflatedBytes: number;
  /** Entries (files, directories, links). */
  maxEntries: number;
  /** Bytes of one GNU long-name or pax header. */
  maxHeaderBytes: number;
  /** Bytes of one entry's path. */
  maxPathBytes: number;
  /** Directories one entry's path goes down. */
  maxPathDepth: number;
  /** Bytes of all paths and link targets together: links and directory modes are kept to the end. */
  maxNameBytes: number;
}

/**
 * berth deploy packs at most 200 MiB of contents (cli/core/snapshot-archive.ts); headers and
 * padding add at most 1 KiB per entry. Paths: Linux's PATH_MAX, and a depth no real tree reaches.
 */
export const DEFAULT_UNPACK_LIMITS: UnpackLimits = {
  maxInflatedBytes: 512 * 1024 * 1024,
  maxEntries: 100_000,
  maxHeaderBytes: 64 * 1024,
  maxPathBytes: 4096,
  maxPathDepth: 128,
  maxNameBytes: 32 * 1024 * 1024,
};

const LIMIT_WHAT: Record<keyof UnpackLimits, string> = {
  maxInflatedBytes: 'inflated bytes',
  maxEntries: 'entries',
  maxHeaderBytes: 'bytes in one long-name or pax header',
  maxPathBytes: 'bytes in one path',
  maxPathDepth: 'directories deep in one path',
  maxNameBytes: 'bytes of paths and link targets in all',
};

/** Symlink hops followed before a chain is treated as a loop (Linux's MAXSYMLINKS). */
const MAX_LINK_HOPS = 40;

/** File-system refusals caused by what the archive asks for, not by the server. */
const ENTRY_CLASHES = new Set(['EEXIST', 'ENOTDIR', 'EISDIR', 'ENAMETOOLONG', 'ELOOP', 'EILSEQ', 'EINVAL']);

interface PendingLink {
  rel: string;
  linkname: string;
}

/**
 * Extracts the archive at `archive` into `root` (a fresh, real path). Files and directories are
 * written first and symlinks last, so no entry is ever written through a link; then every link is
 * resolved the way the kernel would and must stay inside the tree. Directory modes are applied at
 * the very end, so a read-only directory can still be filled.
 */
export async function unpackSnapshot(archive: string, root: string, digest: string, limits: UnpackLimits = DEFAULT_UNPACK_LIMITS): Promise<void> {
  const file = await open(archive).catch((err: NodeJS.ErrnoException) => {
    if (err.code !== 'ENOENT') throw err;
    throw new NotFoundError('artifact-not-found', `no artifact ${digest} in the local store; upload the snapshot again (berth deploy packs and uploads it)`, { details: { digest } });
  });
  const read = file.createReadStream();
  // 256 KiB chunks: at zlib's default 16 KiB, the per-chunk cost of a stream made inflating 7x slower.
  const inflated = read.pipe(createGunzip({ chunkSize: 256 * 1024 }));
  read.on('error', (err) => inflated.destroy(err));
  const links: PendingLink[] = [];
  const dirModes: { path: string; mode: number }[] = [];
  const ctx = { digest, limits, entries: 0, nameBytes: 0 };
  try {
    for await (const { entry, body } of readTar(inflated, limits)) {
      const rel = entryPath(entry.name, ctx);
      const path = rel === '' ? root : join(root, rel);
      if (rel !== '' && !path.startsWith(root + sep)) throw unsafe(digest, entry.name, 'its path leaves the snapshot');
      // Readable by all: a sandboxed instance runs as a uid of its env's (see sandbox/env-uids.ts),
      // not as the platform's user that unpacked it. Nobody writes a release after this.
      const mode = (entry.mode & 0o755) | (entry.type === 'directory' ? 0o555 : entry.mode & 0o100 ? 0o555 : 0o444);
      try {
        if (entry.type === 'directory') {
          await mkdir(path, { recursive: true });
          if (rel !== '') dirModes.push({ path, mode });
        } else if (entry.type === 'file') {
          if (rel === '') throw unsafe(digest, entry.name, 'a file cannot replace the snapshot root');
          await mkdir(dirname(path), { recursive: true });
          // `wx`: an entry that names a path twice is refused, never written over.
          const out = await open(path, 'wx', 0o600);
          try {
            for await (const chunk of body) await out.write(chunk);
          } finally {
            await out.close();
          }
          await chmod(path, mode); // open's mode is filtered by the umask; the packed mode is not
        } else if (entry.type === 'symlink') {
          if (rel === '') throw unsafe(digest, entry.name, 'a symlink cannot replace the snapshot root');
          const linkname = entry.linkname;
          if (linkname === '' || isAbsolute(linkname) || posix.isAbsolute(linkname)) throw unsafe(digest, entry.name, `it is a symlink to the absolute path "${clip(linkname)}"`);
          countName(linkname, ctx);
          links.push({ rel, linkname });
        } else {
          const what = entry.type === 'unknown' ? `entries of tar type "${entry.typeflag}"` : `${entry.type} entries`;
          throw unsafe(digest, entry.name, `${what} are not allowed in a snapshot`);
        }
      } catch (err) {
        throw clash(err, digest, entry.name);
      }
    }
  } catch (err) {
    throw fromArchive(err, digest);
  } finally {
    inflated.destroy();
    read.destroy();
  }

  links.sort((a, b) => (a.rel < b.rel ? -1 : a.rel > b.rel ? 1 : 0));
  for (const link of links) {
    const path = join(root, link.rel);
    // Checked before mkdir: through a linked directory, both would land wherever that link points.
    if (await hasLinkedParent(root, link.rel)) throw unsafe(digest, link.rel, 'it sits inside a symlinked directory');
    try {
      await mkdir(dirname(path), { recursive: true });
      await symlink(link.linkname, path);
    } catch (err) {
      throw clash(err, digest, link.rel);
    }
  }
  for (const link of links) {
    if (!(await resolvesInside(root, link.rel))) throw unsafe(digest, link.rel, `it is a symlink to "${clip(link.linkname)}", outside the snapshot`);
  }
  for (const { path, mode } of dirModes.reverse()) await chmod(path, mode);
  await makeReadable(root);
}

/** The entry's path relative to the root, `/`-separated; '' for the root itself. */
function entryPath(name: string, ctx: { digest: string; limits: UnpackLimits; entries: number; nameBytes: number }): string {
  const { digest, limits } = ctx;
  if (++ctx.entries > limits.maxEntries) throw overLimit(digest, 'maxEntries', limits.maxEntries, `it has more than ${limits.maxEntries} entries`);
  const bytes = Buffer.byteLength(name);
  if (bytes > limits.maxPathBytes) throw overLimit(digest, 'maxPathBytes', limits.maxPathBytes, `entry "${clip(name)}" has a path of ${bytes} bytes`, name);
  countName(name, ctx);
  if (name.includes('\0')) throw unsafe(digest, name, 'its path contains a NUL byte');
  if (name.startsWith('/') || /^[A-Za-z]:/.test(name)) throw unsafe(digest, name, 'its path is absolute');
  const segments = name.split('/').filter((s) => s !== '' && s !== '.');
  if (segments.includes('..')) throw unsafe(digest, name, 'its path climbs out of the snapshot with ".."');
  if (segments.length > limits.maxPathDepth) throw overLimit(digest, 'maxPathDepth', limits.maxPathDepth, `entry "${clip(name)}" is ${segments.length} levels deep`, name);
  return segments.join('/');
}

function countName(name: string, ctx: { digest: string; limits: UnpackLimits; nameBytes: number }): void {
  ctx.nameBytes += Buffer.byteLength(name);
  if (ctx.nameBytes > ctx.limits.maxNameBytes) {
    throw overLimit(ctx.digest, 'maxNameBytes', ctx.limits.maxNameBytes, `its paths and link targets add up to more than ${ctx.limits.maxNameBytes} bytes`);
  }
}

/** An entry the file system refuses because of another entry: the archive's fault, said by name. */
function clash(err: unknown, digest: string, name: string): unknown {
  const code = (err as NodeJS.ErrnoException).code;
  if (err instanceof InvalidInputError || !code || !ENTRY_CLASHES.has(code)) return err;
  const why =
    code === 'EEXIST' ? 'its path is already taken by an earlier entry' :
    code === 'ENOTDIR' ? 'a parent of it is a file, not a directory' :
    code === 'EISDIR' ? 'its path is already a directory' :
    code === 'ENAMETOOLONG' ? 'its path is too long for the file system' :
    code === 'ELOOP' ? 'its path loops through symlinks' :
    'the file system cannot create that name';
  return unsafe(digest, name, `${why} (${code})`);
}

/** Maps what the reader and zlib throw; file-system errors are not the artifact's fault and pass. */
function fromArchive(err: unknown, digest: string): unknown {
  if (err instanceof TarLimitError) return overLimit(digest, err.limit, err.value, err.message);
  if (err instanceof TarFormatError) return corrupt(digest, err);
  const code = (err as NodeJS.ErrnoException).code;
  if (typeof code === 'string' && code.startsWith('Z_')) return corrupt(digest, err); // zlib: not gzip, or damaged
  return err;
}

/**
 * Dirs the archive did not list (made for the files in them) and the root get their mode from the
 * umask, which the platform keeps at 077; the instance's uid must still read and enter them.
 */
async function makeReadable(dir: string): Promise<void> {
  const stat = await lstat(dir);
  if ((stat.mode & 0o555) !== 0o555) await chmod(dir, (stat.mode & 0o7777) | 0o555);
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    if (entry.isDirectory()) await makeReadable(join(dir, entry.name));
  }
}

async function hasLinkedParent(root: string, rel: string): Promise<boolean> {
  const segments = rel.split('/');
  for (let i = 1; i < segments.length; i++) {
    const stat = await lstat(join(root, ...segments.slice(0, i))).catch(() => undefined);
    if (!stat) return false; // missing from here down: mkdir creates plain directories
    if (stat.isSymbolicLink()) return true;
  }
  return false;
}

/**
 * Follows `rel` as the kernel would (each symlink replaced by its target, `..` taken physically),
 * treating the rest of the path lexically once a component does not exist. False when the walk
 * leaves `root`; a loop is harmless (it never resolves) and counts as inside.
 */
async function resolvesInside(root: string, rel: string): Promise<boolean> {
  const todo = rel.split('/').reverse();
  const done: string[] = [];
  let hops = 0;
  let missing = false;
  while (todo.length > 0) {
    const segment = todo.pop()!;
    if (segment === '' || segment === '.') continue;
    if (segment === '..') {
      if (done.length === 0) return false;
      done.pop();
      continue;
    }
    const path = join(root, ...done, segment);
    if (!missing) {
      const stat = await lstat(path).catch(() => undefined);
      if (!stat) missing = true;
      else if (stat.isSymbolicLink()) {
        if (++hops > MAX_LINK_HOPS) return true;
        const target = await readlink(path);
        if (isAbsolute(target)) return false;
        todo.push(...target.split('/').reverse());
        continue;
      }
    }
    done.push(segment);
  }
  return true;
}

function unsafe(digest: string, name: string, why: string): InvalidInputError {
  return new InvalidInputError('artifact-unsafe-entry', `artifact ${digest} has an entry "${clip(name)}" that cannot be unpacked: ${why}; snapshots made by berth deploy never do, so re-pack the app and upload again`, {
    details: { digest, entry: clip(name) },
  });
}

function overLimit(digest: string, limit: keyof UnpackLimits, value: number, what: string, entry?: string): InvalidInputError {
  return new InvalidInputError(
    'artifact-over-limit',
    `artifact ${digest} is refused: ${what}, over the unpacking limit ${limit} = ${value} (${LIMIT_WHAT[limit]}); snapshots made by berth deploy stay within it, so re-pack the app (list large or generated files in .berthignore) and upload again`,
    { details: { digest, limit, value, ...(entry !== undefined ? { entry: clip(entry) } : {}) }, next: ['list large or generated files in .berthignore', 'berth deploy'] },
  );
}

function corrupt(digest: string, cause: unknown): InvalidInputError {
  return new InvalidInputError('artifact-corrupt', `artifact ${digest} is not a readable gzipped tar (${cause instanceof Error ? cause.message : String(cause)}); re-pack the app and upload again`, {
    details: { digest },
    cause,
  });
}
