// Volumes on the AWS twin, with IAM checked on every call: create, attach (a deploy that mounts
// it), snapshot (an AWS Backup job), restore (a restore job awaited by its EventBridge event, then
// the swap task moving the data), create --from-snapshot (a new file system), and a restore whose
// job fails, compensated. The EFS twin's file tree stands for what the app wrote.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { issueOwnerToken } from '../functions/api/auth.ts';
import { synthesizeIamModel } from './support/aws-twin/iam.ts';
import { apiCaller, createEnvChain, type Journey, lambdaContext, startJourney } from './support/aws-twin/journey.ts';
import type { TwinFileSystem } from './support/aws-twin/efs.ts';

const REF = { org: 'acme', project: 'shop', app: 'db', env: 'prod' };
const ENV = '/v1/orgs/acme/projects/shop/apps/db/envs/prod';
const IMAGE = `123456789012.dkr.ecr.eu-west-1.amazonaws.com/db@sha256:${'d'.repeat(64)}`;
const MANIFEST = `app: db
workloads:
  db:
    command: ./server
    ports: [5432]
    user: "999:999"
    volumes: [{ volume: data, path: /var/lib/db }]
volumes:
  data: { sizeGiB: 1 }
`;

let j: Journey;
let token: string;
const call = (method: string, path: string, body?: unknown) => apiCaller(j, () => token)(method, path, body);

const trace = () => ({
  executions: [...j.sfn.executions.values()].slice(-2).map((e) => ({ name: e.name, status: e.status, error: e.error, states: e.states })),
  swaps: j.swaps,
  restoreJobs: [...j.backup.restoreJobs.values()].map((r) => `${r.Status} ${r.StatusMessage ?? ''}`),
  calls: j.twin.calls.slice(-8).map((c) => `${c.principal} ${c.action}`),
  deliveryErrors: [...j.ecs.deliveryErrors, ...j.backup.deliveryErrors].map((e) => e.message),
});

/** Runs the operation a mutation started to its end in simulated time; its record. */
async function settle(r: { status: number; body: Record<string, any> }, each?: () => Promise<void>) {
  expect(r.status, JSON.stringify(r.body)).toBeLessThan(300);
  const id: string = r.body.receipt?.operationId ?? r.body.operationId;
  await j.twin.clock.advanceUntil(async () => (await j.store.getOperation(REF, id))?.status !== 'running', { stepMs: 5000, limitMs: 6 * 3_600_000, each }).catch((err) => {
    throw new Error(`${(err as Error).message}: ${JSON.stringify(trace())}`);
  });
  expect(j.backup.deliveryErrors.map((e) => e.message)).toEqual([]);
  return (await j.store.getOperation(REF, id))!;
}
const succeeded = async (r: { status: number; body: Record<string, any> }) => {
  const op = await settle(r);
  expect(op.error ?? null, JSON.stringify(trace())).toBeNull();
  return op;
};

const volumeFs = (): TwinFileSystem => [...j.efs.fileSystems.values()].find((f) => f.LifeCycleState === 'available' && f.Tags.some((t) => t.Key === 'berth:volume' && t.Value === 'data'))!;
const dataOf = (fs: TwinFileSystem) => Object.fromEntries([...fs.files].filter(([p]) => p.startsWith('/data/')));
const liveDbTasks = () => [...j.ecs.tasks.values()].filter((t) => t.service && t.desiredStatus === 'RUNNING');
let snapshot = '';

beforeAll(async () => {
  j = await startJourney({ iam: synthesizeIamModel() });
  token = (await issueOwnerToken(j.store, 'tester')).token;
  await createEnvChain(call, REF);
}, 120_000);

afterAll(async () => {
  await j?.close();
});

describe('AWS twin journey: volumes with IAM checked', () => {
  it('volume create makes an encrypted file system with mount targets in every task zone, and deploy attaches it through an access point owned by the workload user (999:999)', async () => {
    await succeeded(await call('PUT', `${ENV}/volumes/data`, { sizeGiB: 1 }));
    const fs = volumeFs();
    expect(fs.Encrypted).toBe(true);
    expect([...j.efs.mountTargets.values()].filter((m) => m.FileSystemId === fs.FileSystemId).map((m) => m.LifeCycleState)).toEqual(['available', 'available']);
    await succeeded(await call('POST', `${ENV}/deploys`, { manifest: MANIFEST, image: IMAGE }));
    const points = [...j.efs.accessPoints.values()].filter((a) => a.FileSystemId === fs.FileSystemId && a.LifeCycleState !== 'deleted');
    // Access points are immutable: the default one (1000) from volume create stays, the workload's user gets its own.
    expect(points.map((a) => a.PosixUser)).toContainEqual({ Uid: 999, Gid: 999 });
    expect(points.find((a) => a.PosixUser?.Uid === 999)?.RootDirectory).toEqual({ Path: '/data', CreationInfo: { OwnerUid: 999, OwnerGid: 999, Permissions: '0750' } });
    const mounted = j.ecs.taskDefinition(liveDbTasks()[0].taskDefinitionArn).volumes.find((v: any) => v.efsVolumeConfiguration);
    expect(mounted.efsVolumeConfiguration.authorizationConfig.accessPointId).toBe(points.find((a) => a.PosixUser?.Uid === 999)?.AccessPointId);
    expect(liveDbTasks()).toHaveLength(1);
  }, 120_000);

  it('snapshot starts an AWS Backup job whose recovery point holds the data as it was', async () => {
    const fs = volumeFs();
    fs.files.set('/data/rows', 'v1');
    const op = await succeeded(await call('POST', `${ENV}/volumes/data/snapshots`, {}));
    snapshot = op.volumeChange!.snapshotId!;
    await j.twin.clock.advanceUntil(() => [...j.backup.recoveryPoints.values()].some((p) => p.Status === 'COMPLETED'), { stepMs: 10_000, limitMs: 900_000 });
    fs.files.set('/data/rows', 'v2');
    const [point] = j.backup.recoveryPoints.values();
    expect(point.tags['berth:snapshot']).toBe(snapshot);
    expect(point.files.get('/data/rows')).toBe('v1');
  }, 120_000);

  it('restore on AWS is accepted (no longer refused), waits for the restore job, swaps the snapshot data into place with the writer stopped, restarts it and discards the replaced data', async () => {
    const fs = volumeFs();
    const before = liveDbTasks().map((t) => t.taskArn);
    const accepted = await call('POST', `${ENV}/volumes/data/restores`, { snapshot });
    expect(accepted.status, JSON.stringify(accepted.body)).toBe(202);
    const op = await succeeded(accepted);
    expect(j.backup.restoreJobs.size).toBe(1);
    const [job] = j.backup.restoreJobs.values();
    // Into the same file system: AWS Backup never restores EFS destructively.
    expect(job.Metadata).toMatchObject({ 'file-system-id': fs.FileSystemId, newFileSystem: 'false', Encrypted: 'true' });
    expect(dataOf(fs)).toEqual({ '/data/rows': 'v1' });
    expect(j.swaps.filter((s) => s.fileSystemId === fs.FileSystemId).map((s) => `${s.action}:${s.exitCode}`)).toEqual(['aside:0', 'place:0', 'discard:0']);
    // The swap task mounts the file system's root (no access point) as root, with its own role, and logs to the env's group.
    const swapDef = j.ecs.taskDefinition(`berth-volume-swap-${fs.FileSystemId}`);
    expect(swapDef.volumes[0].efsVolumeConfiguration).toMatchObject({ fileSystemId: fs.FileSystemId, rootDirectory: '/', authorizationConfig: { iam: 'ENABLED' } });
    expect(swapDef.volumes[0].efsVolumeConfiguration.authorizationConfig.accessPointId).toBeUndefined();
    expect(swapDef.taskRoleArn).toMatch(/VolumeSwapRole/);
    expect(swapDef.containerDefinitions[0].logConfiguration.options['awslogs-group']).toBe('/berth/acme/shop/db/prod');
    // Nothing left beside the data: no recovery directory, no aside copy.
    expect([...fs.files.keys()].filter((p) => !p.startsWith('/data/'))).toEqual([]);
    // The writer was replaced (stopped for the swap, started after it) and runs again.
    expect(liveDbTasks()).toHaveLength(1);
    expect(before).not.toContain(liveDbTasks()[0].taskArn);
    const states = j.sfn.executions.get(op.id)?.states ?? [];
    expect(states).toEqual(['SetDesiredVolume', 'ApplyVolumeChange', 'WaitForVolumeRestore', 'SwapInRestoredVolume', 'RecordVolumeApplied']);
    // The task token was completed by the backup-events Lambda, with IAM allowing it.
    expect(j.twin.calls.some((c) => c.principal === 'backup-events' && c.action === 'states:SendTaskSuccess')).toBe(true);
  }, 120_000);

  it('create --from-snapshot restores into a new file system that becomes the volume: tagged, mounted, its data moved out of the recovery directory', async () => {
    await succeeded(await call('PUT', `${ENV}/volumes/copy`, { sizeGiB: 1, fromSnapshot: snapshot }));
    const job = [...j.backup.restoreJobs.values()].pop()!;
    expect(job.Metadata).toMatchObject({ newFileSystem: 'true', CreationToken: expect.stringMatching(/^berth-/) });
    const fs = j.efs.find(job.CreatedResourceArn!)!;
    expect(fs.Tags).toContainEqual({ Key: 'berth:volume', Value: 'copy' });
    expect(fs.Tags).toContainEqual({ Key: 'berth:org', Value: 'acme' });
    expect(dataOf(fs)).toEqual({ '/data/rows': 'v1' });
    expect([...fs.files.keys()].filter((p) => !p.startsWith('/data/'))).toEqual([]);
    expect((await call('GET', `${ENV}/volumes/copy`)).body.volume).toMatchObject({ source: { volume: 'data', snapshot } });
  }, 120_000);

  it('a restore whose AWS Backup job fails is compensated without stopping the writer: the data is unchanged and the operation names the failed job', async () => {
    const fs = volumeFs();
    fs.files.set('/data/rows', 'v3');
    const writer = liveDbTasks().map((t) => t.taskArn);
    j.backup.failNextRestore = 'Access denied to the KMS key';
    const op = await settle(await call('POST', `${ENV}/volumes/data/restores`, { snapshot }));
    expect(op.status).toBe('failed');
    expect(op.error?.message).toContain('Access denied to the KMS key');
    expect(op.error?.step).toBe('WaitForVolumeRestore');
    expect(dataOf(fs)).toEqual({ '/data/rows': 'v3' });
    expect(liveDbTasks().map((t) => t.taskArn)).toEqual(writer);
  }, 120_000);

  it('a restore whose job events never arrive still completes: the scheduled reconcile pass settles the wait from DescribeRestoreJob', async () => {
    const fs = volumeFs();
    const deliver = j.backup.deliver;
    j.backup.deliver = undefined;
    const reconcile = await j.lambda('reconcile', 'functions/lambda/reconcile.ts');
    let last = j.twin.clock.now();
    const passes: number[] = [];
    try {
      const op = await settle(await call('POST', `${ENV}/volumes/data/restores`, { snapshot }), async () => {
        if (j.twin.clock.now() - last < 60_000) return;
        last = j.twin.clock.now();
        passes.push((await j.twin.clock.run('reconcile', () => reconcile({}, lambdaContext('berth-reconcile')))).restores);
      });
      expect(op.error ?? null, JSON.stringify(trace())).toBeNull();
      expect(op.status).toBe('succeeded');
    } finally {
      j.backup.deliver = deliver;
    }
    expect(dataOf(fs)).toEqual({ '/data/rows': 'v1' });
    // The passes found the one waiting restore until it settled it.
    expect(passes.filter((n) => n === 1).length).toBeGreaterThan(0);
    expect(j.twin.calls.some((c) => c.principal === 'reconcile' && c.action === 'states:SendTaskSuccess')).toBe(true);
  }, 120_000);

  it('a swap task that fails after the data went aside is compensated: the data from before is moved back and the writer runs again on it', async () => {
    const fs = volumeFs();
    fs.files.set('/data/rows', 'v4');
    const run = j.ecs.runContainer!;
    j.ecs.runContainer = (task, def, environment) => (environment.ACTION === 'place' ? 1 : run(task, def, environment));
    const swapsBefore = j.swaps.length;
    try {
      const op = await settle(await call('POST', `${ENV}/volumes/data/restores`, { snapshot }));
      expect(op.status).toBe('failed');
      expect(op.error).toMatchObject({ step: 'SwapInRestoredVolume', code: 'swap-task-failed' });
    } finally {
      j.ecs.runContainer = run;
    }
    expect(j.swaps.slice(swapsBefore).map((s) => s.action)).toEqual(['aside', 'back']);
    expect(dataOf(fs)).toEqual({ '/data/rows': 'v4' });
    expect([...fs.files.keys()].filter((p) => !p.startsWith('/data/'))).toEqual([]);
    expect(liveDbTasks()).toHaveLength(1);
  }, 120_000);
});
