// Env destroy embedded, through the API: what the env created goes (instances, endpoint
// listeners), volumes are user data and stay unless `purge-volumes=true` asks for them to go too,
// and the saga's new DeleteEnvResources step says which it did (issue 15 item 4).
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { EnvRef } from '../functions/core/ports.ts';
import { connectOutcome } from './support/cli-flow.ts';
import { createReadyEnv, envPath, freePort, startOpsPlatform, uploadApp, volumeManifestFor, type OpsPlatform } from './support/ops-harness.ts';

const SERVER = `import { createServer } from 'node:http';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
writeFileSync(join(process.env.BERTH_VOLUME_DATA, 'note.txt'), 'kept');
createServer((req, res) => res.end('ok')).listen(Number(process.env.PORT));
`;

const manifest = volumeManifestFor;

let dir: string;
let ops: OpsPlatform;

async function deployed(ref: EnvRef): Promise<number> {
  await createReadyEnv(ops, ref);
  const port = await freePort();
  const digest = await uploadApp(ops, ref.org, join(dir, ref.app), SERVER);
  const r = await ops.call('POST', `${envPath(ref)}/deploys`, { manifest: manifest(ref.app, port), artifactDigest: digest });
  expect(r.status, r.text).toBe(202);
  await ops.platform.orchestrator.idle();
  return port;
}

async function destroy(ref: EnvRef, query = ''): Promise<{ receipt: { operationId: string; volumes: { names: string[]; purged: boolean } } }> {
  const r = await ops.call('DELETE', `${envPath(ref)}${query}`);
  expect(r.status, r.text).toBe(202);
  await ops.platform.orchestrator.idle();
  const op = (await ops.call('GET', `${envPath(ref)}/operations/${r.body.receipt.operationId}`)).body.operation;
  expect(op.status, JSON.stringify(op.error)).toBe('succeeded');
  return r.body as { receipt: { operationId: string; volumes: { names: string[]; purged: boolean } } };
}

const stepMessages = async (ref: EnvRef, operationId: string) =>
  (await ops.platform.deps.store.listEvents(ref, { operationId })).filter((e) => e.step === 'DeleteEnvResources').map((e) => e.message);

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'berth-destroy-'));
  ops = await startOpsPlatform(join(dir, 'home'));
}, 90_000);

afterAll(async () => {
  await ops?.platform.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('env destroy (embedded)', () => {
  it('keeps the volume by default: the env stops, its endpoint closes, its volume and data stay', async () => {
    const ref = { org: 'acme', project: 'shop', app: 'keep', env: 'prod' };
    const port = await deployed(ref);
    expect(await connectOutcome('::1', port)).toBe('connected');
    const { receipt } = await destroy(ref);
    expect(receipt.volumes).toEqual({ names: ['data'], purged: false });
    expect(await connectOutcome('::1', port)).toBe('ECONNREFUSED');
    expect(await ops.platform.deps.compute.list(ref)).toEqual([]);
    expect(await ops.platform.deps.endpoints.list(ref)).toEqual([]);
    expect(await ops.platform.deps.volumes.exists(ref, 'data')).toBe(true);
    expect(await stepMessages(ref, receipt.operationId)).toContainEqual(expect.stringContaining('volumes data kept (envs destroy --purge-volumes deletes them)'));
  }, 60_000);

  it('purge-volumes=true deletes the volume with the env', async () => {
    const ref = { org: 'acme', project: 'shop', app: 'purge', env: 'prod' };
    await deployed(ref);
    const { receipt } = await destroy(ref, '?purge-volumes=true');
    expect(receipt.volumes).toEqual({ names: ['data'], purged: true });
    expect(await ops.platform.deps.volumes.exists(ref, 'data')).toBe(false);
    expect(await stepMessages(ref, receipt.operationId)).toContainEqual(expect.stringContaining('volumes data deleted'));
  }, 60_000);
});
