// Embedded ArtifactStore: release snapshots as `<dir>/sha256/<hex>.tgz`, unpacked once into
// `<dir>/unpacked/<hex>/` for instances to run in. Artifacts arrive from outside (an upload), so
// every byte is checked against its digest and the unpacking against limits (snapshot-unpack.ts).
// The archive's mtime is its last use (upload, a deploy checking it, an unpack): the garbage
// collector (core/services/artifact-gc.ts) never removes one used within its grace period.
import { createHash, randomBytes } from 'node:crypto';
import { chmod, lstat, mkdir, readdir, realpath, rename, rm, utimes, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { InvalidInputError } from '../../core/errors.ts';
import type { ArtifactCollection, ArtifactStore, StoredArtifact } from '../../core/ports.ts';
import { DEFAULT_UNPACK_LIMITS, unpackSnapshot, type UnpackLimits } from './snapshot-unpack.ts';

const DIGEST = /^sha256:([0-9a-f]{64})$/;
const HEX = /^[0-9a-f]{64}$/;

export interface LocalArtifactStoreOptions {
  /** @default DEFAULT_UNPACK_LIMITS */
  limits?: Partial<UnpackLimits>;
}

export class LocalArtifactStore implements ArtifactStore, ArtifactCollection {
  readonly kind = 'snapshot' as const;
  private readonly unpacking = new Map<string, Promise<string>>();
  /** Unpacks not yet settled: the collector leaves those artifacts alone. */
  private readonly inFlight = new Set<string>();
  private readonly limits: UnpackLimits;

  constructor(
    private readonly dir: string,
    options: LocalArtifactStoreOptions = {},
  ) {
    this.limits = { ...DEFAULT_UNPACK_LIMITS, ...options.limits };
  }

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

  /** Counts as a use: a deploy checks this just before it writes the release that references it. */
  async has(digest: string): Promise<boolean> {
    return this.touch(parseDigest(digest));
  }

  unpack(digest: string): Promise<string> {
    const hex = parseDigest(digest);
    let pending = this.unpacking.get(hex);
    if (!pending) {
      this.inFlight.add(hex);
      pending = this.unpackOnce(digest, hex).finally(() => this.inFlight.delete(hex));
      this.unpacking.set(hex, pending);
      // A failed unpack may be retried; a successful one is remembered.
      pending.catch(() => this.unpacking.delete(hex));
    }
    return pending.then(async (dir) => {
      await this.touch(hex);
      return dir;
    });
  }

  async list(): Promise<StoredArtifact[]> {
    const used = new Map<string, number>();
    const note = (hex: string, at: number) => used.set(hex, Math.max(used.get(hex) ?? 0, at));
    for (const name of await readdirOrEmpty(join(this.dir, 'sha256'))) {
      const hex = name.endsWith('.tgz') ? name.slice(0, -4) : '';
      if (HEX.test(hex)) note(hex, (await statOrUndefined(join(this.dir, 'sha256', name)))?.mtimeMs ?? 0);
    }
    // A tree whose archive is gone is still listed, so that it can be collected too.
    for (const name of await readdirOrEmpty(join(this.dir, 'unpacked'))) {
      if (HEX.test(name) && !used.has(name)) note(name, (await statOrUndefined(join(this.dir, 'unpacked', name)))?.mtimeMs ?? 0);
    }
    return [...used].map(([hex, at]) => ({ digest: `sha256:${hex}`, lastUsedAt: new Date(at) }));
  }

  async remove(digest: string, unusedSince: Date): Promise<boolean> {
    const hex = parseDigest(digest);
    if (this.inFlight.has(hex)) return false;
    const archive = await statOrUndefined(this.archivePath(hex));
    if (archive && archive.mtimeMs > unusedSince.getTime()) return false;
    this.unpacking.delete(hex);
    const tree = join(this.dir, 'unpacked', hex);
    if (await exists(tree)) {
      // Renamed away first: from here on unpack() sees no tree and would make a fresh one.
      const trash = join(this.dir, 'unpacked', `.trash-${hex}-${randomBytes(4).toString('hex')}`);
      await rename(tree, trash);
      await removeTree(trash);
    }
    await rm(this.archivePath(hex), { force: true });
    return true;
  }

  /** Half-written uploads and unpacks a killed platform left behind, older than `unusedSince`. */
  async removeLeftovers(unusedSince: Date): Promise<string[]> {
    const removed: string[] = [];
    for (const [sub, leftover] of [['sha256', /\.tmp$/], ['unpacked', /^\.(tmp|trash)-/]] as const) {
      for (const name of await readdirOrEmpty(join(this.dir, sub))) {
        const path = join(this.dir, sub, name);
        const info = leftover.test(name) ? await statOrUndefined(path) : undefined;
        if (!info || info.mtimeMs > unusedSince.getTime()) continue;
        await removeTree(path);
        removed.push(`${sub}/${name}`);
      }
    }
    return removed;
  }

  private archivePath(hex: string): string {
    return join(this.dir, 'sha256', `${hex}.tgz`);
  }

  /** Marks the archive used now; false when there is none. */
  private async touch(hex: string): Promise<boolean> {
    const now = new Date();
    try {
      await utimes(this.archivePath(hex), now, now);
      return true;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return false;
      throw err;
    }
  }

  private async unpackOnce(digest: string, hex: string): Promise<string> {
    const target = join(this.dir, 'unpacked', hex);
    // Only complete trees are ever renamed into place, so an existing directory is a finished one.
    if (await exists(target)) return target;
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
      await unpackSnapshot(this.archivePath(hex), await realpath(temp), digest, this.limits);
      await rename(temp, target);
    } catch (err) {
      // Best effort: a failed clean-up must not hide why the unpack failed.
      await removeTree(temp).catch(() => {});
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
  return (await statOrUndefined(path)) !== undefined;
}

async function statOrUndefined(path: string) {
  try {
    return await lstat(path);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
}

async function readdirOrEmpty(dir: string): Promise<string[]> {
  try {
    return await readdir(dir);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw err;
  }
}

/** Unpacked trees are read-only (dirs 0555): without root, entries go only once their dir is writable. */
async function removeTree(path: string): Promise<void> {
  const info = await statOrUndefined(path);
  if (!info) return;
  if (info.isDirectory()) {
    if ((info.mode & 0o700) !== 0o700) await chmod(path, 0o700);
    for (const name of await readdir(path)) await removeTree(join(path, name));
  }
  await rm(path, { recursive: true, force: true });
}
