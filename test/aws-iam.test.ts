// IAM checked by the twin's authorizer (test/support/aws-twin/iam.ts): every SDK command the AWS
// drivers send in their main flows, captured with aws-sdk-client-mock, is evaluated with
// iam-simulate against the policies the synthesized stack gives the Lambda role that sends it,
// with the actions AWS checks on the caller's credentials alongside (issue 15, fix 1). The negative
// cases remove one grant from the synthesized policy and name what then fails.
import { BackupClient, ListRecoveryPointsByBackupVaultCommand, ListTagsCommand, StartBackupJobCommand } from '@aws-sdk/client-backup';
import { CloudWatchLogsClient, CreateLogGroupCommand, FilterLogEventsCommand, PutRetentionPolicyCommand } from '@aws-sdk/client-cloudwatch-logs';
import { CostExplorerClient, ListCostAllocationTagsCommand, UpdateCostAllocationTagsStatusCommand } from '@aws-sdk/client-cost-explorer';
import { CreateSecurityGroupCommand, DescribeSecurityGroupRulesCommand, DescribeSecurityGroupsCommand, EC2Client } from '@aws-sdk/client-ec2';
import { ClientException, CreateServiceCommand, DescribeServicesCommand, DescribeTaskDefinitionCommand, DescribeTasksCommand, ECSClient, ExecuteCommandCommand, ListServicesCommand, ListTasksCommand, RegisterTaskDefinitionCommand } from '@aws-sdk/client-ecs';
import { CreateAccessPointCommand, CreateFileSystemCommand, DescribeAccessPointsCommand, DescribeFileSystemsCommand, DescribeMountTargetsCommand, EFSClient } from '@aws-sdk/client-efs';
import {
  CreateListenerCommand,
  CreateLoadBalancerCommand,
  CreateTargetGroupCommand,
  DescribeListenersCommand,
  DescribeLoadBalancersCommand,
  DescribeTagsCommand,
  DescribeTargetGroupsCommand,
  DescribeTargetHealthCommand,
  ElasticLoadBalancingV2Client,
  LoadBalancerNotFoundException,
  TargetGroupNotFoundException,
} from '@aws-sdk/client-elastic-load-balancing-v2';
import { DecryptCommand, EncryptCommand, GenerateMacCommand, KMSClient } from '@aws-sdk/client-kms';
import { CreateSecretCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { SendTaskSuccessCommand, SFNClient, StartExecutionCommand } from '@aws-sdk/client-sfn';
import { mockClient, type AwsStub } from 'aws-sdk-client-mock';
import { beforeAll, describe, expect, it } from 'vitest';
import type { AwsService } from '../functions/aws/platform-deps.ts';
import type { EnvRef } from '../functions/core/ports.ts';
import { ensureLogGroup, CloudWatchLogStore } from '../functions/drivers/aws/cloudwatch-logs.ts';
import { awsRuntimeConfigFromEnv, type AwsRuntimeConfig } from '../functions/drivers/aws/config.ts';
import { CostExplorerBillingTags } from '../functions/drivers/aws/cost-tags.ts';
import { EcsComputeDriver } from '../functions/drivers/aws/ecs-compute.ts';
import { EcsExecGateway } from '../functions/drivers/aws/ecs-exec.ts';
import { EfsVolumeDriver } from '../functions/drivers/aws/efs-volumes.ts';
import { KmsCipher } from '../functions/drivers/aws/kms-cipher.ts';
import { NlbEndpointDriver } from '../functions/drivers/aws/nlb-endpoints.ts';
import { sendTaskResult, StepFunctionsOrchestrator } from '../functions/drivers/aws/sfn-orchestrator.ts';
import { ecsTags, fileSystemToken, serviceName } from '../functions/drivers/aws/tags.ts';
import { evaluateCall, iamAuthorizer, synthesizeIamModel, TEST_ACCOUNT, TEST_REGION, withoutStatement, type IamModel, type TwinCall } from './support/aws-twin/iam.ts';

const env: EnvRef = { org: 'acme', project: 'shop', app: 'api', env: 'prod' };
const ORG_TAGS = { 'berth:org': 'acme', 'berth:project': 'shop', 'berth:app': 'api', 'berth:env': 'prod' };
const A = (service: string, resource: string) => `arn:aws:${service}:${TEST_REGION}:${TEST_ACCOUNT}:${resource}`;
const LB_ARN = A('elasticloadbalancing', 'loadbalancer/net/berth-lb/50dc6c495c0c9188');
const TG_ARN = A('elasticloadbalancing', 'targetgroup/berth-tg/73e2d6bc24d8a067');
const FS_ID = 'fs-0123abcd';
const clock = { now: () => 0, sleep: async () => undefined };

/** Resources Berth created carry the org's tags; the stack's own (task SG, vault…) do not. */
const resourceTags = (arn: string) => (/(file-system|access-point|recovery-point|targetgroup|loadbalancer|listener|secret:berth|security-group\/sg-nlb)/.test(arn) ? ORG_TAGS : undefined);

let model: IamModel;
let config: AwsRuntimeConfig;

beforeAll(() => {
  model = synthesizeIamModel();
  config = awsRuntimeConfigFromEnv(model.environment);
}, 120_000);

const CLIENTS: [AwsService, new (c: object) => { send: unknown }][] = [
  ['backup', BackupClient],
  ['cloudwatch-logs', CloudWatchLogsClient],
  ['cost-explorer', CostExplorerClient],
  ['ec2', EC2Client],
  ['ecs', ECSClient],
  ['efs', EFSClient],
  ['elastic-load-balancing-v2', ElasticLoadBalancingV2Client],
  ['kms', KMSClient],
  ['secrets-manager', SecretsManagerClient],
  ['sfn', SFNClient],
];

/** Runs `flow` with every SDK client mocked by `arrange`, and returns the commands sent, as the twin records them. */
async function capture(principal: string, arrange: (m: Record<AwsService, AwsStub<any, any, any>>) => void, flow: () => Promise<unknown>): Promise<TwinCall[]> {
  const mocks = Object.fromEntries(CLIENTS.map(([service, client]) => [service, mockClient(client as never)])) as Record<AwsService, AwsStub<any, any, any>>;
  try {
    arrange(mocks);
    await flow();
    return CLIENTS.flatMap(([service]) =>
      mocks[service].calls().map((c) => {
        const command = c.args[0] as { constructor: { name: string }; input: unknown };
        return { service, action: `${service}:${command.constructor.name.replace(/Command$/, '')}`, input: command.input, principal };
      }),
    );
  } finally {
    for (const m of Object.values(mocks)) m.restore();
  }
}

const clients = () => ({
  ecs: new ECSClient({ region: TEST_REGION }),
  elbv2: new ElasticLoadBalancingV2Client({ region: TEST_REGION }),
  ec2: new EC2Client({ region: TEST_REGION }),
  efs: new EFSClient({ region: TEST_REGION }),
  backup: new BackupClient({ region: TEST_REGION }),
  logs: new CloudWatchLogsClient({ region: TEST_REGION }),
  secrets: new SecretsManagerClient({ region: TEST_REGION }),
  kms: new KMSClient({ region: TEST_REGION }),
  sfn: new SFNClient({ region: TEST_REGION }),
  ce: new CostExplorerClient({ region: 'us-east-1' }),
});

/** `berth endpoints create` on a fresh env: security group, NLB, target group, listener (steps). */
const endpointCreate = () =>
  capture(
    'steps',
    (m) => {
      m.ec2.on(DescribeSecurityGroupsCommand).resolves({ SecurityGroups: [] });
      m.ec2.on(CreateSecurityGroupCommand).resolves({ GroupId: 'sg-nlb0123' });
      m.ec2.on(DescribeSecurityGroupRulesCommand).resolves({ SecurityGroupRules: [] });
      m['elastic-load-balancing-v2'].on(DescribeLoadBalancersCommand).rejects(new LoadBalancerNotFoundException({ message: 'not found', $metadata: {} }));
      m['elastic-load-balancing-v2'].on(CreateLoadBalancerCommand).resolves({ LoadBalancers: [{ LoadBalancerArn: LB_ARN, DNSName: 'berth-lb.elb.amazonaws.com', AvailabilityZones: [] }] });
      m['elastic-load-balancing-v2'].on(DescribeTargetGroupsCommand).rejects(new TargetGroupNotFoundException({ message: 'not found', $metadata: {} }));
      m['elastic-load-balancing-v2'].on(CreateTargetGroupCommand).resolves({ TargetGroups: [{ TargetGroupArn: TG_ARN, Port: 8080 }] });
      m['elastic-load-balancing-v2'].on(DescribeListenersCommand).resolves({ Listeners: [] });
      m['elastic-load-balancing-v2'].on(CreateListenerCommand).resolves({ Listeners: [{ ListenerArn: LB_ARN.replace(':loadbalancer/', ':listener/') + '/1' }] });
    },
    async () => {
      const c = clients();
      const driver = new NlbEndpointDriver({ elbv2: c.elbv2, ec2: c.ec2 }, config);
      await driver.ensure(env, 'web', { workload: 'web', port: 443, targetPort: 8080, ipv4: true });
    },
  );

/** Targets move to new tasks, then the endpoint goes (steps). */
const endpointRollAndRemove = () =>
  capture(
    'steps',
    (m) => {
      m.ec2.on(DescribeSecurityGroupsCommand).resolves({ SecurityGroups: [{ GroupId: 'sg-nlb0123' }] });
      m.ec2.on(DescribeSecurityGroupRulesCommand).resolves({ SecurityGroupRules: [{ SecurityGroupRuleId: 'sgr-1', IsEgress: false, FromPort: 443, ToPort: 443, CidrIpv6: '::/0', Description: 'Berth endpoint web (IPv6)' }] });
      m['elastic-load-balancing-v2'].on(DescribeLoadBalancersCommand).resolves({ LoadBalancers: [{ LoadBalancerArn: LB_ARN }] });
      m['elastic-load-balancing-v2'].on(DescribeTargetGroupsCommand).resolves({ TargetGroups: [{ TargetGroupArn: TG_ARN, Port: 8080 }] });
      // The old target first, then the new one healthy beside it, then the old one drained away.
      m['elastic-load-balancing-v2']
        .on(DescribeTargetHealthCommand)
        .resolvesOnce({ TargetHealthDescriptions: [{ Target: { Id: '2001:db8::1', Port: 8080 }, TargetHealth: { State: 'healthy' } }] })
        .resolvesOnce({ TargetHealthDescriptions: [{ Target: { Id: '2001:db8::1', Port: 8080 }, TargetHealth: { State: 'healthy' } }, { Target: { Id: '2001:db8::2', Port: 8080 }, TargetHealth: { State: 'healthy' } }] })
        .resolves({ TargetHealthDescriptions: [{ Target: { Id: '2001:db8::2', Port: 8080 }, TargetHealth: { State: 'healthy' } }] });
      m['elastic-load-balancing-v2'].on(DescribeTagsCommand).resolves({ TagDescriptions: [] });
      m['elastic-load-balancing-v2'].on(DescribeListenersCommand).resolves({ Listeners: [{ ListenerArn: LB_ARN.replace(':loadbalancer/', ':listener/') + '/1', DefaultActions: [{ Type: 'forward', TargetGroupArn: TG_ARN }] }] });
    },
    async () => {
      const c = clients();
      let now = 0;
      const advancing = { now: () => now, sleep: async (ms: number) => void (now += ms) };
      const driver = new NlbEndpointDriver({ elbv2: c.elbv2, ec2: c.ec2 }, config, { clock: advancing });
      await driver.setTargets(env, 'web', [{ instance: 'i-2', host: '2001:db8::2', port: 8080 }]);
      await driver.remove(env, 'web');
    },
  );

/** A volume created, snapshotted and deleted (steps). */
const volumeLifecycle = () =>
  capture(
    'steps',
    (m) => {
      const fs = { FileSystemId: FS_ID, FileSystemArn: A('elasticfilesystem', `file-system/${FS_ID}`), LifeCycleState: 'available', SizeInBytes: { Value: 6144 }, Tags: Object.entries(ORG_TAGS).map(([Key, Value]) => ({ Key, Value })) } as never;
      m.efs.on(DescribeFileSystemsCommand, { CreationToken: fileSystemToken(env, 'data') }).resolvesOnce({ FileSystems: [] }).resolves({ FileSystems: [fs] });
      m.efs.on(CreateFileSystemCommand).resolves({ FileSystemId: FS_ID });
      m.efs.on(DescribeFileSystemsCommand, { FileSystemId: FS_ID }).resolves({ FileSystems: [fs] });
      m.efs.on(DescribeMountTargetsCommand).resolvesOnce({ MountTargets: [] }).resolvesOnce({ MountTargets: [{ MountTargetId: 'fsmt-1', FileSystemId: FS_ID, SubnetId: config.taskSubnets[0].id, LifeCycleState: 'available' } as never] }).resolvesOnce({ MountTargets: [{ MountTargetId: 'fsmt-1', FileSystemId: FS_ID, SubnetId: config.taskSubnets[0].id, LifeCycleState: 'available' } as never] }).resolves({ MountTargets: [] });
      m.efs.on(DescribeAccessPointsCommand).resolvesOnce({ AccessPoints: [] }).resolves({ AccessPoints: [{ AccessPointId: 'fsap-1', LifeCycleState: 'available' }] });
      m.efs.on(CreateAccessPointCommand).resolves({ AccessPointId: 'fsap-1', LifeCycleState: 'available' });
      m.backup.on(StartBackupJobCommand).resolves({ BackupJobId: 'job-1' });
      m.backup.on(ListRecoveryPointsByBackupVaultCommand).resolves({ RecoveryPoints: [{ RecoveryPointArn: A('backup', 'recovery-point:1EB3B5E7-9EB0-435A-9BEF-A3E1BC7A5B1D') }] });
      m.backup.on(ListTagsCommand).resolves({ Tags: { ...ORG_TAGS, 'berth:volume': 'data', 'berth:snapshot': 'snap-1' } });
    },
    async () => {
      const c = clients();
      const driver = new EfsVolumeDriver({ efs: c.efs, backup: c.backup }, config, { clock, timing: { intervalMs: 1, timeoutMs: 1000 } });
      await driver.ensure(env, 'data', { size: '1Gi' } as never);
      await driver.snapshot(env, 'data', 'snap-1');
      await driver.deleteSnapshot(env, 'data', 'snap-1');
      await driver.remove(env, 'data');
    },
  );

const SERVICE = serviceName(env, 'web', 'rel-7.abcd1234');
const taskArn = (id: string) => `${config.clusterArn.replace(':cluster/', ':task/')}/${id}`;
const runningTask = () => ({
  taskArn: taskArn('t1'),
  group: `service:${SERVICE}`,
  lastStatus: 'RUNNING',
  desiredStatus: 'RUNNING',
  tags: ecsTags(env, { 'berth:workload': 'web', 'berth:release': 'rel-7', 'berth:revision': 'rel-7.abcd1234', 'berth:ports': '8080', 'berth:health-deadline': '60' }),
  containers: [{ name: 'app' }, { name: 'berth-probe', healthStatus: 'HEALTHY' as const }],
  attachments: [{ type: 'ElasticNetworkInterface', details: [{ name: 'ipv6Address', value: '2001:db8::5' }] }],
});

/** A first deploy: secrets stored, a task definition registered, the service created (steps). */
const firstDeploy = () =>
  capture(
    'steps',
    (m) => {
      m.ecs.on(DescribeTaskDefinitionCommand).rejects(new ClientException({ message: 'Unable to describe task definition.', $metadata: {} }));
      m.ecs.on(RegisterTaskDefinitionCommand).resolves({ taskDefinition: { taskDefinitionArn: A('ecs', `task-definition/${SERVICE}:1`) } });
      m.ecs.on(DescribeServicesCommand).resolves({ services: [], failures: [{ reason: 'MISSING' }] });
      m.ecs.on(CreateServiceCommand).resolves({});
      m.ecs.on(ListTasksCommand).resolves({ taskArns: [taskArn('t1')] });
      m.ecs.on(DescribeTasksCommand).resolves({ tasks: [runningTask()] });
      m['secrets-manager'].on(CreateSecretCommand).resolves({ ARN: A('secretsmanager', 'secret:berth/acme/shop/api/prod/db-AbCdEf'), VersionId: 'v-1' });
      m.kms.on(DecryptCommand).resolves({ Plaintext: new TextEncoder().encode('x') });
      m.sfn.on(SendTaskSuccessCommand).resolves({});
    },
    async () => {
      const c = clients();
      await ensureLogGroup(c.logs, config, env);
      const driver = new EcsComputeDriver({ ecs: c.ecs, secrets: c.secrets, logs: c.logs }, config, { clock, startTiming: { intervalMs: 1, timeoutMs: 100 }, stopTiming: { intervalMs: 1, timeoutMs: 100 } });
      await driver.startInstances(
        {
          env,
          releaseId: 'rel-7',
          revision: 'rel-7.abcd1234',
          workloadName: 'web',
          workload: { image: `${TEST_ACCOUNT}.dkr.ecr.${TEST_REGION}.amazonaws.com/web:1`, command: 'node server.js', ports: [8080], healthCheck: { type: 'http', path: '/healthz' }, volumes: [{ volume: 'data', path: '/data' }] },
          workdir: '',
          environment: {},
          secretBundles: { db: { URL: 'postgres://db' } },
          volumeDirs: { data: `efs://${FS_ID}/fsap-1?zone=${config.taskSubnets[0].az}` },
        } as never,
        1,
      );
      await new KmsCipher({ kms: c.kms }, config).decrypt('kms:1:eA==').catch(() => undefined);
      await sendTaskResult(c.sfn, 'token', { ok: true });
    },
  );

/** What the API does: store a secret bundle, start an operation, read status and logs, exec, cost tags (api). */
const apiCalls = () =>
  capture(
    'api',
    (m) => {
      m.kms.on(EncryptCommand).resolves({ CiphertextBlob: new Uint8Array([1]) });
      m.kms.on(GenerateMacCommand).resolves({ Mac: new Uint8Array([1]) });
      m.sfn.on(StartExecutionCommand).resolves({ executionArn: 'x' });
      m.ecs.on(ListServicesCommand).resolves({ serviceArns: [A('ecs', `service/${config.clusterArn.split('/').pop()}/${SERVICE}`)] });
      m.ecs.on(DescribeServicesCommand).resolves({ services: [{ serviceName: SERVICE, status: 'ACTIVE', desiredCount: 1, tags: runningTask().tags }] });
      m.ecs.on(ListTasksCommand).resolves({ taskArns: [taskArn('t1')] });
      m.ecs.on(DescribeTasksCommand).resolves({ tasks: [runningTask()] });
      m.ecs.on(ExecuteCommandCommand).resolves({ session: { sessionId: 's', streamUrl: 'wss://x', tokenValue: 't' } });
      m['cloudwatch-logs'].on(FilterLogEventsCommand).resolves({ events: [] });
      m['cost-explorer'].on(ListCostAllocationTagsCommand).resolves({ CostAllocationTags: [] });
      m['cost-explorer'].on(UpdateCostAllocationTagsStatusCommand).resolves({ Errors: [] });
    },
    async () => {
      const c = clients();
      const cipher = new KmsCipher({ kms: c.kms }, config);
      await cipher.encrypt('secret');
      await cipher.digest('secret');
      await new StepFunctionsOrchestrator({ sfn: c.sfn }, config, { recordStep: async () => undefined } as never).start('deploy', 'op-1', {}).catch(() => undefined);
      const compute = new EcsComputeDriver({ ecs: c.ecs, secrets: c.secrets }, config, { clock });
      const [instance] = await compute.list(env);
      await new EcsExecGateway({ ecs: c.ecs }, config).open(env, instance, { argv: ['sh'], tty: true }).catch(() => undefined);
      await new CloudWatchLogStore({ logs: c.logs }, config).query(env, { limit: 10 } as never);
      await new CostExplorerBillingTags({ ce: c.ce }).activate().catch(() => undefined);
    },
  );

async function denials(calls: TwinCall[], m: IamModel = model): Promise<string[]> {
  const authorize = iamAuthorizer(m, { resourceTags, fileSystemOfMountTarget: () => FS_ID });
  const out: string[] = [];
  for (const call of calls) await authorize(call).catch((err: Error) => out.push(err.message));
  return out;
}

describe('IAM: every command the AWS drivers send is allowed for the Lambda role that sends it', () => {
  it.each([
    ['endpoint create (steps)', endpointCreate],
    ['endpoint targets and removal (steps)', endpointRollAndRemove],
    ['volume create, snapshot, delete (steps)', volumeLifecycle],
    ['first deploy and its health waiter (steps)', firstDeploy],
    ['status, logs, exec, secrets, operations, cost tags (api)', apiCalls],
  ])('%s', async (_name, flow) => {
    const calls = await flow();
    expect(calls.length).toBeGreaterThan(3);
    expect(await denials(calls)).toEqual([]);
  }, 60_000);
});

/** The ECS-events Lambda settles a waiter; the reconcile reads and starts an operation. */
const eventsAndReconcile = async () => [
  ...(await capture(
    'ecs-events',
    (m) => {
      m.ecs.on(DescribeTasksCommand).resolves({ tasks: [runningTask()] });
      m.sfn.on(SendTaskSuccessCommand).resolves({});
    },
    async () => {
      const c = clients();
      await new EcsComputeDriver({ ecs: c.ecs, secrets: c.secrets }, config, { clock }).healthOf(env, ['t1']);
      await sendTaskResult(c.sfn, 'token', { ok: true });
    },
  )),
  ...(await capture(
    'reconcile',
    (m) => {
      m.ecs.on(ListServicesCommand).resolves({ serviceArns: [] });
      m.sfn.on(StartExecutionCommand).resolves({ executionArn: 'x' });
    },
    async () => {
      const c = clients();
      await new EcsComputeDriver({ ecs: c.ecs, secrets: c.secrets }, config, { clock }).list(env);
      await new StepFunctionsOrchestrator({ sfn: c.sfn }, config, { recordStep: async () => undefined } as never).start('deploy', 'op-2', {}).catch(() => undefined);
    },
  )),
];

describe('IAM: the ECS-events and reconcile Lambdas', () => {
  it('settle waiters and start drift corrections with their own roles', async () => {
    const calls = await eventsAndReconcile();
    expect(new Set(calls.map((c) => c.principal))).toEqual(new Set(['ecs-events', 'reconcile']));
    expect(await denials(calls)).toEqual([]);
  }, 60_000);
});

describe('IAM: each rule the check enforces makes a call fail when its grant is gone', () => {
  const first = async (flow: () => Promise<TwinCall[]>, action: string) => (await flow()).find((c) => c.action.endsWith(`:${action}`))!;

  it('[15.1] without the EC2 lookups, CreateLoadBalancer is denied naming ec2:DescribeAccountAttributes', async () => {
    const call = await first(endpointCreate, 'CreateLoadBalancer');
    const denied = await denials([call], withoutStatement(model, 'steps', 'EndpointNetworkLookups'));
    expect(denied).toHaveLength(1);
    expect(denied[0]).toMatch(/role steps .* not authorized to perform ec2:DescribeAccountAttributes on resource \*/);
    expect(denied[0]).toContain('elasticloadbalancing:CreateLoadBalancer: https://docs.aws.amazon.com/elasticloadbalancing/latest/userguide/elb-api-permissions.html');
    expect(denied[0]).toContain('"Action":"ec2:DescribeAccountAttributes","Resource":"*"');
  }, 60_000);

  it('[15.1] without ec2:DescribeInstances, RegisterTargets is denied', async () => {
    const call = await first(endpointRollAndRemove, 'RegisterTargets');
    const [denied] = await denials([call], withoutStatement(model, 'steps', 'EndpointNetworkLookups', ['ec2:DescribeInstances']));
    expect(denied).toMatch(/ec2:DescribeInstances on resource \* \(AWS checks it, with the caller's credentials, for elasticloadbalancing:RegisterTargets/);
  }, 60_000);

  it('iam:PassRole: registering a task definition needs PassRole on both task roles', async () => {
    const call = await first(firstDeploy, 'RegisterTaskDefinition');
    const [denied] = await denials([call], withoutStatement(model, 'steps', 'PassTaskRoles'));
    expect(denied).toMatch(/iam:PassRole on resource arn:aws:iam::123456789012:role\/AppsTaskExecutionRole/);
  }, 60_000);

  it('iam:PassRole: a snapshot needs PassRole on the backup role, for backup.amazonaws.com only', async () => {
    const call = await first(volumeLifecycle, 'StartBackupJob');
    const [denied] = await denials([call], withoutStatement(model, 'steps', 'PassBackupRole'));
    expect(denied).toMatch(/iam:PassRole on resource arn:aws:iam::123456789012:role\/BackupRole.*"iam:PassedToService":"backup.amazonaws.com"/);
  }, 60_000);

  it('aws:RequestTag: a file system created without the berth:org tag is denied', async () => {
    const call = await first(volumeLifecycle, 'CreateFileSystem');
    const untagged = { ...call, input: { ...call.input, Tags: (call.input.Tags as { Key: string }[]).filter((t) => t.Key !== 'berth:org') } };
    const [denied] = await denials([untagged]);
    expect(denied).toMatch(/elasticfilesystem:CreateFileSystem on resource \*\. No statement allows it\. Closest: CreateFileSystems names the action but its condition is not met/);
  }, 60_000);

  it('aws:ResourceTag: a file system that belongs to no Berth org cannot be deleted', async () => {
    const call = await first(volumeLifecycle, 'DeleteFileSystem');
    const denied = await iamAuthorizer(model, { resourceTags: () => undefined })(call).then(() => 'allowed', (e: Error) => e.message);
    expect(denied).toMatch(/elasticfilesystem:DeleteFileSystem on resource arn:aws:elasticfilesystem:eu-west-1:123456789012:file-system\/fs-0123abcd\. No statement allows it\. Closest: ChangeVolumes names the action but its condition is not met/);
  }, 60_000);

  it('EC2 on behalf of EFS: without MountTargetInterfaces, CreateMountTarget is denied naming ec2:CreateNetworkInterface', async () => {
    const call = await first(volumeLifecycle, 'CreateMountTarget');
    const [denied] = await denials([call], withoutStatement(model, 'steps', 'MountTargetInterfaces'));
    expect(denied).toMatch(/ec2:CreateNetworkInterface on resource arn:aws:ec2:eu-west-1:123456789012:network-interface\/.*access-control-managing-permissions/);
  }, 60_000);

  it('the API role cannot change runtime resources: CreateService as api is denied', async () => {
    const call = await first(firstDeploy, 'CreateService');
    const [denied] = await denials([{ ...call, principal: 'api' }]);
    expect(denied).toMatch(/^role api .* not authorized to perform ecs:CreateService/);
    expect((await evaluateCall(model, call, { resourceTags })).every((v) => v.allowed)).toBe(true);
  }, 60_000);
});
