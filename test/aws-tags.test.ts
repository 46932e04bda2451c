// "Every resource Berth creates carries the four berth:* tags" (SPEC §5), checked over every create
// call that a deploy-shaped run of all the AWS drivers records, whatever the SDK's tag shape.
import { BackupClient } from '@aws-sdk/client-backup';
import { CloudWatchLogsClient, PutLogEventsCommand, ResourceNotFoundException } from '@aws-sdk/client-cloudwatch-logs';
import { CreateSecurityGroupCommand, DescribeSecurityGroupRulesCommand, DescribeSecurityGroupsCommand, EC2Client } from '@aws-sdk/client-ec2';
import { ClientException, DescribeServicesCommand, DescribeTaskDefinitionCommand, ECSClient, ListTasksCommand, RegisterTaskDefinitionCommand } from '@aws-sdk/client-ecs';
import {
  CreateAccessPointCommand,
  CreateFileSystemCommand,
  DescribeAccessPointsCommand,
  DescribeFileSystemsCommand,
  DescribeMountTargetsCommand,
  EFSClient,
  type FileSystemDescription,
  type MountTargetDescription,
} from '@aws-sdk/client-efs';
import {
  CreateLoadBalancerCommand,
  CreateTargetGroupCommand,
  DescribeListenersCommand,
  DescribeLoadBalancersCommand,
  DescribeTargetGroupsCommand,
  ElasticLoadBalancingV2Client,
  LoadBalancerNotFoundException,
  TargetGroupNotFoundException,
} from '@aws-sdk/client-elastic-load-balancing-v2';
import { CreateSecretCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { mockClient } from 'aws-sdk-client-mock';
import { expect, it } from 'vitest';
import type { EnvRef } from '../functions/core/ports.ts';
import { CloudWatchLogStore } from '../functions/drivers/aws/cloudwatch-logs.ts';
import { awsRuntimeConfigFromEnv } from '../functions/drivers/aws/config.ts';
import { EcsComputeDriver } from '../functions/drivers/aws/ecs-compute.ts';
import { EfsVolumeDriver } from '../functions/drivers/aws/efs-volumes.ts';
import { NlbEndpointDriver } from '../functions/drivers/aws/nlb-endpoints.ts';

const env: EnvRef = { org: 'acme', project: 'shop', app: 'api', env: 'prod' };
const config = awsRuntimeConfigFromEnv({
  AWS_REGION: 'eu-west-1',
  TABLE_NAME: 'berth',
  CLUSTER_ARN: 'arn:cluster',
  VPC_ID: 'vpc-1',
  SUBNETS: '[{"az":"eu-west-1a","id":"subnet-a"}]',
  TASK_SECURITY_GROUP_ID: 'sg-tasks',
  TASK_EXECUTION_ROLE_ARN: 'arn:exec',
  TASK_ROLE_ARN: 'arn:task',
  LOG_GROUP_PREFIX: '/berth/',
  KMS_KEY_ID: 'alias/berth',
  MAC_KEY_ID: 'alias/berth-mac',
  STATE_MACHINE_ARNS: JSON.stringify({ deploy: 'd', scale: 's', endpoint: 'e', volume: 'v', env: 'n' }),
  BACKUP_VAULT_NAME: 'vault',
  BACKUP_ROLE_ARN: 'arn:backup',
});

// Resources AWS does not let anyone tag: they belong to a tagged parent.
const UNTAGGABLE: Record<string, string> = {
  CreateLogStreamCommand: 'log streams take no tags; their log group is tagged',
  CreateMountTargetCommand: 'mount targets take no tags; their file system is tagged',
};

function tagsOf(input: Record<string, unknown>): Record<string, string> {
  const out: Record<string, string> = {};
  const add = (tags: unknown) => {
    if (Array.isArray(tags)) for (const t of tags) out[t.Key ?? t.key] = t.Value ?? t.value;
    else if (tags && typeof tags === 'object') Object.assign(out, tags);
  };
  add(input.Tags);
  add(input.tags);
  add(input.RecoveryPointTags);
  for (const spec of (input.TagSpecifications as { Tags: unknown }[] | undefined) ?? []) add(spec.Tags);
  return out;
}

it('every create call of every AWS driver carries berth:org, berth:project, berth:app and berth:env', async () => {
  const mocks = {
    ecs: mockClient(ECSClient),
    secrets: mockClient(SecretsManagerClient),
    logs: mockClient(CloudWatchLogsClient),
    elb: mockClient(ElasticLoadBalancingV2Client),
    ec2: mockClient(EC2Client),
    efs: mockClient(EFSClient),
    backup: mockClient(BackupClient),
  };
  mocks.ecs.on(DescribeTaskDefinitionCommand).rejects(new ClientException({ message: 'Unable to describe task definition.', $metadata: {} }));
  mocks.ecs.on(RegisterTaskDefinitionCommand).resolves({ taskDefinition: { taskDefinitionArn: 'arn:td' } });
  mocks.ecs.on(DescribeServicesCommand).resolves({ services: [] });
  mocks.ecs.on(ListTasksCommand).resolves({ taskArns: ['arn:aws:ecs:eu-west-1:1:task/berth/t1'] });
  mocks.secrets.on(CreateSecretCommand).resolves({ ARN: 'arn:secret', VersionId: 'v1' });
  mocks.logs.on(PutLogEventsCommand).rejectsOnce(new ResourceNotFoundException({ message: 'no group', $metadata: {} })).resolves({});
  mocks.ec2.on(DescribeSecurityGroupsCommand).resolves({ SecurityGroups: [] });
  mocks.ec2.on(CreateSecurityGroupCommand).resolves({ GroupId: 'sg-nlb' });
  mocks.ec2.on(DescribeSecurityGroupRulesCommand).resolves({ SecurityGroupRules: [] });
  mocks.elb.on(DescribeLoadBalancersCommand).rejects(new LoadBalancerNotFoundException({ message: 'none', $metadata: {} }));
  mocks.elb.on(CreateLoadBalancerCommand).resolves({ LoadBalancers: [{ LoadBalancerArn: 'arn:lb', DNSName: 'lb' }] });
  mocks.elb.on(DescribeTargetGroupsCommand).rejects(new TargetGroupNotFoundException({ message: 'none', $metadata: {} }));
  mocks.elb.on(CreateTargetGroupCommand).resolves({ TargetGroups: [{ TargetGroupArn: 'arn:tg' }] });
  mocks.elb.on(DescribeListenersCommand).resolves({ Listeners: [] });
  mocks.efs.on(DescribeFileSystemsCommand).resolvesOnce({ FileSystems: [] }).resolves({ FileSystems: [{ FileSystemId: 'fs-1', FileSystemArn: 'arn:fs', LifeCycleState: 'available' } as FileSystemDescription] });
  mocks.efs.on(CreateFileSystemCommand).resolves({ FileSystemId: 'fs-1' });
  mocks.efs.on(DescribeMountTargetsCommand).resolvesOnce({ MountTargets: [] }).resolves({ MountTargets: [{ SubnetId: 'subnet-a', LifeCycleState: 'available' } as MountTargetDescription] });
  mocks.efs.on(DescribeAccessPointsCommand).resolves({ AccessPoints: [] });
  mocks.efs.on(CreateAccessPointCommand).resolves({ AccessPointId: 'fsap-1' });

  const region = { region: 'eu-west-1' };
  const fast = { clock: { now: () => 0, sleep: async () => {} }, timing: { intervalMs: 1, timeoutMs: 1 } };
  const volumes = new EfsVolumeDriver({ efs: new EFSClient(region), backup: new BackupClient(region) }, config, fast);
  const endpoints = new NlbEndpointDriver({ elbv2: new ElasticLoadBalancingV2Client(region), ec2: new EC2Client(region) }, config);
  const compute = new EcsComputeDriver({ ecs: new ECSClient(region), secrets: new SecretsManagerClient(region), logs: new CloudWatchLogsClient(region) }, config, { ...fast, startTiming: fast.timing });
  const logs = new CloudWatchLogStore({ logs: new CloudWatchLogsClient(region) }, config);

  const { dir } = await volumes.ensure(env, 'data', { sizeGiB: 1 });
  await volumes.snapshot(env, 'data', 'snap-1');
  await endpoints.ensure(env, 'web', { workload: 'web', port: 443, targetPort: 8080, ipv4: true });
  await compute.startInstances(
    { env, releaseId: 'rel-1', revision: 'rel-1.0000aaaa', workloadName: 'web', workload: { image: 'web:1', command: 'serve', ports: [8080], volumes: [{ volume: 'data', path: '/data' }] }, workdir: '', environment: {}, secretBundles: { db: { URL: 'x' } }, volumeDirs: { data: dir } },
    1,
  );
  logs.append(env, { ts: new Date(0).toISOString(), source: 'system', workload: 'web', instance: '-', level: 'info', message: 'deployed' });
  await logs.flush();

  const creates = Object.values(mocks)
    .flatMap((m) => (m as unknown as { calls(): { args: unknown[] }[] }).calls())
    .map((call) => ({ name: (call.args[0] as object).constructor.name, input: (call.args[0] as { input: Record<string, unknown> }).input }))
    .filter((c) => /^(Create|RegisterTaskDefinition|StartBackupJob|AuthorizeSecurityGroup)/.test(c.name) && !(c.name in UNTAGGABLE));
  expect(new Set(creates.map((c) => c.name))).toEqual(
    new Set([
      'CreateFileSystemCommand',
      'CreateAccessPointCommand',
      'StartBackupJobCommand',
      'CreateSecurityGroupCommand',
      'AuthorizeSecurityGroupEgressCommand',
      'AuthorizeSecurityGroupIngressCommand',
      'CreateLoadBalancerCommand',
      'CreateTargetGroupCommand',
      'CreateListenerCommand',
      'CreateLogGroupCommand',
      'CreateSecretCommand',
      'RegisterTaskDefinitionCommand',
      'CreateServiceCommand',
    ]),
  );
  // With a CloudWatch Logs client the driver creates the (tagged) log group; awslogs must not create an untagged one.
  expect(JSON.stringify(mocks.ecs.commandCalls(RegisterTaskDefinitionCommand)[0].args[0].input)).not.toContain('awslogs-create-group');
  for (const { name, input } of creates) {
    expect({ name, tags: tagsOf(input) }).toEqual({ name, tags: expect.objectContaining({ 'berth:org': 'acme', 'berth:project': 'shop', 'berth:app': 'api', 'berth:env': 'prod' }) });
  }
});
