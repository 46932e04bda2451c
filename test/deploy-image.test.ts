// On AWS a release is an image pinned by digest: the deploy service writes it into every workload of
// the release's manifest and starts the same deploy state machine. Embedded snapshots are refused there.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ImageArtifacts } from '../functions/aws/image-artifacts.ts';
import { EventLog } from '../functions/core/event-log.ts';
import type { Orchestrator } from '../functions/core/ports.ts';
import { deploy } from '../functions/core/services/deploys.ts';
import type { PlatformDeps } from '../functions/core/services/deps.ts';
import { createApp, createEnv, createOrg, createProject } from '../functions/core/services/hierarchy.ts';
import { startLocalDynamo, type LocalDynamo } from '../functions/embedded/local-dynamo.ts';
import { DynamoStateStore } from '../functions/store/dynamo-state-store.ts';

const ref = { org: 'acme', project: 'shop', app: 'web', env: 'prod' };
const actor = { id: 'tok-1', name: 'tester' };
const IMAGE = `123456789012.dkr.ecr.eu-west-1.amazonaws.com/web@sha256:${'b'.repeat(64)}`;
const MANIFEST = 'app: web\nworkloads:\n  web:\n    command: ["node", "server.js"]\n    ports: [8080]\n  worker:\n    command: ["node", "worker.js"]\n';

let dir: string;
let dynamo: LocalDynamo;
let deps: PlatformDeps;
const started: { machine: string; name: string; input: Record<string, unknown> }[] = [];

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'berth-image-'));
  dynamo = await startLocalDynamo(join(dir, 'dynamo'), 'berth');
  const store = new DynamoStateStore(dynamo.client, 'berth');
  const orchestrator: Orchestrator = { start: async (machine, name, input) => void started.push({ machine, name, input }), interruptWaits: async () => undefined };
  deps = { store, events: new EventLog(store), orchestrator, artifacts: new ImageArtifacts() } as unknown as PlatformDeps;
  await createOrg(store, 'acme', actor);
  await createProject(store, 'acme', 'shop', actor);
  await createApp(store, 'acme', 'shop', 'web', actor);
  await createEnv(store, ref, actor);
});

afterAll(async () => {
  await dynamo.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('deploy on AWS (image artifacts)', () => {
  it('refuses a snapshot deploy and says how to deploy an image', async () => {
    await expect(deploy(deps, ref, { manifest: MANIFEST, artifactDigest: `sha256:${'c'.repeat(64)}` }, actor)).rejects.toMatchObject({ category: 'invalid-input', code: 'image-required' });
    expect(await deps.store.listReleases(ref, 10)).toEqual([]);
  });

  it('pins the image in every workload of the immutable release and starts the deploy machine', async () => {
    const receipt = await deploy(deps, ref, { manifest: MANIFEST, image: IMAGE }, actor);
    expect(receipt).toMatchObject({ accepted: true, releaseId: 'rel-1', artifactDigest: `sha256:${'b'.repeat(64)}` });
    const release = await deps.store.getRelease(ref, 'rel-1');
    expect(Object.values(release!.manifest.workloads).map((w) => w.image)).toEqual([IMAGE, IMAGE]);
    expect(started).toEqual([{ machine: 'deploy', name: receipt.operationId, input: { operation: expect.objectContaining({ ...ref, kind: 'deploy', releaseId: 'rel-1' }) } }]);
  });
});
