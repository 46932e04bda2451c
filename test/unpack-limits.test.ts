// Archives built to hurt: the unpacker streams them with bounded memory and refuses them with
// invalid-input naming the limit, never a server path.
import { spawn } from 'node:child_process';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { BerthError } from '../functions/core/errors.ts';
import { LocalArtifactStore } from '../functions/drivers/local/artifact-store.ts';
import { DEFAULT_UNPACK_LIMITS } from '../functions/drivers/local/snapshot-unpack.ts';
import { createReadyEnv, envPath, freePort, manifestFor, startOpsPlatform } from './support/ops-harness.ts';
import { artifact, blocks, END_OF_ARCHIVE, gzipParts, paxRecord, rawHeader, zerosMember } from './support/hostile-tar.ts';

const CHILD = fileURLToPath(new URL('./support/unpack-child.ts', import.meta.url));
const MiB = 1024 * 1024;
let work: string;

beforeEach(async () => {
  work = await mkdtemp(join(tmpdir(), 'berth-unpack-'));
});

afterEach(async () => {
  await rm(work, { recursive: true, force: true });
});

interface ChildReport {
  error?: { code: string; category: string; message: string; details: Record<string, unknown> };
  baselineRssBytes: number;
  peakRssBytes: number;
  maxLagMs: number;
  seconds: number;
}

/** Puts the archive in a store and unpacks it in a child process, which reports its peak RSS. */
async function unpackInChild(bomb: { bytes: Buffer; digest: string }): Promise<ChildReport> {
  const dir = join(work, 'store');
  await new LocalArtifactStore(dir).put(bomb.digest, bomb.bytes);
  const child = spawn(process.execPath, ['--import', 'tsx', CHILD, dir, bomb.digest], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => (stdout += d));
  child.stderr.on('data', (d: Buffer) => (stderr += d));
  const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
  expect(code, stderr).toBe(0);
  return JSON.parse(stdout) as ChildReport;
}

async function refusal(store: LocalArtifactStore, a: { bytes: Buffer; digest: string }): Promise<BerthError> {
  await store.put(a.digest, a.bytes);
  const err = await store.unpack(a.digest).then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(BerthError);
  return err as BerthError;
}

/** `count` files of `size` zeros each, as gzip members: one compressed body reused. */
function filesBomb(count: number, size: number): { bytes: Buffer; digest: string } {
  const zeros = zerosMember(size);
  const members: Buffer[] = [];
  for (let i = 0; i < count; i++) members.push(gzipParts([rawHeader({ name: `zeros-${i}.bin`, typeflag: '0', size })]), zeros);
  members.push(gzipParts([END_OF_ARCHIVE]));
  return artifact(members);
}

describe('streaming unpack of hostile archives', () => {
  it('unpacks a gzip bomb of files with flat memory and refuses it at the inflated-bytes limit', async () => {
    // 20 files of 64 MiB: 1.25 GiB inflated from about 1.3 MB. The old unpacker inflated it whole, in memory.
    const bomb = filesBomb(20, 64 * MiB);
    expect(bomb.bytes.length).toBeLessThan(2 * MiB);
    const report = await unpackInChild(bomb);
    console.log(`files bomb: ${bomb.bytes.length} bytes → 1280 MiB; peak RSS ${Math.round(report.peakRssBytes / MiB)} MiB (baseline ${Math.round(report.baselineRssBytes / MiB)} MiB), longest loop stall ${report.maxLagMs} ms, ${report.seconds.toFixed(2)} s`);
    expect(report.error).toMatchObject({ category: 'invalid-input', code: 'artifact-over-limit', details: { limit: 'maxInflatedBytes', value: DEFAULT_UNPACK_LIMITS.maxInflatedBytes } });
    expect(report.error!.message).toContain(`maxInflatedBytes = ${DEFAULT_UNPACK_LIMITS.maxInflatedBytes}`);
    expect(report.error!.message).not.toContain(work);
    expect(report.peakRssBytes).toBeLessThan(200 * MiB);
    // Nothing of the refused tree is left behind.
    expect(await readdir(join(work, 'store', 'unpacked'))).toEqual(['package.json']);
  });

  it('streams a flood of maximal pax headers with flat memory and refuses it at the inflated-bytes limit', async () => {
    // 64 KiB pax global headers, each under the header limit, 16,384 of them: 1 GiB that writes nothing.
    const record = paxRecord('comment', 'x'.repeat(DEFAULT_UNPACK_LIMITS.maxHeaderBytes - 20));
    const one = gzipParts([rawHeader({ name: 'pax_global_header', typeflag: 'g', size: record.length }), blocks(record)]);
    const bomb = artifact([...Array.from({ length: 16_384 }, () => one), gzipParts([END_OF_ARCHIVE])]);
    const report = await unpackInChild(bomb);
    console.log(`pax flood: ${bomb.bytes.length} bytes → 1 GiB; peak RSS ${Math.round(report.peakRssBytes / MiB)} MiB, longest loop stall ${report.maxLagMs} ms, ${report.seconds.toFixed(2)} s`);
    expect(report.error).toMatchObject({ code: 'artifact-over-limit', details: { limit: 'maxInflatedBytes' } });
    expect(report.peakRssBytes).toBeLessThan(200 * MiB);
  });

  it('refuses a file whose declared size alone passes the limit before writing a byte of it', async () => {
    const store = new LocalArtifactStore(join(work, 'store'));
    // Only the header is needed: nothing after it is read.
    const header = rawHeader({ name: 'zeros-0.bin', typeflag: '0', size: DEFAULT_UNPACK_LIMITS.maxInflatedBytes });
    const err = await refusal(store, artifact([gzipParts([header]), zerosMember(MiB)]));
    expect(err).toMatchObject({ category: 'invalid-input', code: 'artifact-over-limit', details: { limit: 'maxInflatedBytes' } });
    expect(err.message).toContain('"zeros-0.bin" declares 536870912 bytes');
  });

  it('refuses a huge GNU long-name header without buffering it', async () => {
    // The 306 KB archive of the attack: a long-name header that declares 700 MB, and zeros after it.
    const size = 700_000_000;
    const bomb = artifact([gzipParts([rawHeader({ name: '././@LongLink', typeflag: 'L', size })]), zerosMember(64 * MiB), gzipParts([END_OF_ARCHIVE])]);
    const store = new LocalArtifactStore(join(work, 'store'));
    const err = await refusal(store, bomb);
    expect(err).toMatchObject({ category: 'invalid-input', code: 'artifact-over-limit', details: { limit: 'maxHeaderBytes', value: 65536 } });
    expect(err.message).toContain(`a GNU long-name header of ${size} bytes`);
    expect(err.message).toContain('maxHeaderBytes = 65536');
  });

  it('refuses a pax header over the header limit', async () => {
    const record = paxRecord('path', 'a'.repeat(70_000));
    const err = await refusal(new LocalArtifactStore(join(work, 'store')), artifact([gzipParts([rawHeader({ name: 'PaxHeader', typeflag: 'x', size: record.length }), blocks(record), END_OF_ARCHIVE])]));
    expect(err.details).toMatchObject({ limit: 'maxHeaderBytes' });
    expect(err.message).toContain('a pax header of');
  });

  it('refuses a path over the length limit and one deeper than the depth limit, naming the entry', async () => {
    const store = new LocalArtifactStore(join(work, 'store'));
    const long = `${'d/'.repeat(10)}${'n'.repeat(5000)}`;
    const name = Buffer.from(`${long}\0`);
    const longName = artifact([gzipParts([rawHeader({ name: '././@LongLink', typeflag: 'L', size: name.length }), blocks(name), rawHeader({ name: 'short', typeflag: '0', size: 0 }), END_OF_ARCHIVE])]);
    const err = await refusal(store, longName);
    expect(err.details).toMatchObject({ limit: 'maxPathBytes', value: 4096 });
    expect(err.message).toContain(`path of ${long.length} bytes`);

    const deep = Buffer.from(`${'d/'.repeat(200)}f`);
    const pax = paxRecord('path', deep.toString());
    const deepArchive = artifact([gzipParts([rawHeader({ name: 'PaxHeader', typeflag: 'x', size: pax.length }), blocks(pax), rawHeader({ name: 'f', typeflag: '0', size: 0 }), END_OF_ARCHIVE])]);
    const deepErr = await refusal(store, deepArchive);
    expect(deepErr.details).toMatchObject({ limit: 'maxPathDepth', value: 128 });
    expect(deepErr.message).toContain('201 levels deep');
  });

  it('refuses an archive with more entries than the entry limit', async () => {
    const store = new LocalArtifactStore(join(work, 'store'), { limits: { maxEntries: 50 } });
    const entries = Array.from({ length: 51 }, (_, i) => rawHeader({ name: `f${i}`, typeflag: '0', size: 0 }));
    const err = await refusal(store, artifact([gzipParts([...entries, END_OF_ARCHIVE])]));
    expect(err).toMatchObject({ code: 'artifact-over-limit', details: { limit: 'maxEntries', value: 50 } });
    expect(err.message).toContain('more than 50 entries');
    // 50 entries are within the limit.
    const ok = await new LocalArtifactStore(join(work, 'other'), { limits: { maxEntries: 50 } });
    const fifty = artifact([gzipParts([...entries.slice(0, 50), END_OF_ARCHIVE])]);
    await ok.put(fifty.digest, fifty.bytes);
    expect((await readdir(await ok.unpack(fifty.digest))).length).toBe(50);
  });

  it('names entries the file system cannot create by their archive path, never a server path', async () => {
    const store = new LocalArtifactStore(join(work, 'store'));
    const cases: [string, Buffer[], RegExp][] = [
      ['file under a file', [rawHeader({ name: 'a', typeflag: '0', size: 0 }), rawHeader({ name: 'a/b', typeflag: '0', size: 0 })], /"a\/b".*already taken/],
      ['the same path twice', [rawHeader({ name: 'a', typeflag: '0', size: 0 }), rawHeader({ name: 'a', typeflag: '0', size: 0 })], /"a".*already taken/],
      ['a symlink over a directory', [rawHeader({ name: 'd', typeflag: '5', size: 0 }), rawHeader({ name: 'd', typeflag: '2', size: 0, linkname: 'x' })], /"d".*already taken/],
      ['a device', [rawHeader({ name: 'dev/sda', typeflag: '4', size: 0 })], /"dev\/sda".*block-device entries are not allowed/],
      ['a hard link', [rawHeader({ name: 'h', typeflag: '1', size: 0, linkname: '/etc/passwd' })], /"h".*hardlink entries are not allowed/],
      ['an unknown type', [rawHeader({ name: 's', typeflag: 'S', size: 0 })], /"s".*tar type "S"/],
    ];
    for (const [what, parts, message] of cases) {
      const err = await refusal(store, artifact([gzipParts([...parts, END_OF_ARCHIVE])]));
      expect(err.category, what).toBe('invalid-input');
      expect(err.code, what).toBe('artifact-unsafe-entry');
      expect(err.message, what).toMatch(message);
      expect(err.message, what).not.toContain(work);
    }
  });

  it('stops at the end of the archive without inflating what follows it', async () => {
    // A real entry, the end marker, then a gigabyte of zeros: unpacked at once, the zeros never read.
    const zeros = zerosMember(64 * MiB);
    const bomb = artifact([gzipParts([rawHeader({ name: 'ok.txt', typeflag: '0', size: 2 }), blocks(Buffer.from('ok')), END_OF_ARCHIVE]), ...Array.from({ length: 16 }, () => zeros)]);
    const store = new LocalArtifactStore(join(work, 'store'));
    await store.put(bomb.digest, bomb.bytes);
    expect(await readdir(await store.unpack(bomb.digest))).toEqual(['ok.txt']);
  });

  it('reports a tar cut short or with a bad checksum as corrupt', async () => {
    const store = new LocalArtifactStore(join(work, 'store'));
    const cut = await refusal(store, artifact([gzipParts([rawHeader({ name: 'f', typeflag: '0', size: 5000 }), Buffer.alloc(100, 1)])]));
    expect(cut.code).toBe('artifact-corrupt');
    const header = rawHeader({ name: 'f', typeflag: '0', size: 0 });
    header[0] = 0x67; // the name changes, the checksum does not
    const bad = await refusal(store, artifact([gzipParts([header, END_OF_ARCHIVE])]));
    expect(bad.code).toBe('artifact-corrupt');
    expect(bad.message).toContain('bad checksum');
  });
});

describe('a gzip bomb deployed through the API', () => {
  it('fails the deploy at PrepareRelease with invalid-input naming the limit, not internal', async () => {
    const ops = await startOpsPlatform(join(work, 'home'));
    try {
      const ref = { org: 'acme', project: 'shop', app: 'web', env: 'prod' };
      await createReadyEnv(ops, ref);
      const bomb = filesBomb(20, 64 * MiB);
      const upload = await fetch(`${ops.platform.url}/v1/orgs/${ref.org}/artifacts/${bomb.digest}`, { method: 'PUT', headers: { authorization: `Bearer ${ops.token}` }, body: new Uint8Array(bomb.bytes) });
      expect(upload.status, await upload.text()).toBe(201);
      const r = await ops.call('POST', `${envPath(ref)}/deploys`, { manifest: manifestFor(ref.app, await freePort()), artifactDigest: bomb.digest });
      expect(r.status, r.text).toBe(202);
      await ops.platform.orchestrator.idle();
      const op = (await ops.call('GET', `${envPath(ref)}/operations/${r.body.receipt.operationId}`)).body.operation;
      expect(op.status).toBe('failed');
      expect(op.error).toMatchObject({ category: 'invalid-input', code: 'artifact-over-limit' });
      expect(op.error.message).toContain('maxInflatedBytes');
      expect(op.error.message).not.toContain(ops.home);
    } finally {
      await ops.platform.close();
    }
  });
});
