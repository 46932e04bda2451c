import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startLocalDynamo, type LocalDynamo } from '../functions/embedded/local-dynamo.ts';
import { DynamoStateStore } from '../functions/store/dynamo-state-store.ts';
import type { Env } from '../functions/core/model.ts';

const ref = { org: 'acme', project: 'shop', app: 'web', env: 'prod' };
let dir: string;
let dynamo: LocalDynamo;
let store: DynamoStateStore;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'berth-store-'));
  dynamo = await startLocalDynamo(join(dir, 'dynamo'), 'berth');
  store = new DynamoStateStore(dynamo.client, 'berth');
  const now = new Date().toISOString();
  await store.createOrg({ name: 'acme', createdAt: now, createdBy: 'test' });
  const env: Env = { ...ref, version: 0, createdAt: now, updatedAt: now, createdBy: 'test' };
  await store.createEnv(env);
});

afterAll(async () => {
  await dynamo.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('DynamoStateStore against dynalite', () => {
  it('refuses to create an org twice with a conflict', async () => {
    await expect(store.createOrg({ name: 'acme', createdAt: 'x', createdBy: 'x' })).rejects.toMatchObject({ category: 'conflict', code: 'already-exists' });
    expect((await store.listOrgs()).map((o) => o.name)).toEqual(['acme']);
  });

  it('lets exactly one of two writers at the same env version win', async () => {
    const env = (await store.getEnv(ref))!;
    const results = await Promise.allSettled([
      store.updateEnv(ref, env.version, { activeOperationId: 'op-A' }),
      store.updateEnv(ref, env.version, { activeOperationId: 'op-B' }),
    ]);
    const won = results.filter((r) => r.status === 'fulfilled');
    const lost = results.filter((r): r is PromiseRejectedResult => r.status === 'rejected');
    expect(won).toHaveLength(1);
    expect(lost[0].reason).toMatchObject({ category: 'conflict', code: 'env-changed' });
    const after = (await store.getEnv(ref))!;
    expect(after.version).toBe(env.version + 1);
    expect(['op-A', 'op-B']).toContain(after.activeOperationId);
  });

  it('removes an attribute when the patch sets it to undefined', async () => {
    const env = (await store.getEnv(ref))!;
    const next = await store.updateEnv(ref, env.version, { activeOperationId: undefined, currentReleaseId: 'rel-1' });
    expect(next.activeOperationId).toBeUndefined();
    expect(next.currentReleaseId).toBe('rel-1');
  });

  it('keeps config versions append-only and returns the latest', async () => {
    const base = { set: [], unset: [], createdAt: 'now', createdBy: 'test' };
    await store.putConfigVersion(ref, { ...base, version: 1, values: { A: '1' } });
    await store.putConfigVersion(ref, { ...base, version: 2, values: { A: '2' } });
    await expect(store.putConfigVersion(ref, { ...base, version: 2, values: { A: 'lost' } })).rejects.toMatchObject({ code: 'config-version-exists' });
    expect((await store.latestConfig(ref))?.values).toEqual({ A: '2' });
    expect((await store.getConfigVersion(ref, 1))?.values).toEqual({ A: '1' });
  });

  it('lists events after a cursor and by operation', async () => {
    for (let i = 0; i < 5; i++) {
      await store.appendEvent(ref, { id: `ev-0${i}`, at: 'now', type: 't', message: `m${i}`, operationId: i % 2 ? 'op-odd' : 'op-even' });
    }
    expect((await store.listEvents(ref, {})).map((e) => e.message)).toEqual(['m0', 'm1', 'm2', 'm3', 'm4']);
    expect((await store.listEvents(ref, { after: 'ev-02' })).map((e) => e.message)).toEqual(['m3', 'm4']);
    // A limit without a cursor means "the last N", still in order.
    expect((await store.listEvents(ref, { limit: 2 })).map((e) => e.message)).toEqual(['m3', 'm4']);
    expect((await store.listEvents(ref, { after: 'ev-00', limit: 2 })).map((e) => e.message)).toEqual(['m1', 'm2']);
    expect((await store.listEvents(ref, { operationId: 'op-odd' })).map((e) => e.message)).toEqual(['m1', 'm3']);
  });

  it('tracks running operations until they finish', async () => {
    await store.putOperation({ id: 'op-1', env: ref, kind: 'deploy', status: 'running', releaseId: 'rel-1', createdAt: 'now', createdBy: 't' });
    expect((await store.listRunningOperations()).map((o) => o.id)).toEqual(['op-1']);
    await store.updateOperation(ref, 'op-1', { status: 'succeeded', finishedAt: 'now' });
    expect(await store.listRunningOperations()).toEqual([]);
  });

  it('persists on disk across a restart of the server', async () => {
    await dynamo.close();
    dynamo = await startLocalDynamo(join(dir, 'dynamo'), 'berth');
    store = new DynamoStateStore(dynamo.client, 'berth');
    expect((await store.getEnv(ref))?.currentReleaseId).toBe('rel-1');
  });
});
