// Embedded ArtifactStore: release snapshots as `<dir>/sha256/<hex>.tgz`, unpacked once into
// `<dir>/unpacked/<hex>/` for instances to run in. Artifacts arrive from outside (an upload), so
// every byte is checked against its digest and every tar entry against the tree it lands in.
import { createHash, randomBytes } from 'node:crypto';
import { lstat, mkdir, readdir, readFile, readlink, realpath, rename, rm, symlink, chmod, writeFile } from 'node:fs/promises';
import { dirname, isAbsolute, join, posix, sep } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { extract as tarExtract } from 'tar-stream';
import { InvalidInputError, NotFoundError } from '../../core/errors.ts';
import type { ArtifactStore } from '../../core/ports.ts';

const DIGEST = /^sha256:([0-9a-f]{64})$/;
/** Symlink hops followed before a chain is treated as a loop (Linux's MAXSYMLINKS). */
const MAX_LINK_HOPS = 40;
/** Refuse to inflate past this: snapshots are capped at 200 MiB of content, so more is a gzip bomb. */
const MAX_TAR_BYTES = 1024 * 1024 * 1024;

export class LocalArtifactStore implements ArtifactStore {
  readonly kind = 'snapshot' as const;
  private readonly unpacking = new Map<string, Promise<string>>();

  constructor(private readonly dir: string) {}

  async put(digest: string, bytes: Uint8Array): Promise<void> {
    const hex = parseDigest(digest);
    const actual = createHash('sha256').update(bytes).digest('hex');
    if (actual !== hex) {
      throw new InvalidInputError(
        'digest-mismatch',
        `artifact bytes hash to sha256:${actual}, not the expected ${digest}; the upload was cut short or altered, or the digest belongs to another snapshot: pack and upload again`,
        { details: { expected: digest, actual: `sha256:${actual}` } },
      );
    }
    if (await this.has(digest)) return;
    const target = this.archivePath(hex);
    await mkdir(dirname(target), { recursive: true });
    // Write beside the target, then rename: a reader never sees a half-written archive.
    const temp = `${target}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
    try {
      await writeFile(temp, bytes, { mode: 0o644 });
      await rename(temp, target);
    } catch (err) {
      await rm(temp, { force: true });
      throw err;
    }
  }

  async has(digest: string): Promise<boolean> {
    return exists(this.archivePath(parseDigest(digest)));
  }

  unpack(digest: string): Promise<string> {
    const hex = parseDigest(digest);
    let pending = this.unpacking.get(hex);
    if (!pending) {
      pending = this.unpackOnce(digest, hex);
      this.unpacking.set(hex, pending);
      // A failed unpack may be retried; a successful one is remembered.
      pending.catch(() => this.unpacking.delete(hex));
    }
    return pending;
  }

  private archivePath(hex: string): string {
    return join(this.dir, 'sha256', `${hex}.tgz`);
  }

  private async unpackOnce(digest: string, hex: string): Promise<string> {
    const target = join(this.dir, 'unpacked', hex);
    // Only complete trees are ever renamed into place, so an existing directory is a finished one.
    if (await exists(target)) return target;
    let bytes: Buffer;
    try {
      bytes = await readFile(this.archivePath(hex));
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
      throw new NotFoundError('artifact-not-found', `no artifact ${digest} in the local store; upload the snapshot again (berth deploy packs and uploads it)`, {
        details: { digest },
      });
    }
    await mkdir(dirname(target), { recursive: true });
    // Node takes a script's module type from the nearest package.json above it. Unsandboxed, a
    // release runs from this dir, perhaps inside the platform's own checkout ("type": "module"):
    // an empty one here ends the search, so a release without its own behaves as it does alone.
    await writeFile(join(dirname(target), 'package.json'), '{}\n', { flag: 'wx' }).catch((err: NodeJS.ErrnoException) => {
      if (err.code !== 'EEXIST') throw err;
    });
    const temp = join(this.dir, 'unpacked', `.tmp-${hex}-${process.pid}-${randomBytes(4).toString('hex')}`);
    try {
      await mkdir(temp);
      await extractInto(await realpath(temp), bytes, digest);
      await rename(temp, target);
    } catch (err) {
      // Best effort: a failed clean-up must not hide why the unpack failed.
      await rm(temp, { recursive: true, force: true }).catch(() => {});
      // Another process finished the same artifact first: its tree is as good as ours.
      const code = (err as NodeJS.ErrnoException).code;
      if ((code === 'ENOTEMPTY' || code === 'EEXIST') && (await exists(target))) return target;
      throw err;
    }
    return target;
  }
}

function parseDigest(digest: string): string {
  const match = DIGEST.exec(digest);
  if (!match) {
    throw new InvalidInputError('invalid-digest', `"${digest}" is not an artifact digest; expected "sha256:" followed by 64 lowercase hex digits`, {
      details: { digest },
    });
  }
  return match[1]!;
}

async function exists(path: string): Promise<boolean> {
  try {
    await lstat(path);
    return true;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return false;
    throw err;
  }
}

interface PendingLink {
  rel: string;
  linkname: string;
}

/**
 * Extracts a gzipped tar into `root` (a fresh, real path). Files and directories are written first
 * and symlinks last, so no entry is ever written through a link; then every link is resolved the
 * way the kernel would and must stay inside the tree. Directory modes are applied at the very end,
 * so a read-only directory can still be filled.
 */
async function extractInto(root: string, bytes: Buffer, digest: string): Promise<void> {
  const links: PendingLink[] = [];
  const dirModes: { path: string; mode: number }[] = [];
  const extract = tarExtract();
  try {
    extract.end(inflate(bytes, digest));
    for await (const entry of extract) {
      const { header } = entry;
      const rel = entryPath(header.name, digest);
      const path = rel === '' ? root : join(root, rel);
      if (rel !== '' && !path.startsWith(root + sep)) throw unsafe(digest, header.name, 'its path leaves the snapshot');
      // Readable by all: a sandboxed instance runs as a uid of its env's (see sandbox/env-uids.ts),
      // not as the platform's user that unpacked it. Nobody writes a release after this.
      const mode = (header.mode & 0o755) | (header.type === 'directory' ? 0o555 : header.mode & 0o100 ? 0o555 : 0o444);
      if (header.type === 'directory') {
        await mkdir(path, { recursive: true });
        if (rel !== '') dirModes.push({ path, mode });
        entry.resume();
      } else if (header.type === 'file' || header.type === 'contiguous-file') {
        if (rel === '') throw unsafe(digest, header.name, 'a file cannot replace the snapshot root');
        const chunks: Buffer[] = [];
        for await (const chunk of entry) chunks.push(chunk as Buffer);
        await mkdir(dirname(path), { recursive: true });
        await writeFile(path, Buffer.concat(chunks));
        await chmod(path, mode); // writeFile's mode is filtered by the umask; the packed mode is not
      } else if (header.type === 'symlink') {
        if (rel === '') throw unsafe(digest, header.name, 'a symlink cannot replace the snapshot root');
        const linkname = header.linkname ?? '';
        if (linkname === '' || isAbsolute(linkname) || posix.isAbsolute(linkname)) throw unsafe(digest, header.name, `it is a symlink to the absolute path "${linkname}"`);
        links.push({ rel, linkname });
        entry.resume();
      } else {
        throw unsafe(digest, header.name, `entries of type ${header.type} are not allowed in a snapshot`);
      }
    }
  } catch (err) {
    // tar-stream's parse errors carry no code; file-system errors do and are not the artifact's fault.
    if (err instanceof Error && !(err instanceof InvalidInputError) && (err as NodeJS.ErrnoException).code === undefined) throw corrupt(digest, err);
    throw err;
  }

  links.sort((a, b) => (a.rel < b.rel ? -1 : a.rel > b.rel ? 1 : 0));
  for (const link of links) {
    const path = join(root, link.rel);
    // Checked before mkdir: through a linked directory, both would land wherever that link points.
    if (await hasLinkedParent(root, link.rel)) throw unsafe(digest, link.rel, 'it sits inside a symlinked directory');
    await mkdir(dirname(path), { recursive: true });
    await symlink(link.linkname, path);
  }
  for (const link of links) {
    if (!(await resolvesInside(root, link.rel))) throw unsafe(digest, link.rel, `it is a symlink to "${link.linkname}", outside the snapshot`);
  }
  for (const { path, mode } of dirModes.reverse()) await chmod(path, mode);
  await makeReadable(root);
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

/** The entry's path relative to the root, `/`-separated; '' for the root itself. */
function entryPath(name: string, digest: string): string {
  if (name.includes('\0')) throw unsafe(digest, name, 'its path contains a NUL byte');
  if (name.startsWith('/') || /^[A-Za-z]:/.test(name)) throw unsafe(digest, name, 'its path is absolute');
  const segments = name.split('/').filter((s) => s !== '' && s !== '.');
  if (segments.includes('..')) throw unsafe(digest, name, 'its path climbs out of the snapshot with ".."');
  return segments.join('/');
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

function inflate(bytes: Buffer, digest: string): Buffer {
  try {
    return gunzipSync(bytes, { maxOutputLength: MAX_TAR_BYTES });
  } catch (err) {
    throw corrupt(digest, err);
  }
}

function unsafe(digest: string, name: string, why: string): InvalidInputError {
  return new InvalidInputError('artifact-unsafe-entry', `artifact ${digest} has an entry "${name}" that cannot be unpacked: ${why}; snapshots made by berth deploy never do, so re-pack the app and upload again`, {
    details: { digest, entry: name },
  });
}

function corrupt(digest: string, cause: unknown): InvalidInputError {
  return new InvalidInputError('artifact-corrupt', `artifact ${digest} is not a readable gzipped tar (${cause instanceof Error ? cause.message : String(cause)}); re-pack the app and upload again`, {
    details: { digest },
    cause,
  });
}
