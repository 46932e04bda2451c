import {
  ClientException,
  CreateServiceCommand,
  DeleteServiceCommand,
  DescribeServicesCommand,
  DescribeTaskDefinitionCommand,
  DescribeTasksCommand,
  ECSClient,
  ListServicesCommand,
  ListTasksCommand,
  RegisterTaskDefinitionCommand,
  StopTaskCommand,
  UpdateServiceCommand,
  UpdateTaskProtectionCommand,
  type Task,
} from '@aws-sdk/client-ecs';
import { CreateSecretCommand, PutSecretValueCommand, ResourceExistsException, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import type { EnvRef, InstanceSpec } from '../functions/core/ports.ts';
import type { AwsRuntimeConfig } from '../functions/drivers/aws/config.ts';
import { EcsComputeDriver } from '../functions/drivers/aws/ecs-compute.ts';
import { ecsTags, serviceName } from '../functions/drivers/aws/tags.ts';

const env: EnvRef = { org: 'acme', project: 'shop', app: 'api', env: 'prod' };
const config: AwsRuntimeConfig = {
  region: 'eu-west-1',
  tableName: 'berth',
  clusterArn: 'arn:aws:ecs:eu-west-1:123456789012:cluster/berth',
  vpcId: 'vpc-1',
  subnets: [
    { az: 'eu-west-1a', id: 'subnet-public-a' },
    { az: 'eu-west-1b', id: 'subnet-public-b' },
  ],
  taskSubnets: [
    { az: 'eu-west-1a', id: 'subnet-a' },
    { az: 'eu-west-1b', id: 'subnet-b' },
  ],
  taskSecurityGroupId: 'sg-tasks',
  volumeSecurityGroupId: 'sg-tasks',
  taskExecutionRoleArn: 'arn:aws:iam::123456789012:role/exec',
  taskRoleArn: 'arn:aws:iam::123456789012:role/task',
  volumeSwapRoleArn: 'arn:aws:iam::123456789012:role/volume-swap',
  logGroupPrefix: '/berth/',
  logRetentionDays: 30,
  kmsKeyId: 'alias/berth',
  macKeyId: 'alias/berth-mac',
  stateMachineArns: { deploy: 'd', scale: 's', endpoint: 'e', volume: 'v', env: 'n' },
  initImage: 'public.ecr.aws/docker/library/busybox:stable',
  backupVaultName: 'berth',
  backupRoleArn: 'arn:aws:iam::123456789012:role/backup',
  assignPublicIp: false,
};

const spec = (over: Partial<InstanceSpec> = {}): InstanceSpec => ({
  env,
  releaseId: 'rel-7',
  revision: 'rel-7.abcd1234',
  workloadName: 'web',
  workload: { image: 'public.ecr.aws/acme/web:1', command: 'node server.js', ports: [8080], healthCheck: { type: 'http', path: '/healthz' }, volumes: [{ volume: 'data', path: '/data' }] },
  workdir: '',
  environment: { NODE_ENV: 'production' },
  secretBundles: { db: { URL: 'postgres://db' } },
  volumeDirs: { data: 'efs://fs-0123abcd/fsap-0456cdef?zone=eu-west-1b' },
  ...over,
});

const SERVICE = serviceName(env, 'web', 'rel-7.abcd1234');
const arn = (id: string) => `arn:aws:ecs:eu-west-1:123456789012:task/berth/${id}`;

let now = 1_700_000_000_000;
const clock = { now: () => now, sleep: async (ms: number) => void (now += ms) };

function task(id: string, over: Partial<Task> = {}, probe = 'HEALTHY'): Task {
  return {
    taskArn: arn(id),
    group: `service:${SERVICE}`,
    lastStatus: 'RUNNING',
    desiredStatus: 'RUNNING',
    createdAt: new Date(now - 1000),
    startedAt: new Date(now - 500),
    tags: ecsTags(env, { 'berth:workload': 'web', 'berth:release': 'rel-7', 'berth:revision': 'rel-7.abcd1234', 'berth:ports': '8080', 'berth:health-deadline': '60' }),
    containers: [
      { name: 'app', image: 'public.ecr.aws/acme/web:1' },
      { name: 'berth-probe', healthStatus: probe as 'HEALTHY' },
    ],
    attachments: [{ type: 'ElasticNetworkInterface', details: [{ name: 'privateIPv4Address', value: '10.0.1.5' }, { name: 'ipv6Address', value: '2001:db8::5' }] }],
    ...over,
  };
}

const ecs = mockClient(ECSClient);
const sm = mockClient(SecretsManagerClient);
const driver = () => new EcsComputeDriver({ ecs: new ECSClient({ region: 'eu-west-1' }), secrets: new SecretsManagerClient({ region: 'eu-west-1' }) }, config, { clock, startTiming: { intervalMs: 10, timeoutMs: 50 }, healthPollMs: 5000, stopTiming: { intervalMs: 10, timeoutMs: 50 } });

beforeEach(() => {
  ecs.reset();
  sm.reset();
});

function firstUse(): void {
  ecs.on(DescribeTaskDefinitionCommand).rejects(new ClientException({ message: 'Unable to describe task definition.', $metadata: {} }));
  ecs.on(RegisterTaskDefinitionCommand).resolves({ taskDefinition: { taskDefinitionArn: `arn:aws:ecs:eu-west-1:123456789012:task-definition/${SERVICE}:1` } });
  ecs.on(DescribeServicesCommand).resolves({ services: [], failures: [{ reason: 'MISSING' }] });
  ecs.on(CreateServiceCommand).resolves({});
  ecs.on(ListTasksCommand).resolves({ taskArns: [arn('t1')] });
  sm.on(CreateSecretCommand).resolves({ ARN: 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:berth/acme/shop/api/prod/db-AbCdEf', VersionId: 'v-1' });
}

describe('EcsComputeDriver.startInstances', () => {
  it('registers a task definition whose init container writes the secret bundles to a read-only volume the app waits for', async () => {
    firstUse();
    expect(await driver().startInstances(spec(), 1)).toEqual(['t1']);
    const td = ecs.commandCalls(RegisterTaskDefinitionCommand)[0].args[0].input;
    expect(td).toMatchObject({ family: SERVICE, networkMode: 'awsvpc', requiresCompatibilities: ['FARGATE'], cpu: '256', memory: '512', executionRoleArn: config.taskExecutionRoleArn, taskRoleArn: config.taskRoleArn });
    const [app, init, probe] = td.containerDefinitions!;
    expect(init).toMatchObject({
      name: 'berth-init',
      image: config.initImage,
      essential: false,
      secrets: [{ name: 'BERTH_SECRET_DB', valueFrom: 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:berth/acme/shop/api/prod/db-AbCdEf:::v-1' }],
      mountPoints: [{ sourceVolume: 'berth-secrets', containerPath: '/berth/secrets', readOnly: false }],
    });
    expect(init.command![0]).toContain('"$BERTH_SECRET_DB" > /berth/secrets/db.json');
    expect(app).toMatchObject({ name: 'app', image: 'public.ecr.aws/acme/web:1', essential: true, entryPoint: ['/bin/sh', '-c', 'node server.js'], portMappings: [{ containerPort: 8080, protocol: 'tcp' }] });
    expect(app.dependsOn).toEqual([{ containerName: 'berth-init', condition: 'SUCCESS' }]);
    expect(app.user).toBeUndefined(); // the image's USER
    expect(app.mountPoints).toEqual([
      { sourceVolume: 'berth-secrets', containerPath: '/berth/secrets', readOnly: true },
      { sourceVolume: 'vol-data', containerPath: '/data', readOnly: false },
    ]);
    expect(Object.fromEntries(app.environment!.map((e) => [e.name, e.value]))).toMatchObject({ NODE_ENV: 'production', PORT: '8080', BERTH_SECRETS_DIR: '/berth/secrets', BERTH_VOLUME_DATA: '/data', BERTH_RELEASE: 'rel-7', BERTH_WORKLOAD: 'web' });
    expect(app.logConfiguration).toEqual({ logDriver: 'awslogs', options: expect.objectContaining({ 'awslogs-group': '/berth/acme/shop/api/prod', 'awslogs-stream-prefix': 'web', 'awslogs-region': 'eu-west-1', 'awslogs-create-group': 'true' }) });
    expect(probe).toMatchObject({ name: 'berth-probe', essential: true, healthCheck: { command: ['CMD-SHELL', "wget -q -T 2 -O /dev/null 'http://[::1]:8080/healthz'"], interval: 10, retries: 3, startPeriod: 60 } });
    expect(td.volumes).toEqual([
      { name: 'berth-secrets' },
      { name: 'vol-data', efsVolumeConfiguration: { fileSystemId: 'fs-0123abcd', transitEncryption: 'ENABLED', authorizationConfig: { accessPointId: 'fsap-0456cdef', iam: 'ENABLED' } } },
    ]);
  });

  it('stores each bundle as a KMS-encrypted, tagged secret whose version is derived from its content', async () => {
    firstUse();
    await driver().startInstances(spec(), 1);
    const secret = sm.commandCalls(CreateSecretCommand)[0].args[0].input;
    expect(secret).toMatchObject({ Name: 'berth/acme/shop/api/prod/db', KmsKeyId: 'alias/berth', SecretString: JSON.stringify({ URL: 'postgres://db' }, null, 2) });
    expect(secret.ClientRequestToken).toMatch(/^[0-9a-f]{64}$/);
    expect(secret.Tags).toEqual(expect.arrayContaining([{ Key: 'berth:org', Value: 'acme' }, { Key: 'berth:env', Value: 'prod' }]));
  });

  it('puts a new secret version when the bundle secret exists already', async () => {
    firstUse();
    sm.on(CreateSecretCommand).rejects(new ResourceExistsException({ message: 'exists', $metadata: {} }));
    sm.on(PutSecretValueCommand).resolves({ ARN: 'arn:secret:db-x', VersionId: 'v-2' });
    await driver().startInstances(spec(), 1);
    expect(sm.commandCalls(PutSecretValueCommand)[0].args[0].input).toMatchObject({ SecretId: 'berth/acme/shop/api/prod/db' });
    expect(ecs.commandCalls(RegisterTaskDefinitionCommand)[0].args[0].input.containerDefinitions![1].secrets![0].valueFrom).toBe('arn:secret:db-x:::v-2');
  });

  it('runs the app container as the workload\'s user (the container `user`, resolved in the image)', async () => {
    firstUse();
    await driver().startInstances(spec({ workload: { ...spec().workload, user: 'postgres:999' } }), 1);
    const [app, init] = ecs.commandCalls(RegisterTaskDefinitionCommand)[0].args[0].input.containerDefinitions!;
    expect(app.user).toBe('postgres:999');
    expect(init.user).toBeUndefined(); // writes the secret files (mode 0444, readable by any user)
  });

  it('creates the service on first use: Fargate, One Zone subnet, circuit breaker without rollback, exec, tags propagated', async () => {
    firstUse();
    await driver().startInstances(spec(), 1);
    expect(ecs.commandCalls(CreateServiceCommand)[0].args[0].input).toMatchObject({
      cluster: config.clusterArn,
      serviceName: SERVICE,
      desiredCount: 1,
      launchType: 'FARGATE',
      // The volume lives in eu-west-1b: only that zone's subnet.
      networkConfiguration: { awsvpcConfiguration: { subnets: ['subnet-b'], securityGroups: ['sg-tasks'], assignPublicIp: 'DISABLED' } },
      deploymentConfiguration: { deploymentCircuitBreaker: { enable: true, rollback: false } },
      enableExecuteCommand: true,
      propagateTags: 'SERVICE',
      enableECSManagedTags: true,
      tags: expect.arrayContaining([{ key: 'berth:org', value: 'acme' }, { key: 'berth:project', value: 'shop' }, { key: 'berth:app', value: 'api' }, { key: 'berth:env', value: 'prod' }, { key: 'berth:revision', value: 'rel-7.abcd1234' }]),
    });
  });

  it('never doubles a single-writer volume\'s task: maximumPercent 100, minimumHealthyPercent 0, and no second task', async () => {
    firstUse();
    await driver().startInstances(spec({ singleWriter: 'data' }), 1);
    expect(ecs.commandCalls(CreateServiceCommand)[0].args[0].input.deploymentConfiguration).toMatchObject({ maximumPercent: 100, minimumHealthyPercent: 0 });
    await expect(driver().startInstances(spec({ singleWriter: 'data' }), 2)).rejects.toMatchObject({ category: 'invalid-input', code: 'single-writer-volume' });
  });

  it('lets a shared volume\'s service surge: maximumPercent 200, minimumHealthyPercent 100', async () => {
    firstUse();
    await driver().startInstances(spec(), 1);
    expect(ecs.commandCalls(CreateServiceCommand)[0].args[0].input.deploymentConfiguration).toMatchObject({ maximumPercent: 200, minimumHealthyPercent: 100 });
  });

  it('raises the desired count of an existing service and returns only the tasks that appeared', async () => {
    ecs.on(DescribeTaskDefinitionCommand).resolves({ taskDefinition: { status: 'ACTIVE', taskDefinitionArn: 'arn:td:1' } });
    ecs.on(DescribeServicesCommand).resolves({ services: [{ status: 'ACTIVE', desiredCount: 1 }] });
    ecs.on(UpdateServiceCommand).resolves({});
    ecs.on(ListTasksCommand).resolvesOnce({ taskArns: [arn('t1')] }).resolvesOnce({ taskArns: [arn('t1')] }).resolves({ taskArns: [arn('t1'), arn('t2'), arn('t3')] });
    expect(await driver().startInstances(spec(), 2)).toEqual(['t2', 't3']);
    expect(ecs.commandCalls(UpdateServiceCommand)[0].args[0].input).toMatchObject({
      service: SERVICE,
      desiredCount: 3,
      deploymentConfiguration: { deploymentCircuitBreaker: { enable: true, rollback: false } },
      enableExecuteCommand: true,
      propagateTags: 'SERVICE',
      enableECSManagedTags: true,
    });
    expect(ecs.commandCalls(RegisterTaskDefinitionCommand)).toHaveLength(0);
  });

  it('fails with health-check when the circuit breaker stopped launching tasks', async () => {
    firstUse();
    ecs.on(ListTasksCommand).resolves({ taskArns: [] });
    ecs.on(DescribeServicesCommand).resolvesOnce({ services: [] }).resolves({ services: [{ status: 'ACTIVE', deployments: [{ id: 'd1', rolloutState: 'FAILED', rolloutStateReason: 'tasks failed to start' }] }] });
    await expect(driver().startInstances(spec(), 1)).rejects.toMatchObject({ category: 'health-check', code: 'circuit-breaker' });
  });

  it('translates AccessDenied to permission and rethrows throttling as it is', async () => {
    firstUse();
    ecs.on(CreateServiceCommand).rejects(Object.assign(new Error('not authorized to perform ecs:CreateService'), { name: 'AccessDeniedException', $metadata: {} }));
    await expect(driver().startInstances(spec(), 1)).rejects.toMatchObject({ category: 'permission', code: 'aws-access-denied' });
    const throttled = Object.assign(new Error('Rate exceeded'), { name: 'ThrottlingException', $metadata: {}, $retryable: { throttling: true } });
    ecs.on(CreateServiceCommand).rejects(throttled);
    await expect(driver().startInstances(spec(), 1)).rejects.toBe(throttled);
  });

  it('refuses a workload without an image', async () => {
    firstUse();
    await expect(driver().startInstances(spec({ workload: { command: 'x' }, volumeDirs: {} }), 1)).rejects.toMatchObject({ category: 'invalid-input', code: 'image-required' });
  });
});

describe('EcsComputeDriver health', () => {
  it('waitHealthy rejects with image-pull when the task stopped with CannotPullContainerError', async () => {
    ecs.on(DescribeTasksCommand).resolves({
      tasks: [task('t1', { lastStatus: 'STOPPED', desiredStatus: 'STOPPED', stopCode: 'TaskFailedToStart', stoppedReason: 'CannotPullContainerError: pull image manifest has been retried 5 time(s): not found' })],
    });
    await expect(driver().waitHealthy(env, ['t1'])).rejects.toMatchObject({ category: 'image-pull', code: 'image-pull-failed' });
  });

  it.each([
    [{ stopCode: 'TaskFailedToStart' as const, stoppedReason: 'ResourceInitializationError: failed to configure ENI' }, 'capacity'],
    [{ stopCode: 'EssentialContainerExited' as const, stoppedReason: 'Essential container in task exited' }, 'health-check'],
    [{ stopCode: 'ServiceSchedulerInitiated' as const, stoppedReason: 'Task failed container health checks' }, 'health-check'],
    [{ stopCode: 'EssentialContainerExited' as const, stoppedReason: 'OutOfMemoryError: Container killed due to memory usage' }, 'capacity'],
  ])('a task stopped with %o fails the wait with %s', async (stop, category) => {
    ecs.on(DescribeTasksCommand).resolves({ tasks: [task('t1', { lastStatus: 'STOPPED', desiredStatus: 'STOPPED', ...stop })] });
    await expect(driver().waitHealthy(env, ['t1'])).rejects.toMatchObject({ category });
  });

  it('waitHealthy rejects with health-check once the deadline passes without a passing probe', async () => {
    ecs.on(DescribeTasksCommand).callsFake(() => ({ tasks: [task('t1', { startedAt: new Date(1_700_000_000_000) }, 'UNKNOWN')] }));
    now = 1_700_000_000_000;
    await expect(driver().waitHealthy(env, ['t1'])).rejects.toMatchObject({ category: 'health-check', code: 'never-healthy' });
    expect(now - 1_700_000_000_000).toBeGreaterThan(60_000);
  });

  it('healthOf summarises for the ECS-event Lambda: healthy, pending, or failed', async () => {
    ecs.on(DescribeTasksCommand).resolves({ tasks: [task('t1'), task('t2', {}, 'UNKNOWN')] });
    expect(await driver().healthOf(env, ['t1', 't2'])).toEqual({ allHealthy: false, pending: ['t2'] });
    ecs.on(DescribeTasksCommand).resolves({ tasks: [task('t1'), task('t2')] });
    expect(await driver().healthOf(env, ['t1', 't2'])).toEqual({ allHealthy: true, pending: [] });
  });

  it('a task of another env is not found', async () => {
    ecs.on(DescribeTasksCommand).resolves({ tasks: [task('t1', { tags: ecsTags({ ...env, env: 'staging' }) })] });
    await expect(driver().healthOf(env, ['t1'])).rejects.toMatchObject({ category: 'not-found' });
  });
});

describe('EcsComputeDriver stop and list', () => {
  it('stops chosen tasks: protects the others from scale-in, lowers the count, stops, lifts the protection', async () => {
    ecs.on(DescribeTasksCommand).resolvesOnce({ tasks: [task('t1')] }).resolves({ tasks: [task('t1', { lastStatus: 'STOPPED', desiredStatus: 'STOPPED' })] });
    ecs.on(DescribeServicesCommand).resolves({ services: [{ status: 'ACTIVE', desiredCount: 2 }] });
    ecs.on(ListTasksCommand).resolves({ taskArns: [arn('t1'), arn('t2')] });
    await driver().stopInstances(env, ['t1']);
    const order = ecs.calls().map((c) => (c.args[0] as object).constructor.name).filter((n) => !n.startsWith('Describe') && !n.startsWith('List'));
    expect(order).toEqual(['UpdateTaskProtectionCommand', 'UpdateServiceCommand', 'StopTaskCommand', 'UpdateTaskProtectionCommand']);
    expect(ecs.commandCalls(UpdateTaskProtectionCommand)[0].args[0].input).toMatchObject({ tasks: [arn('t2')], protectionEnabled: true });
    expect(ecs.commandCalls(UpdateServiceCommand)[0].args[0].input).toMatchObject({ service: SERVICE, desiredCount: 1 });
    expect(ecs.commandCalls(StopTaskCommand)[0].args[0].input).toMatchObject({ task: arn('t1') });
  });

  it('stopping the last task deletes the service', async () => {
    ecs.on(DescribeTasksCommand).resolvesOnce({ tasks: [task('t1')] }).resolves({ tasks: [task('t1', { lastStatus: 'DEPROVISIONING', desiredStatus: 'STOPPED' })] });
    ecs.on(DescribeServicesCommand).resolves({ services: [{ status: 'ACTIVE', desiredCount: 1 }] });
    ecs.on(ListTasksCommand).resolves({ taskArns: [arn('t1')] });
    await driver().stopInstances(env, ['t1', 'gone']);
    expect(ecs.commandCalls(UpdateTaskProtectionCommand)).toHaveLength(0);
    expect(ecs.commandCalls(DeleteServiceCommand)[0].args[0].input).toMatchObject({ service: SERVICE, force: true });
  });

  it('lists the env services by name prefix and maps tasks to instances with IPv6 addresses and revisions', async () => {
    ecs.on(ListServicesCommand).resolves({ serviceArns: [`arn:aws:ecs:eu-west-1:1:service/berth/${SERVICE}`, 'arn:aws:ecs:eu-west-1:1:service/berth/berth-ffffffffff-web-1'] });
    ecs.on(ListTasksCommand).resolves({ taskArns: [arn('t1'), arn('t2')] });
    ecs.on(DescribeTasksCommand).resolves({ tasks: [task('t1'), task('t2', { lastStatus: 'PENDING' }, 'UNKNOWN')] });
    const list = await driver().list(env);
    expect(ecs.commandCalls(ListTasksCommand)).toHaveLength(1);
    expect(list.map((i) => [i.id, i.state])).toEqual([
      ['t1', 'healthy'],
      ['t2', 'starting'],
    ]);
    expect(list[0]).toMatchObject({ workload: 'web', releaseId: 'rel-7', revision: 'rel-7.abcd1234', addresses: { 8080: { host: '2001:db8::5', port: 8080 } } });
  });
});
