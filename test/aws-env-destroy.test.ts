// Env destroy on AWS, per driver, against aws-sdk-client-mock: each deletion is asserted, the
// security group's DependencyViolation (the deleted NLB's interfaces release asynchronously) is
// retried within bounds, and a second run after the first finds nothing left to do.
import { DeleteSecurityGroupCommand, DescribeSecurityGroupRulesCommand, DescribeSecurityGroupsCommand, EC2Client, RevokeSecurityGroupIngressCommand } from '@aws-sdk/client-ec2';
import { DeleteServiceCommand, DescribeServicesCommand, ECSClient, ListServicesCommand } from '@aws-sdk/client-ecs';
import { DeleteAccessPointCommand, DeleteFileSystemCommand, DeleteMountTargetCommand, DescribeFileSystemsCommand, DescribeMountTargetsCommand, EFSClient, type FileSystemDescription, type MountTargetDescription } from '@aws-sdk/client-efs';
import { DeleteLoadBalancerCommand, DescribeListenersCommand, DescribeLoadBalancersCommand, DescribeTargetGroupsCommand, ElasticLoadBalancingV2Client, LoadBalancerNotFoundException, TargetGroupNotFoundException, DeleteListenerCommand, DeleteTargetGroupCommand } from '@aws-sdk/client-elastic-load-balancing-v2';
import { DeleteSecretCommand, ListSecretsCommand, ResourceNotFoundException, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { BackupClient } from '@aws-sdk/client-backup';
import { EC2ServiceException } from '@aws-sdk/client-ec2';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import type { EnvRef } from '../functions/core/ports.ts';
import type { AwsRuntimeConfig } from '../functions/drivers/aws/config.ts';
import { EcsComputeDriver } from '../functions/drivers/aws/ecs-compute.ts';
import { EfsVolumeDriver } from '../functions/drivers/aws/efs-volumes.ts';
import { NlbEndpointDriver } from '../functions/drivers/aws/nlb-endpoints.ts';
import { servicePrefix } from '../functions/drivers/aws/tags.ts';

const env: EnvRef = { org: 'acme', project: 'shop', app: 'api', env: 'prod' };
const LB = { LoadBalancerArn: 'arn:lb', DNSName: 'berth.elb.amazonaws.com' };
const TG = { TargetGroupArn: 'arn:tg:web', Port: 8080 };

const elb = mockClient(ElasticLoadBalancingV2Client);
const ec2 = mockClient(EC2Client);
const efs = mockClient(EFSClient);
const ecs = mockClient(ECSClient);
const sm = mockClient(SecretsManagerClient);
let now = 0;
const clock = { now: () => now, sleep: async (ms: number) => void (now += ms) };

const nlbDriver = () =>
  new NlbEndpointDriver({ elbv2: new ElasticLoadBalancingV2Client({ region: 'eu-west-1' }), ec2: new EC2Client({ region: 'eu-west-1' }) }, { vpcId: 'vpc-1', subnets: [{ az: 'eu-west-1a', id: 'subnet-a' }], taskSecurityGroupId: 'sg-tasks' }, {
    clock,
    securityGroupTiming: { remove: { intervalMs: 10, timeoutMs: 20 }, destroy: { intervalMs: 10, timeoutMs: 100 } },
  });

const dependencyViolation = () => new EC2ServiceException({ name: 'DependencyViolation', $fault: 'client', $metadata: {}, message: 'resource sg-nlb has a dependent object' });
const noLoadBalancer = () => elb.on(DescribeLoadBalancersCommand).rejects(new LoadBalancerNotFoundException({ message: 'not found', $metadata: {} }));

/** The task group's rules: one admitting this env's NLB group (untagged: found by reference), one another env's. */
function taskRules(): void {
  ec2.on(DescribeSecurityGroupRulesCommand, { Filters: [{ Name: 'group-id', Values: ['sg-tasks'] }] }).resolves({
    SecurityGroupRules: [
      { SecurityGroupRuleId: 'sgr-mine', GroupId: 'sg-tasks', IsEgress: false, ReferencedGroupInfo: { GroupId: 'sg-nlb' } },
      { SecurityGroupRuleId: 'sgr-other-env', GroupId: 'sg-tasks', IsEgress: false, ReferencedGroupInfo: { GroupId: 'sg-nlb-2' } },
      { SecurityGroupRuleId: 'sgr-egress', GroupId: 'sg-tasks', IsEgress: true, CidrIpv6: '::/0' },
    ],
  });
}

beforeEach(() => {
  for (const m of [elb, ec2, efs, ecs, sm]) m.reset();
  now = 0;
});

describe('[15.4] endpoint delete and env destroy remove the NLB security group and the task-group rule', () => {
  it('removing the last endpoint deletes the NLB, revokes exactly the task rule admitting its group, then deletes the group, retrying DependencyViolation', async () => {
    elb.on(DescribeLoadBalancersCommand).resolves({ LoadBalancers: [LB] });
    elb.on(DescribeTargetGroupsCommand).resolves({ TargetGroups: [TG] });
    elb.on(DescribeListenersCommand).resolves({ Listeners: [{ ListenerArn: 'arn:l', Port: 443, DefaultActions: [{ Type: 'forward', TargetGroupArn: 'arn:tg:web' }] }] });
    ec2.on(DescribeSecurityGroupsCommand).resolves({ SecurityGroups: [{ GroupId: 'sg-nlb' }] });
    ec2.on(DescribeSecurityGroupRulesCommand).resolves({ SecurityGroupRules: [] });
    taskRules();
    ec2.on(DeleteSecurityGroupCommand).rejectsOnce(dependencyViolation()).resolves({});
    await nlbDriver().remove(env, 'web');
    expect(elb.commandCalls(DeleteListenerCommand)).toHaveLength(1);
    expect(elb.commandCalls(DeleteTargetGroupCommand)).toHaveLength(1);
    expect(elb.commandCalls(DeleteLoadBalancerCommand)[0].args[0].input).toEqual({ LoadBalancerArn: 'arn:lb' });
    expect(ec2.commandCalls(RevokeSecurityGroupIngressCommand).map((c) => c.args[0].input)).toContainEqual({ GroupId: 'sg-tasks', SecurityGroupRuleIds: ['sgr-mine'] });
    const deletes = ec2.commandCalls(DeleteSecurityGroupCommand);
    expect(deletes.map((c) => c.args[0].input)).toEqual([{ GroupId: 'sg-nlb' }, { GroupId: 'sg-nlb' }]);
    // The group goes only after its NLB and after the rule that references it.
    const order = ec2.calls().map((c) => c.args[0] as { constructor: { name: string }; input: { GroupId?: string } });
    const revokeAt = order.findIndex((c) => c instanceof RevokeSecurityGroupIngressCommand && c.input.GroupId === 'sg-tasks');
    expect(revokeAt).toBeGreaterThanOrEqual(0);
    expect(revokeAt).toBeLessThan(order.findIndex((c) => c instanceof DeleteSecurityGroupCommand));
    expect(elb.commandCalls(DeleteLoadBalancerCommand)).toHaveLength(1);
  });

  it('removing an endpoint while another remains keeps the NLB, its group and the task rule', async () => {
    elb.on(DescribeLoadBalancersCommand).resolves({ LoadBalancers: [LB] });
    elb.on(DescribeTargetGroupsCommand).resolves({ TargetGroups: [TG] });
    elb.on(DescribeListenersCommand).resolves({ Listeners: [{ ListenerArn: 'arn:l', Port: 443, DefaultActions: [{ Type: 'forward', TargetGroupArn: 'arn:tg:web' }] }, { ListenerArn: 'arn:l2', Port: 5432, DefaultActions: [{ Type: 'forward', TargetGroupArn: 'arn:tg:db' }] }] });
    ec2.on(DescribeSecurityGroupsCommand).resolves({ SecurityGroups: [{ GroupId: 'sg-nlb' }] });
    ec2.on(DescribeSecurityGroupRulesCommand).resolves({ SecurityGroupRules: [] });
    await nlbDriver().remove(env, 'web');
    expect(elb.commandCalls(DeleteLoadBalancerCommand)).toHaveLength(0);
    expect(ec2.commandCalls(DeleteSecurityGroupCommand)).toHaveLength(0);
    expect(ec2.commandCalls(RevokeSecurityGroupIngressCommand).filter((c) => c.args[0].input.GroupId === 'sg-tasks')).toHaveLength(0);
  });

  it('a group still held at the endpoint-delete bound stays (the next endpoint reuses it); env destroy deletes it later', async () => {
    noLoadBalancer();
    elb.on(DescribeTargetGroupsCommand).rejects(new TargetGroupNotFoundException({ message: 'not found', $metadata: {} }));
    ec2.on(DescribeSecurityGroupsCommand).resolves({ SecurityGroups: [{ GroupId: 'sg-nlb' }] });
    ec2.on(DescribeSecurityGroupRulesCommand).resolves({ SecurityGroupRules: [] });
    ec2.on(DeleteSecurityGroupCommand).rejects(dependencyViolation());
    await expect(nlbDriver().remove(env, 'web')).resolves.toBeUndefined();
    // 20 ms bound at a 10 ms interval: three attempts, then it gives up quietly.
    expect(ec2.commandCalls(DeleteSecurityGroupCommand)).toHaveLength(3);
    // Minutes later the interfaces are gone: the first attempt still meets one, the next succeeds.
    ec2.reset();
    ec2.on(DescribeSecurityGroupsCommand).resolves({ SecurityGroups: [{ GroupId: 'sg-nlb' }] });
    ec2.on(DescribeSecurityGroupRulesCommand).resolves({ SecurityGroupRules: [] });
    ec2.on(DeleteSecurityGroupCommand).rejectsOnce(dependencyViolation()).resolves({});
    await nlbDriver().destroyEnv(env);
    expect(ec2.commandCalls(DeleteSecurityGroupCommand)).toHaveLength(2);
  });

  it('env destroy deletes a load balancer left without endpoints, then the group; a second run finds nothing and deletes nothing', async () => {
    elb.on(DescribeLoadBalancersCommand).resolvesOnce({ LoadBalancers: [LB] }).resolvesOnce({ LoadBalancers: [LB] }).rejects(new LoadBalancerNotFoundException({ message: 'not found', $metadata: {} }));
    elb.on(DescribeListenersCommand).resolves({ Listeners: [] });
    ec2.on(DescribeSecurityGroupsCommand).resolvesOnce({ SecurityGroups: [{ GroupId: 'sg-nlb' }] }).resolves({ SecurityGroups: [] });
    taskRules();
    ec2.on(DeleteSecurityGroupCommand).resolves({});
    await nlbDriver().destroyEnv(env);
    expect(elb.commandCalls(DeleteLoadBalancerCommand)).toHaveLength(1);
    expect(ec2.commandCalls(RevokeSecurityGroupIngressCommand).map((c) => c.args[0].input)).toEqual([{ GroupId: 'sg-tasks', SecurityGroupRuleIds: ['sgr-mine'] }]);
    expect(ec2.commandCalls(DeleteSecurityGroupCommand)).toHaveLength(1);

    await nlbDriver().destroyEnv(env);
    expect(elb.commandCalls(DeleteLoadBalancerCommand)).toHaveLength(1);
    expect(ec2.commandCalls(RevokeSecurityGroupIngressCommand)).toHaveLength(1);
    expect(ec2.commandCalls(DeleteSecurityGroupCommand)).toHaveLength(1);
  });

  it('after a crash between revoke and delete, the rule is not found again and the group is still deleted', async () => {
    noLoadBalancer();
    ec2.on(DescribeSecurityGroupsCommand).resolves({ SecurityGroups: [{ GroupId: 'sg-nlb' }] });
    ec2.on(DescribeSecurityGroupRulesCommand).resolves({ SecurityGroupRules: [{ SecurityGroupRuleId: 'sgr-other-env', IsEgress: false, ReferencedGroupInfo: { GroupId: 'sg-nlb-2' } }] });
    ec2.on(DeleteSecurityGroupCommand).resolves({});
    await nlbDriver().destroyEnv(env);
    expect(ec2.commandCalls(RevokeSecurityGroupIngressCommand)).toHaveLength(0);
    expect(ec2.commandCalls(DeleteSecurityGroupCommand)).toHaveLength(1);
  });

  it('env destroy fails with a timeout error naming the group when the interfaces still hold it at the bound', async () => {
    noLoadBalancer();
    ec2.on(DescribeSecurityGroupsCommand).resolves({ SecurityGroups: [{ GroupId: 'sg-nlb' }] });
    ec2.on(DescribeSecurityGroupRulesCommand).resolves({ SecurityGroupRules: [] });
    ec2.on(DeleteSecurityGroupCommand).rejects(dependencyViolation());
    await expect(nlbDriver().destroyEnv(env)).rejects.toMatchObject({ category: 'timeout', code: 'security-group-in-use' });
    // Bounded: 100 ms at 10 ms intervals.
    expect(ec2.commandCalls(DeleteSecurityGroupCommand).length).toBe(11);
  });
});

const FS = { FileSystemId: 'fs-1', FileSystemArn: 'arn:fs-1', LifeCycleState: 'available' } as FileSystemDescription;
const mt = (o: Partial<MountTargetDescription>) => o as MountTargetDescription;
const efsDriver = () =>
  new EfsVolumeDriver({ efs: new EFSClient({ region: 'eu-west-1' }), backup: new BackupClient({ region: 'eu-west-1' }) }, { taskSubnets: [{ az: 'eu-west-1a', id: 'subnet-a' }], volumeSecurityGroupId: 'sg-efs', kmsKeyId: 'k', backupVaultName: 'v', backupRoleArn: 'r' }, { clock, timing: { intervalMs: 10, timeoutMs: 100 } });

describe('[15.4] env destroy keeps volumes but releases their mount targets', () => {
  it('detach deletes every mount target and waits for them, and leaves the file system and access point', async () => {
    efs.on(DescribeFileSystemsCommand).resolves({ FileSystems: [FS] });
    efs
      .on(DescribeMountTargetsCommand)
      .resolvesOnce({ MountTargets: [mt({ MountTargetId: 'fsmt-a', LifeCycleState: 'available' }), mt({ MountTargetId: 'fsmt-b', LifeCycleState: 'deleting' })] })
      .resolvesOnce({ MountTargets: [mt({ MountTargetId: 'fsmt-b', LifeCycleState: 'deleting' })] })
      .resolves({ MountTargets: [] });
    await efsDriver().detach(env, 'data');
    expect(efs.commandCalls(DeleteMountTargetCommand).map((c) => c.args[0].input)).toEqual([{ MountTargetId: 'fsmt-a' }]);
    expect(efs.commandCalls(DeleteFileSystemCommand)).toHaveLength(0);
    expect(efs.commandCalls(DeleteAccessPointCommand)).toHaveLength(0);
  });

  it('a second detach finds no mount target and deletes nothing; a volume without a file system is left alone', async () => {
    efs.on(DescribeFileSystemsCommand).resolvesOnce({ FileSystems: [FS] }).resolves({ FileSystems: [] });
    efs.on(DescribeMountTargetsCommand).resolves({ MountTargets: [] });
    await efsDriver().detach(env, 'data');
    await efsDriver().detach(env, 'data');
    expect(efs.commandCalls(DeleteMountTargetCommand)).toHaveLength(0);
  });
});

const ecsConfig = { clusterArn: 'arn:cluster' } as AwsRuntimeConfig;
const ecsDriver = () => new EcsComputeDriver({ ecs: new ECSClient({ region: 'eu-west-1' }), secrets: new SecretsManagerClient({ region: 'eu-west-1' }) }, ecsConfig, { clock });

describe('[15.4] env destroy deletes the secret-bundle secrets and leftover services', () => {
  it('deletes every secret under the env prefix at once (no recovery window), not another env sharing the prefix text', async () => {
    ecs.on(ListServicesCommand).resolves({ serviceArns: [] });
    sm.on(ListSecretsCommand)
      .resolvesOnce({ SecretList: [{ Name: 'berth/acme/shop/api/prod/db' }], NextToken: 't' })
      .resolvesOnce({ SecretList: [{ Name: 'berth/acme/shop/api/prod/stripe' }] });
    sm.on(DeleteSecretCommand, { SecretId: 'berth/acme/shop/api/prod/stripe' }).rejects(new ResourceNotFoundException({ message: 'gone', $metadata: {} }));
    await ecsDriver().destroyEnv(env);
    expect(sm.commandCalls(ListSecretsCommand)[0].args[0].input).toMatchObject({ Filters: [{ Key: 'name', Values: ['berth/acme/shop/api/prod/'] }] });
    expect(sm.commandCalls(DeleteSecretCommand).map((c) => c.args[0].input)).toEqual([
      { SecretId: 'berth/acme/shop/api/prod/db', ForceDeleteWithoutRecovery: true },
      { SecretId: 'berth/acme/shop/api/prod/stripe', ForceDeleteWithoutRecovery: true },
    ]);
  });

  it('a service left ACTIVE at zero by an interrupted stop is deleted; another env\'s service is not touched', async () => {
    const mine = `${servicePrefix(env)}web-1234abcd`;
    ecs.on(ListServicesCommand).resolves({ serviceArns: [`arn:aws:ecs:eu-west-1:1:service/berth/${mine}`, 'arn:aws:ecs:eu-west-1:1:service/berth/berth-0000000000-web-1'] });
    ecs.on(DescribeServicesCommand).resolves({ services: [{ serviceName: mine, status: 'ACTIVE', desiredCount: 0 }] });
    sm.on(ListSecretsCommand).resolves({ SecretList: [] });
    await ecsDriver().destroyEnv(env);
    expect(ecs.commandCalls(DeleteServiceCommand).map((c) => c.args[0].input)).toEqual([{ cluster: 'arn:cluster', service: mine, force: true }]);
    ecs.on(DescribeServicesCommand).resolves({ services: [{ serviceName: mine, status: 'INACTIVE' }] });
    await ecsDriver().destroyEnv(env);
    expect(ecs.commandCalls(DeleteServiceCommand)).toHaveLength(1);
  });
});
