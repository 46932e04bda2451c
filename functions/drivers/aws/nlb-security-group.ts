// The security group of an env's NLB: it decides which address families reach an endpoint. A
// dual-stack NLB always has IPv4 addresses, so an IPv6-only endpoint is IPv6-only because its
// ingress admits ::/0 and not 0.0.0.0/0. Each rule is tagged with its endpoint, so a changed
// port or a dropped `ipv4: true` revokes exactly that endpoint's rules.
import {
  AuthorizeSecurityGroupEgressCommand,
  AuthorizeSecurityGroupIngressCommand,
  CreateSecurityGroupCommand,
  DeleteSecurityGroupCommand,
  DescribeSecurityGroupRulesCommand,
  DescribeSecurityGroupsCommand,
  RevokeSecurityGroupIngressCommand,
  type EC2Client,
  type IpPermission,
  type SecurityGroup,
  type SecurityGroupRule,
} from '@aws-sdk/client-ec2';
import type { Endpoint } from '../../contract/manifest.ts';
import type { EnvRef } from '../../core/ports.ts';
import { attempt, isAwsError } from './aws-errors.ts';
import type { AwsRuntimeConfig } from './config.ts';
import { pollUntil, type Clock, type PollTiming } from './poll.ts';
import { ec2TagSpecifications, endpointSecurityGroupName } from './tags.ts';

export const ENDPOINT_TAG = 'berth:endpoint';

type SgConfig = Pick<AwsRuntimeConfig, 'vpcId' | 'taskSecurityGroupId'>;

const duplicateIsFine = (err: unknown): undefined => {
  // The rule exists already (a repeated ensure): the goal is reached.
  if (isAwsError(err, 'InvalidPermission.Duplicate')) return undefined;
  throw err;
};

/**
 * The env's NLB security group (created on first use) and the task group's rule admitting it.
 * Every step is safe to repeat: a step retried after a crash between the calls finds the group
 * and adds what is missing (the IPv6 egress rule included), rather than assuming a found group
 * is complete.
 */
export async function ensureSecurityGroup(ec2: EC2Client, config: SgConfig, env: EnvRef): Promise<string> {
  const name = endpointSecurityGroupName(env);
  const group = (await lookUpSecurityGroup(ec2, config, env)) ?? (await createSecurityGroup(ec2, config, env));
  const groupId = group.GroupId!;
  // A new group egresses over IPv4 only (and IPv6 to nowhere); the targets are IPv6.
  // https://docs.aws.amazon.com/vpc/latest/userguide/default-security-group.html#create-a-security-group
  if (!(group.IpPermissionsEgress ?? []).some(allowsIpv6Egress)) {
    await attempt(`allow IPv6 egress from ${name}`, () =>
      ec2.send(new AuthorizeSecurityGroupEgressCommand({ GroupId: groupId, IpPermissions: [{ IpProtocol: '-1', Ipv6Ranges: [{ CidrIpv6: '::/0' }] }], TagSpecifications: ec2TagSpecifications(env, 'security-group-rule') })),
      duplicateIsFine,
    );
  }
  const nlbGroup = groupId;
  // Tasks admit what the NLB forwards (traffic and health checks) by the NLB's group, not by
  // address: the NLB sends only to the ports of registered targets.
  await attempt(`admit the load balancer into the task security group`, () =>
    ec2.send(
      new AuthorizeSecurityGroupIngressCommand({
        GroupId: config.taskSecurityGroupId,
        IpPermissions: [{ IpProtocol: 'tcp', FromPort: 1, ToPort: 65535, UserIdGroupPairs: [{ GroupId: nlbGroup, Description: `Berth NLB of ${env.app}/${env.env}` }] }],
        TagSpecifications: ec2TagSpecifications(env, 'security-group-rule'),
      }),
    ),
    duplicateIsFine,
  );
  return nlbGroup;
}

/** Ingress for one endpoint: IPv6 ::/0 on its port always, IPv4 0.0.0.0/0 only with `ipv4: true`. */
export async function applyEndpointIngress(ec2: EC2Client, groupId: string, env: EnvRef, name: string, endpoint: Endpoint): Promise<void> {
  const mine = await endpointRules(ec2, groupId, name);
  const want: { family: 'IPv6' | 'IPv4'; cidr: string }[] = [{ family: 'IPv6', cidr: '::/0' }, ...(endpoint.ipv4 ? [{ family: 'IPv4' as const, cidr: '0.0.0.0/0' }] : [])];
  const isWanted = (r: SecurityGroupRule) => r.FromPort === endpoint.port && r.ToPort === endpoint.port && want.some((w) => (w.family === 'IPv6' ? r.CidrIpv6 : r.CidrIpv4) === w.cidr);
  const stale = mine.filter((r) => !isWanted(r)).map((r) => r.SecurityGroupRuleId!);
  if (stale.length) {
    await attempt(`close old ingress of endpoint ${name}`, () => ec2.send(new RevokeSecurityGroupIngressCommand({ GroupId: groupId, SecurityGroupRuleIds: stale })));
  }
  const missing = want.filter((w) => !mine.some((r) => r.FromPort === endpoint.port && r.ToPort === endpoint.port && (w.family === 'IPv6' ? r.CidrIpv6 : r.CidrIpv4) === w.cidr));
  if (!missing.length) return;
  const permission: IpPermission = { IpProtocol: 'tcp', FromPort: endpoint.port, ToPort: endpoint.port };
  for (const w of missing) {
    const description = `Berth endpoint ${name} (${w.family})`;
    if (w.family === 'IPv6') permission.Ipv6Ranges = [{ CidrIpv6: w.cidr, Description: description }];
    else permission.IpRanges = [{ CidrIp: w.cidr, Description: description }];
  }
  await attempt(`open port ${endpoint.port} for endpoint ${name}`, () =>
    ec2.send(new AuthorizeSecurityGroupIngressCommand({ GroupId: groupId, IpPermissions: [permission], TagSpecifications: ec2TagSpecifications(env, 'security-group-rule', { [ENDPOINT_TAG]: name }) })),
    duplicateIsFine,
  );
}

export async function revokeEndpointIngress(ec2: EC2Client, groupId: string, name: string): Promise<void> {
  const ids = (await endpointRules(ec2, groupId, name)).map((r) => r.SecurityGroupRuleId!);
  if (ids.length) await attempt(`close the ingress of endpoint ${name}`, () => ec2.send(new RevokeSecurityGroupIngressCommand({ GroupId: groupId, SecurityGroupRuleIds: ids })));
}

export async function findSecurityGroup(ec2: EC2Client, config: SgConfig, env: EnvRef): Promise<string | undefined> {
  return (await lookUpSecurityGroup(ec2, config, env))?.GroupId;
}

async function lookUpSecurityGroup(ec2: EC2Client, config: SgConfig, env: EnvRef): Promise<SecurityGroup | undefined> {
  const name = endpointSecurityGroupName(env);
  const found = await attempt(`look up security group ${name}`, () =>
    ec2.send(new DescribeSecurityGroupsCommand({ Filters: [{ Name: 'group-name', Values: [name] }, { Name: 'vpc-id', Values: [config.vpcId] }] })),
  );
  return found.SecurityGroups?.[0];
}

/**
 * Group names are unique per VPC: a create whose answer was lost (and so retried) fails with
 * InvalidGroup.Duplicate, and the group it made is looked up instead.
 * https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_CreateSecurityGroup.html
 */
async function createSecurityGroup(ec2: EC2Client, config: SgConfig, env: EnvRef): Promise<SecurityGroup> {
  const name = endpointSecurityGroupName(env);
  return attempt(
    `create security group ${name}`,
    async (): Promise<SecurityGroup> => {
      const created = await ec2.send(
        new CreateSecurityGroupCommand({
          GroupName: name,
          Description: `Berth endpoints of ${env.org}/${env.project}/${env.app}/${env.env}`,
          VpcId: config.vpcId,
          TagSpecifications: ec2TagSpecifications(env, 'security-group'),
        }),
      );
      return { GroupId: created.GroupId!, IpPermissionsEgress: [] };
    },
    async (err) => {
      const existing = isAwsError(err, 'InvalidGroup.Duplicate') ? await lookUpSecurityGroup(ec2, config, env) : undefined;
      if (!existing) throw err;
      return existing;
    },
  );
}

const allowsIpv6Egress = (p: IpPermission): boolean => p.IpProtocol === '-1' && (p.Ipv6Ranges ?? []).some((r) => r.CidrIpv6 === '::/0');

async function endpointRules(ec2: EC2Client, groupId: string, name: string): Promise<SecurityGroupRule[]> {
  const out = await attempt(`read the rules of security group ${groupId}`, () =>
    ec2.send(new DescribeSecurityGroupRulesCommand({ Filters: [{ Name: 'group-id', Values: [groupId] }, { Name: `tag:${ENDPOINT_TAG}`, Values: [name] }] })),
  );
  return (out.SecurityGroupRules ?? []).filter((r) => !r.IsEgress);
}

/**
 * Deletes the env's NLB security group once its NLB is gone, and first the task group's rule that
 * admits it (found by what it references, not by its tags, so a rule whose tagging failed or a
 * crash between revoke and delete is still found: a second run finds nothing and does nothing).
 * EC2 refuses to delete a group still referenced by another group's rule or attached to a network
 * interface, with DependencyViolation; the NLB's interfaces go some time after DeleteLoadBalancer
 * returns, so the delete is retried within `timing`.
 * https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_DeleteSecurityGroup.html
 * Resolves true when the group is gone, false when it is still in use at the bound.
 */
export async function deleteSecurityGroup(ec2: EC2Client, config: SgConfig, env: EnvRef, wait: { clock: Clock; timing: PollTiming }): Promise<boolean> {
  const groupId = await findSecurityGroup(ec2, config, env);
  if (!groupId) return true;
  await revokeTaskIngress(ec2, config, groupId);
  const gone = await pollUntil(wait.timing, wait.clock, () =>
    attempt(
      `delete security group ${endpointSecurityGroupName(env)}`,
      async () => {
        await ec2.send(new DeleteSecurityGroupCommand({ GroupId: groupId }));
        return true;
      },
      (err) => {
        if (isAwsError(err, 'DependencyViolation')) return undefined;
        if (isAwsError(err, 'InvalidGroup.NotFound')) return true;
        throw err;
      },
    ),
  );
  return gone === true;
}

/** The task group's ingress rules that reference `nlbGroup` (one per env, added by ensureSecurityGroup). */
async function revokeTaskIngress(ec2: EC2Client, config: SgConfig, nlbGroup: string): Promise<void> {
  const ids: string[] = [];
  let NextToken: string | undefined;
  do {
    const page = await attempt('read the rules of the task security group', () =>
      ec2.send(new DescribeSecurityGroupRulesCommand({ Filters: [{ Name: 'group-id', Values: [config.taskSecurityGroupId] }], MaxResults: 1000, NextToken })),
    );
    for (const r of page.SecurityGroupRules ?? []) if (!r.IsEgress && r.ReferencedGroupInfo?.GroupId === nlbGroup) ids.push(r.SecurityGroupRuleId!);
    NextToken = page.NextToken;
  } while (NextToken);
  if (!ids.length) return;
  await attempt(
    'stop admitting the load balancer into the task security group',
    () => ec2.send(new RevokeSecurityGroupIngressCommand({ GroupId: config.taskSecurityGroupId, SecurityGroupRuleIds: ids })),
    (err) => {
      // Revoked by an earlier, interrupted run: the goal is reached.
      if (isAwsError(err, 'InvalidPermission.NotFound', 'InvalidSecurityGroupRuleId.NotFound')) return undefined;
      throw err;
    },
  );
}
