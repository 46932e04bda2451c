// The console's deploy packs its in-browser workspace; the CLI packs a directory. Both must give
// the same bytes, hence the same digest, for the same files: one artifact, whichever channel
// uploaded it. And the archive must stay the tar that tar-stream wrote before (the server unpacks
// with tar-stream).
import { createHash } from 'node:crypto';
import { chmod, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { pack as tarPack, type Header } from 'tar-stream';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { archiveSnapshot, type SnapshotEntry } from '../cli/core/snapshot-archive.ts';
import { packSnapshot } from '../cli/lib/pack-snapshot.ts';
import { packWorkspace } from '../console/src/pack-snapshot.ts';
import { Workspace } from '../console/src/workspace.ts';

let work: string;

beforeEach(async () => {
  work = await mkdtemp(join(tmpdir(), 'berth-console-snapshot-'));
});

afterEach(async () => {
  await rm(work, { recursive: true, force: true });
});

const FILES: Record<string, string> = {
  'berth.yaml': 'app: hello\nworkloads:\n  web:\n    command: ["node", "server.js"]\n    ports: [8080]\n',
  'server.js': "import('node:http').then(({ createServer }) => createServer((q, s) => s.end('hi')).listen(process.env.PORT));\n",
  'src/lib/util.js': 'export const answer = 42;\n',
  'src/ünïcode-näme.txt': 'pax path\n',
  [`deep/${'d'.repeat(90)}/${'e'.repeat(60)}.js`]: 'a ustar prefix\n',
  'logs/debug.log': 'ignored, but its directory is not\n',
  'tmp/cache.bin': 'ignored with its directory\n',
  '.berthignore': '*.log\ntmp/\n',
};

/** The same files on disk, with the modes the workspace gives (0644 files, 0755 directories). */
async function writeTree(root: string): Promise<void> {
  for (const [path, text] of Object.entries(FILES)) {
    const file = join(root, path);
    await mkdir(dirname(file), { recursive: true });
    await writeFile(file, text);
    await chmod(file, 0o644);
  }
  for (const dir of ['src', 'src/lib', 'deep', `deep/${'d'.repeat(90)}`, 'logs', 'tmp']) await chmod(join(root, dir), 0o755);
  await chmod(root, 0o755);
}

describe('the console packs its workspace as the CLI packs a directory', () => {
  it('gives the same digest and bytes for the same files, .berthignore applied alike', async () => {
    await writeTree(work);
    const fromDisk = await packSnapshot(work);

    const workspace = new Workspace();
    for (const [path, text] of Object.entries(FILES)) workspace.write(path, text);
    const fromBrowser = await packWorkspace(workspace, '/workspace');

    expect(fromBrowser.digest).toBe(fromDisk.digest);
    expect(Buffer.from(fromBrowser.bytes).equals(Buffer.from(fromDisk.bytes))).toBe(true);
    expect(fromBrowser.files).toBe(fromDisk.files);
    expect(fromBrowser.digest).toBe(`sha256:${createHash('sha256').update(fromBrowser.bytes).digest('hex')}`);
  });

  it('changes the digest when one file changes, in both', async () => {
    const workspace = new Workspace();
    for (const [path, text] of Object.entries(FILES)) workspace.write(path, text);
    const before = await packWorkspace(workspace, '.');
    workspace.write('server.js', `${FILES['server.js']}// edited\n`);
    expect((await packWorkspace(workspace, '.')).digest).not.toBe(before.digest);
  });

  it('refuses a directory the workspace does not have, as the CLI refuses a missing one', async () => {
    await expect(packWorkspace(new Workspace(), 'app')).rejects.toMatchObject({ code: 'snapshot-dir-missing' });
  });
});

describe('the archive is the tar tar-stream writes', () => {
  it('writes the same headers and padding, long and non-ASCII names and link targets included', async () => {
    const entries: (SnapshotEntry & { data?: string })[] = [
      { path: 'a.txt', type: 'file', mode: 0o644, size: 5, data: 'hello' },
      { path: 'bin', type: 'directory', mode: 0o755, size: 0 },
      { path: 'bin/run', type: 'file', mode: 0o755, size: 3, data: 'run' },
      { path: 'bin/link', type: 'symlink', mode: 0o777, size: 0, linkname: '../a.txt' },
      { path: `${'x'.repeat(120)}/${'y'.repeat(95)}`, type: 'file', mode: 0o644, size: 4, data: 'long' },
      { path: 'ünï.txt', type: 'file', mode: 0o600, size: 1, data: 'u' },
      { path: 'far', type: 'symlink', mode: 0o777, size: 0, linkname: `${'q/'.repeat(55)}${'../'.repeat(55)}a.txt` },
      { path: 'big', type: 'file', mode: 0o644, size: 1300, data: 'z'.repeat(1300) },
    ];
    const ours = await archiveSnapshot(entries, async (p) => new TextEncoder().encode(entries.find((e) => e.path === p)!.data!));
    const reference = await tarStream(entries);
    expect(Buffer.from(gunzipSync(ours.bytes)).equals(reference)).toBe(true);
  });
});

async function tarStream(entries: (SnapshotEntry & { data?: string })[]): Promise<Buffer> {
  const pack = tarPack();
  const chunks: Buffer[] = [];
  const ended = new Promise<void>((resolve, reject) => {
    pack.on('data', (c) => chunks.push(c as Buffer));
    pack.on('end', resolve);
    pack.on('error', reject);
  });
  for (const e of entries) {
    const header: Header = { name: e.path, type: e.type, mode: e.mode, mtime: new Date(0), uid: 0, gid: 0, uname: '', gname: '', size: 0, linkname: e.linkname ?? '', devmajor: 0, devminor: 0 };
    await new Promise<void>((resolve, reject) => {
      const done = (err?: Error | null) => (err ? reject(err) : resolve());
      if (e.data !== undefined) pack.entry(header, Buffer.from(e.data), done);
      else pack.entry(header, done);
    });
  }
  pack.finalize();
  await ended;
  return Buffer.concat(chunks);
}
