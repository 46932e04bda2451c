import { createHash } from 'node:crypto';
import { chmod, lstat, mkdir, mkdtemp, readdir, readFile, readlink, rm, stat, symlink, truncate, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { gunzipSync, gzipSync } from 'node:zlib';
import { extract as tarExtract, pack as tarPack, type Header } from 'tar-stream';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ignoreMatcher, packSnapshot } from '../cli/lib/pack-snapshot.ts';
import { LocalArtifactStore } from '../functions/drivers/local/artifact-store.ts';
import { BerthError } from '../functions/core/errors.ts';

let work: string;

beforeEach(async () => {
  work = await mkdtemp(join(tmpdir(), 'berth-snapshot-'));
});

afterEach(async () => {
  await rm(work, { recursive: true, force: true });
});

async function put(root: string, rel: string, content: string, mode?: number): Promise<void> {
  const path = join(root, rel);
  await mkdir(dirname(path), { recursive: true });
  await writeFile(path, content);
  if (mode !== undefined) await chmod(path, mode);
}

async function makeApp(): Promise<string> {
  const app = join(work, 'app');
  await put(app, 'package.json', '{"name":"demo"}\n');
  await put(app, 'server.js', 'console.log("hi")\n');
  await put(app, 'bin/start.sh', '#!/bin/sh\nexec node server.js\n', 0o755);
  await put(app, 'node_modules/dep/index.js', 'module.exports = 1\n');
  await symlink('../server.js', join(app, 'bin/server.js'));
  await put(app, '.git/HEAD', 'ref: refs/heads/main\n');
  await put(app, '.berth/state.json', '{}\n');
  return app;
}

async function tarEntries(bytes: Uint8Array): Promise<Header[]> {
  const extract = tarExtract();
  extract.end(gunzipSync(bytes));
  const headers: Header[] = [];
  for await (const entry of extract) {
    headers.push(entry.header);
    entry.resume();
  }
  return headers;
}

async function craftArtifact(entries: { header: Partial<Header> & { name: string }; body?: string }[]): Promise<{ digest: string; bytes: Uint8Array }> {
  const pack = tarPack();
  const chunks: Buffer[] = [];
  const ended = new Promise<void>((resolve, reject) => {
    pack.on('data', (c) => chunks.push(c as Buffer));
    pack.on('end', resolve);
    pack.on('error', reject);
  });
  for (const e of entries) {
    await new Promise<void>((resolve, reject) => {
      const done = (err?: Error | null) => (err ? reject(err) : resolve());
      if (e.body !== undefined) pack.entry(e.header, e.body, done);
      else pack.entry(e.header, done);
    });
  }
  pack.finalize();
  await ended;
  const bytes = gzipSync(Buffer.concat(chunks));
  return { bytes, digest: `sha256:${createHash('sha256').update(bytes).digest('hex')}` };
}

async function rejection(promise: Promise<unknown>): Promise<BerthError> {
  const err = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(BerthError);
  return err as BerthError;
}

describe('packSnapshot', () => {
  it('gives the same digest for the same tree, whatever the mtimes', async () => {
    const app = await makeApp();
    const first = await packSnapshot(app);
    await utimes(join(app, 'server.js'), new Date('2001-01-01'), new Date('2001-01-01'));
    const second = await packSnapshot(app);
    expect(second.digest).toBe(first.digest);
    expect(Buffer.from(second.bytes).equals(Buffer.from(first.bytes))).toBe(true);
    expect(first.digest).toMatch(/^sha256:[0-9a-f]{64}$/);
    expect(first.digest).toBe(`sha256:${createHash('sha256').update(first.bytes).digest('hex')}`);
  });

  it('writes a gzip header with mtime 0 and no file name', async () => {
    const { bytes } = await packSnapshot(await makeApp());
    expect([...bytes.subarray(0, 3)]).toEqual([0x1f, 0x8b, 8]);
    expect(bytes[3]! & 0x08).toBe(0); // FNAME flag
    expect([...bytes.subarray(4, 8)]).toEqual([0, 0, 0, 0]);
  });

  it('changes the digest when one byte of one file changes', async () => {
    const app = await makeApp();
    const before = await packSnapshot(app);
    await writeFile(join(app, 'server.js'), 'console.log("ho")\n');
    const after = await packSnapshot(app);
    expect(after.digest).not.toBe(before.digest);
  });

  it('writes entries sorted by path with owner 0 and mtime 0, directories included', async () => {
    const headers = await tarEntries((await packSnapshot(await makeApp())).bytes);
    const names = headers.map((h) => h.name);
    expect(names).toEqual([...names].sort());
    expect(names).toContain('bin');
    expect(names).toContain('node_modules/dep/index.js');
    for (const h of headers) {
      expect(h.uid).toBe(0);
      expect(h.gid).toBe(0);
      expect(h.uname).toBe('');
      expect(h.mtime.getTime()).toBe(0);
    }
  });

  it('leaves out .git, .berth and what .berthignore lists', async () => {
    const app = await makeApp();
    await put(app, 'logs/today.log', 'x');
    await put(app, 'debug.log', 'x');
    await put(app, 'keep.log', 'x');
    await put(app, 'dist/out.js', 'x');
    await put(app, 'packages/web/dist/out.js', 'x');
    await put(app, 'dist-notes.txt', 'x');
    await put(app, 'secret.txt', 'x');
    await put(app, 'docs/secret.txt', 'x');
    await put(app, 'docs/a/b/notes.md', 'x');
    await put(app, 'docs/readme.txt', 'x');
    await put(app, 'tmp', 'a file named tmp survives a directory-only pattern');
    await put(app, 'sub/.git', 'gitdir: ../.git/modules/sub\n');
    await put(
      app,
      '.berthignore',
      ['# build output', '*.log', '!keep.log', 'dist/', '/secret.txt', 'docs/**/*.md', 'tmp/', ''].join('\n'),
    );
    const { bytes } = await packSnapshot(app);
    const names = (await tarEntries(bytes)).map((h) => h.name);
    expect(names).not.toContain('.git');
    expect(names.some((n) => n.startsWith('.git/') || n === '.berth' || n.startsWith('.berth/'))).toBe(false);
    expect(names).not.toContain('sub/.git');
    expect(names).not.toContain('debug.log');
    expect(names).not.toContain('logs/today.log');
    expect(names).toContain('keep.log');
    expect(names).not.toContain('dist');
    expect(names).not.toContain('packages/web/dist/out.js');
    expect(names).toContain('dist-notes.txt');
    expect(names).not.toContain('secret.txt');
    expect(names).toContain('docs/secret.txt');
    expect(names).not.toContain('docs/a/b/notes.md');
    expect(names).toContain('docs/readme.txt');
    expect(names).toContain('tmp');
    expect(names).toContain('.berthignore');
    expect(names).toContain('node_modules/dep/index.js');
  });

  it('matches ignore globs segment by segment', () => {
    const ignored = ignoreMatcher('a/*.js\n**/cache\n/build/**\n');
    expect(ignored('a/x.js', false)).toBe(true);
    expect(ignored('a/b/x.js', false)).toBe(false);
    expect(ignored('z/a/x.js', false)).toBe(true);
    expect(ignored('cache', true)).toBe(true);
    expect(ignored('deep/down/cache', true)).toBe(true);
    expect(ignored('build/x/y', false)).toBe(true);
    expect(ignored('src/build/x', false)).toBe(false);
  });

  it('refuses a tree above 200 MiB and points at .berthignore', async () => {
    const app = await makeApp();
    await put(app, 'media/big.bin', '');
    await truncate(join(app, 'media/big.bin'), 201 * 1024 * 1024); // sparse: no real disk use
    const err = await rejection(packSnapshot(app));
    expect(err.code).toBe('snapshot-too-large');
    expect(err.category).toBe('invalid-input');
    expect(err.message).toContain('.berthignore');
    expect(err.message).toContain('media');
  });

  it('refuses symlinks that point outside the app directory', async () => {
    const app = await makeApp();
    await symlink('/usr/bin/env', join(app, 'python'));
    const err = await rejection(packSnapshot(app));
    expect(err.code).toBe('snapshot-symlink-outside');
    expect(err.message).toContain('python -> /usr/bin/env');
  });
});

describe('LocalArtifactStore', () => {
  it('keeps the exec bit and symlinks through pack, put and unpack', async () => {
    const app = await makeApp();
    const snap = await packSnapshot(app);
    const store = new LocalArtifactStore(join(work, 'store'));
    expect(await store.has(snap.digest)).toBe(false);
    await store.put(snap.digest, snap.bytes);
    await store.put(snap.digest, snap.bytes); // idempotent
    expect(await store.has(snap.digest)).toBe(true);
    const dir = await store.unpack(snap.digest);
    expect(dir).toBe(join(work, 'store', 'unpacked', snap.digest.slice('sha256:'.length)));
    expect((await stat(join(dir, 'bin/start.sh'))).mode & 0o111).toBe(0o111);
    expect((await stat(join(dir, 'server.js'))).mode & 0o111).toBe(0);
    expect((await lstat(join(dir, 'bin/server.js'))).isSymbolicLink()).toBe(true);
    expect(await readlink(join(dir, 'bin/server.js'))).toBe('../server.js');
    expect(await readFile(join(dir, 'bin/server.js'), 'utf8')).toBe('console.log("hi")\n');
    expect(await readFile(join(dir, 'node_modules/dep/index.js'), 'utf8')).toBe('module.exports = 1\n');
  });

  it('rejects bytes whose sha256 is not the digest, naming both', async () => {
    const snap = await packSnapshot(await makeApp());
    const store = new LocalArtifactStore(join(work, 'store'));
    const wrong = `sha256:${'0'.repeat(64)}`;
    const err = await rejection(store.put(wrong, snap.bytes));
    expect(err.code).toBe('digest-mismatch');
    expect(err.message).toContain(wrong);
    expect(err.message).toContain(snap.digest);
    expect(await store.has(wrong)).toBe(false);
  });

  it('rejects a malformed digest', async () => {
    const store = new LocalArtifactStore(join(work, 'store'));
    const err = await rejection(store.has('md5:abc'));
    expect(err.code).toBe('invalid-digest');
  });

  it('answers not-found for an unknown digest', async () => {
    const store = new LocalArtifactStore(join(work, 'store'));
    const err = await rejection(store.unpack(`sha256:${'a'.repeat(64)}`));
    expect(err.category).toBe('not-found');
    expect(err.code).toBe('artifact-not-found');
  });

  it('rejects an entry whose path climbs out with ..', async () => {
    const store = new LocalArtifactStore(join(work, 'store'));
    const evil = await craftArtifact([
      { header: { name: 'ok.txt' }, body: 'fine' },
      { header: { name: '../evil' }, body: 'pwned' },
    ]);
    await store.put(evil.digest, evil.bytes);
    const err = await rejection(store.unpack(evil.digest));
    expect(err.code).toBe('artifact-unsafe-entry');
    expect(err.message).toContain('../evil');
    const unpacked = join(work, 'store', 'unpacked');
    // Only the package.json that bounds module resolution stays: the half-extracted tree is gone.
    expect(await readdir(unpacked)).toEqual(['package.json']);
    await expect(stat(join(unpacked, 'evil'))).rejects.toThrow();
    await expect(stat(join(work, 'store', 'evil'))).rejects.toThrow();
  });

  it('rejects an absolute entry path', async () => {
    const store = new LocalArtifactStore(join(work, 'store'));
    const evil = await craftArtifact([{ header: { name: '/tmp/evil' }, body: 'x' }]);
    await store.put(evil.digest, evil.bytes);
    expect((await rejection(store.unpack(evil.digest))).code).toBe('artifact-unsafe-entry');
  });

  it('rejects symlinks that point outside the tree, also through a chain of links', async () => {
    const store = new LocalArtifactStore(join(work, 'store'));
    const direct = await craftArtifact([{ header: { name: 'etc', type: 'symlink', linkname: '../../../etc' } }]);
    const absolute = await craftArtifact([{ header: { name: 'etc', type: 'symlink', linkname: '/etc' } }]);
    const chained = await craftArtifact([
      { header: { name: 'a/b', type: 'directory' } },
      { header: { name: 'a/b/up', type: 'symlink', linkname: '../..' } },
      { header: { name: 'escape', type: 'symlink', linkname: 'a/b/up/..' } },
    ]);
    for (const [artifact, culprit] of [[direct, 'etc'], [absolute, 'etc'], [chained, 'escape']] as const) {
      await store.put(artifact.digest, artifact.bytes);
      const err = await rejection(store.unpack(artifact.digest));
      expect(err.code).toBe('artifact-unsafe-entry');
      expect(err.message).toContain(`"${culprit}"`);
    }
  });

  it('rejects a symlink that would be created through another symlink', async () => {
    const store = new LocalArtifactStore(join(work, 'store'));
    const artifact = await craftArtifact([
      { header: { name: 'd', type: 'symlink', linkname: 'real' } },
      { header: { name: 'd/l', type: 'symlink', linkname: '.' } },
      { header: { name: 'real', type: 'directory' } },
    ]);
    await store.put(artifact.digest, artifact.bytes);
    const err = await rejection(store.unpack(artifact.digest));
    expect(err.code).toBe('artifact-unsafe-entry');
    expect(err.message).toContain('symlinked directory');

    // Through a link that leaves the tree, not even a directory may be created out there.
    const outward = await craftArtifact([
      { header: { name: 'd', type: 'symlink', linkname: '../../../escaped' } },
      { header: { name: 'd/x/l', type: 'symlink', linkname: '.' } },
    ]);
    await store.put(outward.digest, outward.bytes);
    expect((await rejection(store.unpack(outward.digest))).code).toBe('artifact-unsafe-entry');
    await expect(stat(join(work, 'escaped'))).rejects.toThrow();
  });

  it('reports a corrupt archive as invalid input', async () => {
    const store = new LocalArtifactStore(join(work, 'store'));
    const bytes = Buffer.from('not a gzip at all');
    const digest = `sha256:${createHash('sha256').update(bytes).digest('hex')}`;
    await store.put(digest, bytes);
    expect((await rejection(store.unpack(digest))).code).toBe('artifact-corrupt');
  });

  it('unpacks once when asked twice at the same time', async () => {
    const snap = await packSnapshot(await makeApp());
    const root = join(work, 'store');
    const store = new LocalArtifactStore(root);
    await store.put(snap.digest, snap.bytes);
    const [a, b] = await Promise.all([store.unpack(snap.digest), store.unpack(snap.digest)]);
    expect(a).toBe(b);
    expect(await readdir(join(root, 'unpacked'))).toEqual([snap.digest.slice('sha256:'.length), 'package.json']);
    // A second store on the same directory (another process) finds the finished tree.
    expect(await new LocalArtifactStore(root).unpack(snap.digest)).toBe(a);
  });
});
