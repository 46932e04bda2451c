import { AuthorizeSecurityGroupIngressCommand, CreateSecurityGroupCommand, DescribeSecurityGroupRulesCommand, DescribeSecurityGroupsCommand, EC2Client, RevokeSecurityGroupIngressCommand } from '@aws-sdk/client-ec2';
import {
  AddTagsCommand,
  CreateListenerCommand,
  CreateLoadBalancerCommand,
  CreateTargetGroupCommand,
  DeleteListenerCommand,
  DeleteLoadBalancerCommand,
  DeleteTargetGroupCommand,
  DeregisterTargetsCommand,
  DescribeListenersCommand,
  DescribeLoadBalancersCommand,
  DescribeTagsCommand,
  DescribeTargetGroupsCommand,
  DescribeTargetHealthCommand,
  ElasticLoadBalancingV2Client,
  LoadBalancerNotFoundException,
  ModifyTargetGroupAttributesCommand,
  RegisterTargetsCommand,
  TargetGroupNotFoundException,
} from '@aws-sdk/client-elastic-load-balancing-v2';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import type { EnvRef } from '../functions/core/ports.ts';
import { AWS_ENDPOINT_NOTE, NlbEndpointDriver } from '../functions/drivers/aws/nlb-endpoints.ts';
import { loadBalancerName, targetGroupName } from '../functions/drivers/aws/tags.ts';

const env: EnvRef = { org: 'acme', project: 'shop', app: 'api', env: 'prod' };
const config = { vpcId: 'vpc-1', subnets: [{ az: 'eu-west-1a', id: 'subnet-a' }, { az: 'eu-west-1b', id: 'subnet-b' }], taskSecurityGroupId: 'sg-tasks' };
const LB = { LoadBalancerArn: 'arn:lb', DNSName: 'berth.elb.amazonaws.com', AvailabilityZones: [{ ZoneName: 'eu-west-1a', LoadBalancerAddresses: [{ IPv6Address: '2001:db8::10', IpAddress: '203.0.113.10' }] }] };
const TG = { TargetGroupArn: 'arn:tg:web', TargetGroupName: targetGroupName(env, 'web'), Port: 8080 };
const FOUR_TAGS = [
  { Key: 'berth:org', Value: 'acme' },
  { Key: 'berth:project', Value: 'shop' },
  { Key: 'berth:app', Value: 'api' },
  { Key: 'berth:env', Value: 'prod' },
];

const elb = mockClient(ElasticLoadBalancingV2Client);
const ec2 = mockClient(EC2Client);
const driver = (options = {}) => new NlbEndpointDriver({ elbv2: new ElasticLoadBalancingV2Client({ region: 'eu-west-1' }), ec2: new EC2Client({ region: 'eu-west-1' }) }, config, options);

function freshEnv(): void {
  ec2.on(DescribeSecurityGroupsCommand).resolves({ SecurityGroups: [] });
  ec2.on(CreateSecurityGroupCommand).resolves({ GroupId: 'sg-nlb' });
  ec2.on(DescribeSecurityGroupRulesCommand).resolves({ SecurityGroupRules: [] });
  elb.on(DescribeLoadBalancersCommand).rejects(new LoadBalancerNotFoundException({ message: 'not found', $metadata: {} }));
  elb.on(CreateLoadBalancerCommand).resolves({ LoadBalancers: [LB] });
  elb.on(DescribeTargetGroupsCommand).rejects(new TargetGroupNotFoundException({ message: 'not found', $metadata: {} }));
  elb.on(CreateTargetGroupCommand).resolves({ TargetGroups: [TG] });
  elb.on(DescribeListenersCommand).resolves({ Listeners: [] });
}

beforeEach(() => {
  elb.reset();
  ec2.reset();
});

describe('NlbEndpointDriver.ensure', () => {
  it('creates one dual-stack internet-facing NLB per env, tagged, behind the env security group', async () => {
    freshEnv();
    const binding = await driver().ensure(env, 'web', { workload: 'web', port: 443, targetPort: 8080 });
    expect(elb.commandCalls(CreateLoadBalancerCommand)[0].args[0].input).toEqual({
      Name: loadBalancerName(env),
      Type: 'network',
      Scheme: 'internet-facing',
      IpAddressType: 'dualstack',
      Subnets: ['subnet-a', 'subnet-b'],
      SecurityGroups: ['sg-nlb'],
      Tags: FOUR_TAGS,
    });
    expect(ec2.commandCalls(CreateSecurityGroupCommand)[0].args[0].input).toMatchObject({ VpcId: 'vpc-1', TagSpecifications: [{ ResourceType: 'security-group', Tags: FOUR_TAGS }] });
    expect(binding).toEqual({ listeners: [{ family: 'IPv6', address: '2001:db8::10', port: 443 }], notes: [AWS_ENDPOINT_NOTE] });
  });

  it('an IPv6-only endpoint opens its port to ::/0 and not to IPv4; the note explains the IPv4 addresses', async () => {
    freshEnv();
    await driver().ensure(env, 'web', { workload: 'web', port: 443, targetPort: 8080 });
    const ingress = ec2.commandCalls(AuthorizeSecurityGroupIngressCommand).map((c) => c.args[0].input).find((i) => i.GroupId === 'sg-nlb')!;
    expect(ingress.IpPermissions).toEqual([{ IpProtocol: 'tcp', FromPort: 443, ToPort: 443, Ipv6Ranges: [{ CidrIpv6: '::/0', Description: 'Berth endpoint web (IPv6)' }] }]);
    expect(ingress.TagSpecifications![0].Tags).toEqual([...FOUR_TAGS, { Key: 'berth:endpoint', Value: 'web' }]);
    expect(AWS_ENDPOINT_NOTE).toMatch(/security group/);
    // The tasks admit the NLB by its security group.
    const tasks = ec2.commandCalls(AuthorizeSecurityGroupIngressCommand).map((c) => c.args[0].input).find((i) => i.GroupId === 'sg-tasks')!;
    expect(tasks.IpPermissions![0].UserIdGroupPairs).toEqual([expect.objectContaining({ GroupId: 'sg-nlb' })]);
  });

  it('ipv4: true adds 0.0.0.0/0 and an IPv4 listener address; dropping it revokes exactly that rule', async () => {
    freshEnv();
    const binding = await driver().ensure(env, 'web', { workload: 'web', port: 443, targetPort: 8080, ipv4: true });
    const ingress = ec2.commandCalls(AuthorizeSecurityGroupIngressCommand).map((c) => c.args[0].input).find((i) => i.GroupId === 'sg-nlb')!;
    expect(ingress.IpPermissions![0]).toMatchObject({ Ipv6Ranges: [{ CidrIpv6: '::/0' }], IpRanges: [{ CidrIp: '0.0.0.0/0' }] });
    expect(binding.listeners).toContainEqual({ family: 'IPv4', address: '203.0.113.10', port: 443 });

    ec2.reset();
    ec2.on(DescribeSecurityGroupsCommand).resolves({ SecurityGroups: [{ GroupId: 'sg-nlb' }] });
    ec2.on(DescribeSecurityGroupRulesCommand).resolves({
      SecurityGroupRules: [
        { SecurityGroupRuleId: 'sgr-6', FromPort: 443, ToPort: 443, CidrIpv6: '::/0' },
        { SecurityGroupRuleId: 'sgr-4', FromPort: 443, ToPort: 443, CidrIpv4: '0.0.0.0/0' },
      ],
    });
    await driver().ensure(env, 'web', { workload: 'web', port: 443, targetPort: 8080 });
    expect(ec2.commandCalls(RevokeSecurityGroupIngressCommand)[0].args[0].input).toEqual({ GroupId: 'sg-nlb', SecurityGroupRuleIds: ['sgr-4'] });
    expect(ec2.commandCalls(AuthorizeSecurityGroupIngressCommand).filter((c) => c.args[0].input.GroupId === 'sg-nlb')).toHaveLength(0);
  });

  it('creates an ip target group of IPv6 targets with the workload health check, a TCP listener, and PROXY v2 when asked', async () => {
    freshEnv();
    await driver().ensure(env, 'web', { workload: 'web', port: 443, targetPort: 8080, proxyProtocol: 'v2' }, { type: 'http', path: '/healthz' });
    expect(elb.commandCalls(CreateTargetGroupCommand)[0].args[0].input).toMatchObject({
      Name: targetGroupName(env, 'web'),
      Protocol: 'TCP',
      Port: 8080,
      VpcId: 'vpc-1',
      TargetType: 'ip',
      IpAddressType: 'ipv6',
      HealthCheckProtocol: 'HTTP',
      HealthCheckPath: '/healthz',
      HealthCheckPort: 'traffic-port',
      Tags: expect.arrayContaining([...FOUR_TAGS, { Key: 'berth:endpoint', Value: 'web' }, { Key: 'berth:proxy-protocol', Value: 'v2' }]),
    });
    expect(elb.commandCalls(ModifyTargetGroupAttributesCommand)[0].args[0].input).toEqual({
      TargetGroupArn: 'arn:tg:web',
      Attributes: [
        { Key: 'proxy_protocol_v2.enabled', Value: 'true' },
        { Key: 'deregistration_delay.timeout_seconds', Value: '10' },
      ],
    });
    expect(elb.commandCalls(CreateListenerCommand)[0].args[0].input).toMatchObject({ LoadBalancerArn: 'arn:lb', Protocol: 'TCP', Port: 443, DefaultActions: [{ Type: 'forward', TargetGroupArn: 'arn:tg:web' }], Tags: expect.arrayContaining(FOUR_TAGS) });
  });

  it('is idempotent: a second ensure reuses the NLB, target group and listener', async () => {
    ec2.on(DescribeSecurityGroupsCommand).resolves({ SecurityGroups: [{ GroupId: 'sg-nlb' }] });
    ec2.on(DescribeSecurityGroupRulesCommand).resolves({ SecurityGroupRules: [{ SecurityGroupRuleId: 'sgr-6', FromPort: 443, ToPort: 443, CidrIpv6: '::/0' }] });
    ec2.on(AuthorizeSecurityGroupIngressCommand).rejects(Object.assign(new Error('the rule exists'), { name: 'InvalidPermission.Duplicate', $metadata: {} }));
    elb.on(DescribeLoadBalancersCommand).resolves({ LoadBalancers: [LB] });
    elb.on(DescribeTargetGroupsCommand).resolves({ TargetGroups: [TG] });
    elb.on(DescribeListenersCommand).resolves({ Listeners: [{ ListenerArn: 'arn:l', Port: 443, DefaultActions: [{ Type: 'forward', TargetGroupArn: 'arn:tg:web' }] }] });
    await driver().ensure(env, 'web', { workload: 'web', port: 443, targetPort: 8080 });
    expect(elb.commandCalls(CreateLoadBalancerCommand)).toHaveLength(0);
    expect(elb.commandCalls(CreateTargetGroupCommand)).toHaveLength(0);
    expect(elb.commandCalls(CreateListenerCommand)).toHaveLength(0);
    expect(elb.commandCalls(AddTagsCommand)).toHaveLength(1);
  });
});

describe('NlbEndpointDriver targets, list and remove', () => {
  it('[15.3] setTargets registers the new targets, deregisters the old ones only once the new are healthy, and resolves once they have drained', async () => {
    elb.on(DescribeTargetGroupsCommand).resolves({ TargetGroups: [TG] });
    const health = (...targets: [string, 'healthy' | 'initial' | 'draining'][]) => ({ TargetHealthDescriptions: targets.map(([Id, State]) => ({ Target: { Id, Port: 8080 }, TargetHealth: { State } })) });
    elb
      .on(DescribeTargetHealthCommand)
      .resolvesOnce(health(['2001:db8::1', 'healthy'], ['2001:db8::2', 'healthy']))
      .resolvesOnce(health(['2001:db8::1', 'healthy'], ['2001:db8::2', 'healthy'], ['2001:db8::3', 'initial']))
      .resolvesOnce(health(['2001:db8::1', 'healthy'], ['2001:db8::2', 'healthy'], ['2001:db8::3', 'healthy']))
      .resolvesOnce(health(['2001:db8::1', 'draining'], ['2001:db8::2', 'healthy'], ['2001:db8::3', 'healthy']))
      .resolves(health(['2001:db8::2', 'healthy'], ['2001:db8::3', 'healthy']));
    const order: string[] = [];
    elb.on(RegisterTargetsCommand).callsFake(async () => void order.push('register'));
    elb.on(DeregisterTargetsCommand).callsFake(async () => void order.push('deregister'));
    let now = 0;
    const clock = { now: () => now, sleep: async (ms: number) => void (now += ms) };
    await driver({ clock }).setTargets(env, 'web', [
      { instance: 't2', host: '2001:db8::2', port: 8080 },
      { instance: 't3', host: '2001:db8::3', port: 8080 },
    ]);
    expect(elb.commandCalls(RegisterTargetsCommand)[0].args[0].input).toEqual({ TargetGroupArn: 'arn:tg:web', Targets: [{ Id: '2001:db8::3', Port: 8080 }] });
    expect(elb.commandCalls(DeregisterTargetsCommand)[0].args[0].input).toEqual({ TargetGroupArn: 'arn:tg:web', Targets: [{ Id: '2001:db8::1', Port: 8080 }] });
    expect(order).toEqual(['register', 'deregister']);
    expect(elb.commandCalls(DescribeTargetHealthCommand)).toHaveLength(5);
  });

  it('setTargets fails with health-check, leaving the old targets registered, when the new ones never become healthy', async () => {
    elb.on(DescribeTargetGroupsCommand).resolves({ TargetGroups: [TG] });
    elb.on(DescribeTargetHealthCommand).resolves({ TargetHealthDescriptions: [{ Target: { Id: '2001:db8::1', Port: 8080 }, TargetHealth: { State: 'healthy' } }] });
    let now = 0;
    const clock = { now: () => now, sleep: async (ms: number) => void (now += ms) };
    await expect(driver({ clock }).setTargets(env, 'web', [{ instance: 't3', host: '2001:db8::3', port: 8080 }])).rejects.toMatchObject({ category: 'health-check', code: 'targets-not-healthy' });
    expect(elb.commandCalls(DeregisterTargetsCommand)).toHaveLength(0);
  });

  it('setTargets refuses an IPv4-only instance address with a clear error', async () => {
    elb.on(DescribeTargetGroupsCommand).resolves({ TargetGroups: [TG] });
    await expect(driver().setTargets(env, 'web', [{ instance: 't1', host: '10.0.0.5', port: 8080 }])).rejects.toMatchObject({ code: 'target-not-ipv6' });
  });

  it('list rebuilds endpoints from listeners and target-group tags, naming targets by instance', async () => {
    elb.on(DescribeLoadBalancersCommand).resolves({ LoadBalancers: [LB] });
    elb.on(DescribeListenersCommand).resolves({ Listeners: [{ ListenerArn: 'arn:l', Port: 443, DefaultActions: [{ Type: 'forward', TargetGroupArn: 'arn:tg:web' }] }] });
    elb.on(DescribeTagsCommand).resolves({ TagDescriptions: [{ ResourceArn: 'arn:tg:web', Tags: [...FOUR_TAGS, { Key: 'berth:endpoint', Value: 'web' }, { Key: 'berth:workload', Value: 'web' }, { Key: 'berth:target-port', Value: '8080' }, { Key: 'berth:ipv4', Value: 'true' }, { Key: 'berth:proxy-protocol', Value: 'none' }] }] });
    elb.on(DescribeTargetHealthCommand).resolves({ TargetHealthDescriptions: [{ Target: { Id: '2001:db8::1', Port: 8080 }, TargetHealth: { State: 'healthy' } }, { Target: { Id: '2001:db8::9', Port: 8080 }, TargetHealth: { State: 'draining' } }] });
    const instances = async () => [{ id: 't1', addresses: { 8080: { host: '2001:db8::1', port: 8080 } } }] as never;
    const [web] = await driver({ instances }).list(env);
    expect(web).toEqual({
      name: 'web',
      endpoint: { workload: 'web', protocol: 'tcp', port: 443, targetPort: 8080, ipv4: true },
      binding: { listeners: [{ family: 'IPv6', address: '2001:db8::10', port: 443 }, { family: 'IPv4', address: '203.0.113.10', port: 443 }], notes: [AWS_ENDPOINT_NOTE] },
      targets: [{ instance: 't1', host: '2001:db8::1', port: 8080 }],
    });
  });

  it('remove deletes the listener and target group, closes the port, and deletes the NLB with its last endpoint', async () => {
    elb.on(DescribeLoadBalancersCommand).resolves({ LoadBalancers: [LB] });
    elb.on(DescribeTargetGroupsCommand).resolves({ TargetGroups: [TG] });
    elb.on(DescribeListenersCommand).resolves({ Listeners: [{ ListenerArn: 'arn:l', Port: 443, DefaultActions: [{ Type: 'forward', TargetGroupArn: 'arn:tg:web' }] }] });
    ec2.on(DescribeSecurityGroupsCommand).resolves({ SecurityGroups: [{ GroupId: 'sg-nlb' }] });
    ec2.on(DescribeSecurityGroupRulesCommand).resolves({ SecurityGroupRules: [{ SecurityGroupRuleId: 'sgr-6', FromPort: 443, ToPort: 443, CidrIpv6: '::/0' }] });
    await driver().remove(env, 'web');
    expect(elb.commandCalls(DeleteListenerCommand)[0].args[0].input).toEqual({ ListenerArn: 'arn:l' });
    expect(elb.commandCalls(DeleteTargetGroupCommand)[0].args[0].input).toEqual({ TargetGroupArn: 'arn:tg:web' });
    expect(ec2.commandCalls(RevokeSecurityGroupIngressCommand)[0].args[0].input).toEqual({ GroupId: 'sg-nlb', SecurityGroupRuleIds: ['sgr-6'] });
    expect(elb.commandCalls(DeleteLoadBalancerCommand)[0].args[0].input).toEqual({ LoadBalancerArn: 'arn:lb' });
  });

  it('remove keeps the NLB while other endpoints use it', async () => {
    elb.on(DescribeLoadBalancersCommand).resolves({ LoadBalancers: [LB] });
    elb.on(DescribeTargetGroupsCommand).resolves({ TargetGroups: [TG] });
    elb.on(DescribeListenersCommand).resolves({ Listeners: [{ ListenerArn: 'arn:l', Port: 443, DefaultActions: [{ Type: 'forward', TargetGroupArn: 'arn:tg:web' }] }, { ListenerArn: 'arn:l2', Port: 5432, DefaultActions: [{ Type: 'forward', TargetGroupArn: 'arn:tg:db' }] }] });
    ec2.on(DescribeSecurityGroupsCommand).resolves({ SecurityGroups: [] });
    await driver().remove(env, 'web');
    expect(elb.commandCalls(DeleteListenerCommand)).toHaveLength(1);
    expect(elb.commandCalls(DeleteLoadBalancerCommand)).toHaveLength(0);
  });
});
