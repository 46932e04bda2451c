// Issue 15 item 5: the smaller first-use blockers, each in its own describe named for the fix it
// protects. aws-sdk-client-mock answers as the cited AWS page documents.
import { AuthorizeSecurityGroupEgressCommand, AuthorizeSecurityGroupIngressCommand, CreateSecurityGroupCommand, DescribeSecurityGroupsCommand, EC2Client, EC2ServiceException } from '@aws-sdk/client-ec2';
import { InvalidOutput, InvalidToken, SendTaskFailureCommand, SendTaskSuccessCommand, SFNClient, TaskDoesNotExist, TaskTimedOut } from '@aws-sdk/client-sfn';
import { ECSClient, ECSServiceException, ListAccountSettingsCommand } from '@aws-sdk/client-ecs';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import { HealthCheckError } from '../functions/core/errors.ts';
import { probeContainer } from '../functions/drivers/aws/ecs-task-definition.ts';
import { TARGET_IP_ADDRESS_TYPE } from '../functions/drivers/aws/target-family.ts';
import { assertDualStackIpv6 } from '../functions/drivers/aws/ecs-account-settings.ts';
import { ensureSecurityGroup } from '../functions/drivers/aws/nlb-security-group.ts';
import { sendTaskResult } from '../functions/drivers/aws/sfn-orchestrator.ts';

const ENV = { org: 'acme', project: 'shop', app: 'api', env: 'prod' };
const ec2 = mockClient(EC2Client);
const sfn = mockClient(SFNClient);
const ecs = mockClient(ECSClient);
const awsError = (name: string) => new EC2ServiceException({ name, $fault: 'client', $metadata: {}, message: name });

beforeEach(() => {
  ec2.reset();
  sfn.reset();
  ecs.reset();
});

// https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_CreateSecurityGroup.html (names unique per VPC)
// https://docs.aws.amazon.com/vpc/latest/userguide/default-security-group.html (a new group has no IPv6 egress)
describe('[15.5g] NLB security-group creation is retry-safe', () => {
  const sg = () => ensureSecurityGroup(new EC2Client({ region: 'eu-west-1' }), { vpcId: 'vpc-1', taskSecurityGroupId: 'sg-tasks' }, ENV);
  const egressCalls = () => ec2.commandCalls(AuthorizeSecurityGroupEgressCommand).map((c) => c.args[0].input.IpPermissions);

  it('a retry that finds the group created without its IPv6 egress rule (a crash between the calls) adds the rule', async () => {
    ec2.on(DescribeSecurityGroupsCommand).resolves({ SecurityGroups: [{ GroupId: 'sg-nlb', IpPermissionsEgress: [{ IpProtocol: '-1', IpRanges: [{ CidrIp: '0.0.0.0/0' }] }] }] });
    expect(await sg()).toBe('sg-nlb');
    expect(ec2.commandCalls(CreateSecurityGroupCommand)).toHaveLength(0);
    expect(egressCalls()).toEqual([[{ IpProtocol: '-1', Ipv6Ranges: [{ CidrIpv6: '::/0' }] }]]);
    expect(ec2.commandCalls(AuthorizeSecurityGroupIngressCommand)).toHaveLength(1);
  });

  it('a group that has the rule already is left as it is', async () => {
    ec2.on(DescribeSecurityGroupsCommand).resolves({ SecurityGroups: [{ GroupId: 'sg-nlb', IpPermissionsEgress: [{ IpProtocol: '-1', Ipv6Ranges: [{ CidrIpv6: '::/0' }] }] }] });
    await sg();
    expect(egressCalls()).toEqual([]);
  });

  it('a create whose answer was lost (InvalidGroup.Duplicate on the retry) adopts the group it made', async () => {
    ec2.on(DescribeSecurityGroupsCommand).resolvesOnce({ SecurityGroups: [] }).resolves({ SecurityGroups: [{ GroupId: 'sg-made', IpPermissionsEgress: [] }] });
    ec2.on(CreateSecurityGroupCommand).rejects(awsError('InvalidGroup.Duplicate'));
    expect(await sg()).toBe('sg-made');
    expect(egressCalls()).toHaveLength(1);
  });

  it('a first creation adds the egress rule once, and a duplicate rule is fine', async () => {
    ec2.on(DescribeSecurityGroupsCommand).resolves({ SecurityGroups: [] });
    ec2.on(CreateSecurityGroupCommand).resolves({ GroupId: 'sg-new' });
    ec2.on(AuthorizeSecurityGroupEgressCommand).rejects(awsError('InvalidPermission.Duplicate'));
    expect(await sg()).toBe('sg-new');
    expect(egressCalls()).toHaveLength(1);
  });
});

// https://docs.aws.amazon.com/step-functions/latest/apireference/API_SendTaskSuccess.html#API_SendTaskSuccess_Errors
describe('[15.5h] a duplicate task-token completion is ignored, not raised', () => {
  const client = () => new SFNClient({ region: 'eu-west-1' });
  const meta = { $metadata: {} };

  it.each([
    ['TaskTimedOut', new TaskTimedOut({ message: 'Task Timed Out', ...meta })],
    ['TaskDoesNotExist', new TaskDoesNotExist({ message: 'Task does not exist', ...meta })],
    ['InvalidToken', new InvalidToken({ message: 'Invalid Token', ...meta })],
  ])('completing a task that already ended (%s) succeeds quietly, for success and for failure', async (_name, err) => {
    sfn.on(SendTaskSuccessCommand).rejects(err);
    sfn.on(SendTaskFailureCommand).rejects(err);
    await expect(sendTaskResult(client(), 'tok', { healthy: ['t1'] })).resolves.toBeUndefined();
    await expect(sendTaskResult(client(), 'tok', new HealthCheckError('never-healthy', 'instance t1 was not healthy'))).resolves.toBeUndefined();
    expect(sfn.commandCalls(SendTaskSuccessCommand)).toHaveLength(1);
    expect(sfn.commandCalls(SendTaskFailureCommand)).toHaveLength(1);
  });

  it('any other refusal still raises', async () => {
    sfn.on(SendTaskSuccessCommand).rejects(new InvalidOutput({ message: 'Invalid Output', ...meta }));
    await expect(sendTaskResult(client(), 'tok', { healthy: ['t1'] })).rejects.toMatchObject({ name: 'InvalidOutput' });
  });
});

// https://docs.aws.amazon.com/elasticloadbalancing/latest/network/load-balancer-target-groups.html#target-group-ip-address-type
describe('[15.5b] the health probe checks the app over the address family of the target group', () => {
  const command = (healthCheck?: Record<string, unknown>) => probeContainer('busybox', { ports: [8080], ...(healthCheck ? { healthCheck } : {}) } as never, undefined)!.healthCheck!.command;

  it('the target groups are IPv6, so a TCP probe connects to ::1 and never to 127.0.0.1', () => {
    expect(TARGET_IP_ADDRESS_TYPE).toBe('ipv6');
    expect(command()).toEqual(['CMD-SHELL', 'nc -z -w 2 ::1 8080']);
  });

  it('an HTTP probe requests http://[::1]:port/path', () => {
    expect(command({ type: 'http', path: '/healthz' })).toEqual(['CMD-SHELL', "wget -q -T 2 -O /dev/null 'http://[::1]:8080/healthz'"]);
  });
});

// https://docs.aws.amazon.com/AmazonECS/latest/developerguide/account-setting-management-cli.html
describe('[15.5d] the dualStackIPv6 ECS account setting is checked before instances an endpoint can target start', () => {
  it('a disabled setting fails with config-missing and the exact fix command; the effective value is asked for', async () => {
    ecs.on(ListAccountSettingsCommand).resolves({ settings: [{ name: 'dualStackIPv6' as never, value: 'disabled' }] });
    const err = await assertDualStackIpv6(new ECSClient({ region: 'eu-west-1' }), 'eu-west-1').catch((e: unknown) => e);
    expect(err).toMatchObject({ category: 'config-missing', code: 'ecs-dual-stack-disabled', next: ['aws ecs put-account-setting-default --name dualStackIPv6 --value enabled --region eu-west-1'] });
    expect((err as Error).message).toContain('dualStackIPv6 is disabled in eu-west-1');
    expect(ecs.commandCalls(ListAccountSettingsCommand)[0].args[0].input).toEqual({ name: 'dualStackIPv6', effectiveSettings: true });
  });

  it('an enabled setting passes, and is not asked for again by the same client', async () => {
    ecs.on(ListAccountSettingsCommand).resolves({ settings: [{ name: 'dualStackIPv6' as never, value: 'enabled' }] });
    const client = new ECSClient({ region: 'eu-west-1' });
    await assertDualStackIpv6(client, 'eu-west-1');
    await assertDualStackIpv6(client, 'eu-west-1');
    expect(ecs.commandCalls(ListAccountSettingsCommand)).toHaveLength(1);
  });

  it('a role that may not read account settings is not blocked by the preflight', async () => {
    ecs.on(ListAccountSettingsCommand).rejects(new ECSServiceException({ name: 'AccessDeniedException', $fault: 'client', $metadata: {}, message: 'denied' }));
    await expect(assertDualStackIpv6(new ECSClient({ region: 'eu-west-1' }), 'eu-west-1')).resolves.toBeUndefined();
  });
});
