// Artifact garbage collection: what no release in reach of a rollback, no running instance and no
// fresh upload uses is removed (archive and unpacked tree); everything else is kept.
import { mkdir, mkdtemp, readdir, rm, utimes } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Manifest } from '../functions/contract/manifest.ts';
import type { Env, Release, ReleaseStatus } from '../functions/core/model.ts';
import type { ComputeDriver, EnvRef, InstanceStatus } from '../functions/core/ports.ts';
import { ROLLBACK_WINDOW } from '../functions/core/rollback-window.ts';
import { ARTIFACT_GRACE_MS, collectArtifacts } from '../functions/core/services/artifact-gc.ts';
import { rollback } from '../functions/core/services/deploys.ts';
import type { PlatformDeps } from '../functions/core/services/deps.ts';
import { LocalArtifactStore } from '../functions/drivers/local/artifact-store.ts';
import { startLocalDynamo, type LocalDynamo } from '../functions/embedded/local-dynamo.ts';
import { DynamoStateStore } from '../functions/store/dynamo-state-store.ts';
import { artifact, END_OF_ARCHIVE, gzipParts, rawHeader } from './support/hostile-tar.ts';

const ref: EnvRef = { org: 'acme', project: 'shop', app: 'web', env: 'prod' };
const HOUR = 60 * 60 * 1000;
let work: string;
let dynamo: LocalDynamo;
let store: DynamoStateStore;
let artifacts: LocalArtifactStore;
let running: InstanceStatus[];
const compute = { list: async (env: EnvRef) => (env.env === ref.env ? running : []) } as unknown as ComputeDriver;

beforeEach(async () => {
  work = await mkdtemp(join(tmpdir(), 'berth-gc-'));
  dynamo = await startLocalDynamo(join(work, 'dynamo'), 'berth');
  store = new DynamoStateStore(dynamo.client, 'berth');
  artifacts = new LocalArtifactStore(join(work, 'artifacts'));
  running = [];
  const now = new Date().toISOString();
  await store.createOrg({ name: ref.org, createdAt: now, createdBy: 'test' });
  await store.createProject({ org: ref.org, name: ref.project, createdAt: now, createdBy: 'test' });
  await store.createApp({ org: ref.org, project: ref.project, name: ref.app, createdAt: now, createdBy: 'test' });
  const env: Env = { ...ref, version: 0, createdAt: now, updatedAt: now, createdBy: 'test' };
  await store.createEnv(env);
});

afterEach(async () => {
  await dynamo.close();
  await rm(work, { recursive: true, force: true });
});

/** A distinct, valid snapshot per name, stored and unpacked, last used `ageMs` ago. */
async function stored(name: string, ageMs: number): Promise<string> {
  const a = artifact([gzipParts([rawHeader({ name, typeflag: '0', size: 0 }), END_OF_ARCHIVE])]);
  await artifacts.put(a.digest, a.bytes);
  await artifacts.unpack(a.digest);
  const then = new Date(Date.now() - ageMs);
  await utimes(join(work, 'artifacts', 'sha256', `${a.digest.slice(7)}.tgz`), then, then);
  return a.digest;
}

async function release(seq: number, artifactDigest: string, status: ReleaseStatus): Promise<void> {
  const r: Release = { id: `rel-${seq}`, seq, env: ref, artifactDigest, manifest: { app: ref.app, workloads: {} } as unknown as Manifest, configVersion: 0, secretVersions: {}, createdAt: new Date().toISOString(), createdBy: 'test', operationId: `op-${seq}`, status };
  await store.putRelease(r);
}

const unpackedDirs = async () => (await readdir(join(work, 'artifacts', 'unpacked'))).sort();
const hex = (digest: string) => digest.slice('sha256:'.length);

describe('artifact garbage collection', () => {
  it('removes unreferenced old artifacts and keeps referenced, pending and in-grace ones', async () => {
    const live = await stored('live', 5 * HOUR);
    const superseded = await stored('superseded', 5 * HOUR);
    const inFlight = await stored('in-flight', 5 * HOUR);
    const failed = await stored('failed', 5 * HOUR);
    const orphan = await stored('orphan', 5 * HOUR);
    const fresh = await stored('fresh', ARTIFACT_GRACE_MS / 2);
    await release(1, superseded, 'superseded');
    await release(2, failed, 'failed');
    await release(3, live, 'active');
    await release(4, inFlight, 'pending');

    const report = await collectArtifacts({ store, compute }, artifacts);

    expect(report.removed.sort()).toEqual([failed, orphan].sort());
    for (const kept of [live, superseded, inFlight, fresh]) expect(await artifacts.has(kept)).toBe(true);
    for (const gone of [failed, orphan]) expect(await artifacts.has(gone)).toBe(false);
    // Their unpacked trees go with them; the package.json that bounds module resolution stays.
    expect(await unpackedDirs()).toEqual([...[live, superseded, inFlight, fresh].map(hex), 'package.json'].sort());
  });

  it('collects a release that fell out of the rollback window, unless an instance still runs it', async () => {
    const oldest = await stored('oldest', 5 * HOUR);
    const recent = await stored('recent', 5 * HOUR);
    await release(1, oldest, 'superseded');
    for (let seq = 2; seq <= ROLLBACK_WINDOW + 1; seq++) await release(seq, recent, seq === ROLLBACK_WINDOW + 1 ? 'active' : 'superseded');
    const env = (await store.getEnv(ref))!;
    await store.updateEnv(ref, env.version, { currentReleaseId: `rel-${ROLLBACK_WINDOW + 1}`, desiredReleaseId: `rel-${ROLLBACK_WINDOW + 1}` });

    running = [{ id: 'i-1', workload: 'web', releaseId: 'rel-1', revision: 'r', state: 'healthy', startedAt: '', restarts: 0, addresses: {} }];
    expect((await collectArtifacts({ store, compute }, artifacts)).removed).toEqual([]);

    running = [];
    expect((await collectArtifacts({ store, compute }, artifacts)).removed).toEqual([oldest]);
    expect(await artifacts.has(recent)).toBe(true);

    // A rollback to it says why it cannot, before any operation starts.
    const deps = { store, artifacts } as unknown as PlatformDeps;
    const err = await rollback(deps, ref, { releaseId: 'rel-1' }, { id: 'u', name: 'test' }).catch((e: unknown) => e);
    expect(err).toMatchObject({ category: 'not-found', code: 'release-artifact-collected' });
    expect((err as Error).message).toContain(`only the latest ${ROLLBACK_WINDOW} releases`);
  });

  it('keeps an artifact used after the collector listed it (a deploy checking it) and one being unpacked', async () => {
    const digest = await stored('raced', 5 * HOUR);
    const unusedSince = new Date(Date.now() - ARTIFACT_GRACE_MS);
    await artifacts.has(digest); // what deploy does just before it writes the release
    expect(await artifacts.remove(digest, unusedSince)).toBe(false);

    const other = artifact([gzipParts([rawHeader({ name: 'slow', typeflag: '0', size: 0 }), END_OF_ARCHIVE])]);
    await artifacts.put(other.digest, other.bytes);
    const old = new Date(Date.now() - 5 * HOUR);
    await utimes(join(work, 'artifacts', 'sha256', `${hex(other.digest)}.tgz`), old, old);
    const unpacking = artifacts.unpack(other.digest);
    expect(await artifacts.remove(other.digest, unusedSince)).toBe(false);
    await unpacking;
  });

  it('removes what a killed platform left half-written, once it is old', async () => {
    const stale = join(work, 'artifacts', 'unpacked', `.tmp-${'a'.repeat(64)}-1-abcd`);
    await mkdir(join(stale, 'sub'), { recursive: true });
    const old = new Date(Date.now() - 5 * HOUR);
    await utimes(stale, old, old);
    await mkdir(join(work, 'artifacts', 'unpacked', `.tmp-${'b'.repeat(64)}-1-abcd`)); // fresh: an unpack under way
    const report = await collectArtifacts({ store, compute }, artifacts);
    expect(report.leftovers).toEqual([`unpacked/.tmp-${'a'.repeat(64)}-1-abcd`]);
    expect(await readdir(join(work, 'artifacts', 'unpacked'))).toEqual([`.tmp-${'b'.repeat(64)}-1-abcd`]);
  });
});
