// EC2 security groups in the twin: groups by name per VPC, tagged ingress and egress rules with
// duplicate detection and the rules-per-group quota.
import { EC2ServiceException } from '@aws-sdk/client-ec2';
import type { AwsTwin } from './twin.ts';

interface Rule {
  SecurityGroupRuleId: string;
  GroupId: string;
  IsEgress: boolean;
  IpProtocol: string;
  FromPort?: number;
  ToPort?: number;
  CidrIpv4?: string;
  CidrIpv6?: string;
  ReferencedGroupInfo?: { GroupId: string };
  Description?: string;
  Tags: { Key: string; Value: string }[];
}

export interface Ec2State {
  groups: Map<string, { GroupId: string; GroupName: string; VpcId: string; Description: string; Tags: { Key: string; Value: string }[] }>;
  rules: Map<string, Rule>;
  /** Inbound (and, separately, outbound) rules per security group: 60 by default (https://docs.aws.amazon.com/vpc/latest/userguide/amazon-vpc-limits.html#vpc-limits-security-groups). */
  rulesPerGroup: number;
}

// EC2 errors carry their code as the name (https://docs.aws.amazon.com/AWSEC2/latest/APIReference/errors-overview.html).
const ec2Error = (name: string, message: string) => new EC2ServiceException({ name, message, $fault: 'client', $metadata: {} });

export function install(twin: AwsTwin, options: { taskSecurityGroupId: string; vpcId: string }): Ec2State {
  let seq = 0;
  const state: Ec2State = { groups: new Map(), rules: new Map(), rulesPerGroup: 60 };
  state.groups.set(options.taskSecurityGroupId, { GroupId: options.taskSecurityGroupId, GroupName: 'berth-tasks', VpcId: options.vpcId, Description: 'Berth tasks', Tags: [] });
  const tagsFor = (specs: any[] | undefined, type: string) => (specs ?? []).filter((s) => s.ResourceType === type).flatMap((s) => s.Tags ?? []);

  twin.handler('ec2', 'CreateSecurityGroup', (input) => {
    // Names are unique per VPC (https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_CreateSecurityGroup.html).
    if ([...state.groups.values()].some((g) => g.GroupName === input.GroupName && g.VpcId === input.VpcId)) throw ec2Error('InvalidGroup.Duplicate', `The security group '${input.GroupName}' already exists for VPC '${input.VpcId}'`);
    const GroupId = `sg-${(++seq).toString(16).padStart(17, '0')}`;
    state.groups.set(GroupId, { GroupId, GroupName: input.GroupName, VpcId: input.VpcId, Description: input.Description, Tags: tagsFor(input.TagSpecifications, 'security-group') });
    // A new group allows all outbound IPv4 traffic (https://docs.aws.amazon.com/vpc/latest/userguide/default-security-group.html).
    addRule({ GroupId, IsEgress: true, IpProtocol: '-1', CidrIpv4: '0.0.0.0/0', Tags: [] });
    return { GroupId };
  });
  const addRule = (rule: Omit<Rule, 'SecurityGroupRuleId'>) => {
    const same = [...state.rules.values()].find((r) => r.GroupId === rule.GroupId && r.IsEgress === rule.IsEgress && r.IpProtocol === rule.IpProtocol && r.FromPort === rule.FromPort && r.ToPort === rule.ToPort && r.CidrIpv4 === rule.CidrIpv4 && r.CidrIpv6 === rule.CidrIpv6 && r.ReferencedGroupInfo?.GroupId === rule.ReferencedGroupInfo?.GroupId);
    if (same) throw ec2Error('InvalidPermission.Duplicate', `the specified rule already exists in ${rule.GroupId}`);
    if ([...state.rules.values()].filter((r) => r.GroupId === rule.GroupId && r.IsEgress === rule.IsEgress).length >= state.rulesPerGroup) {
      throw ec2Error('RulesPerSecurityGroupLimitExceeded', `The maximum number of rules per security group has been reached (${state.rulesPerGroup}) for ${rule.GroupId}`);
    }
    const id = `sgr-${(++seq).toString(16).padStart(17, '0')}`;
    state.rules.set(id, { ...rule, SecurityGroupRuleId: id });
  };
  const authorize = (IsEgress: boolean) => (input: any) => {
    if (!state.groups.has(input.GroupId)) throw ec2Error('InvalidGroup.NotFound', `The security group '${input.GroupId}' does not exist`);
    const Tags = tagsFor(input.TagSpecifications, 'security-group-rule');
    for (const p of input.IpPermissions ?? []) {
      const base = { GroupId: input.GroupId, IsEgress, IpProtocol: p.IpProtocol, FromPort: p.FromPort, ToPort: p.ToPort, Tags };
      for (const r of p.IpRanges ?? []) addRule({ ...base, CidrIpv4: r.CidrIp, Description: r.Description });
      for (const r of p.Ipv6Ranges ?? []) addRule({ ...base, CidrIpv6: r.CidrIpv6, Description: r.Description });
      for (const r of p.UserIdGroupPairs ?? []) addRule({ ...base, ReferencedGroupInfo: { GroupId: r.GroupId }, Description: r.Description });
    }
    return { Return: true };
  };
  twin.handler('ec2', 'AuthorizeSecurityGroupIngress', authorize(false));
  twin.handler('ec2', 'AuthorizeSecurityGroupEgress', authorize(true));
  const revoke = (input: any) => {
    for (const id of input.SecurityGroupRuleIds ?? []) {
      if (!state.rules.has(id)) throw ec2Error('InvalidSecurityGroupRuleId.NotFound', `The security group rule ID '${id}' does not exist`);
      state.rules.delete(id);
    }
    return { Return: true };
  };
  twin.handler('ec2', 'RevokeSecurityGroupIngress', revoke);
  twin.handler('ec2', 'RevokeSecurityGroupEgress', revoke);
  const matches = (filters: any[] | undefined, value: (name: string) => string[]) => (filters ?? []).every((f) => f.Values.some((v: string) => value(f.Name).includes(v)));
  twin.handler('ec2', 'DescribeSecurityGroups', (input) => ({
    SecurityGroups: [...state.groups.values()].filter((g) => (!input.GroupIds || input.GroupIds.includes(g.GroupId)) && matches(input.Filters, (n) => (n === 'group-name' ? [g.GroupName] : n === 'vpc-id' ? [g.VpcId] : n === 'group-id' ? [g.GroupId] : n.startsWith('tag:') ? g.Tags.filter((t) => t.Key === n.slice(4)).map((t) => t.Value) : []))),
  }));
  twin.handler('ec2', 'DescribeSecurityGroupRules', (input) => ({
    SecurityGroupRules: [...state.rules.values()].filter((r) => matches(input.Filters, (n) => (n === 'group-id' ? [r.GroupId] : n.startsWith('tag:') ? r.Tags.filter((t) => t.Key === n.slice(4)).map((t) => t.Value) : []))),
  }));
  twin.handler('ec2', 'DeleteSecurityGroup', (input) => {
    // A group another group's rule references cannot be deleted (DependencyViolation).
    if ([...state.rules.values()].some((r) => r.ReferencedGroupInfo?.GroupId === input.GroupId && r.GroupId !== input.GroupId)) throw ec2Error('DependencyViolation', `resource ${input.GroupId} has a dependent object`);
    state.groups.delete(input.GroupId);
    for (const [id, r] of state.rules) if (r.GroupId === input.GroupId) state.rules.delete(id);
    return {};
  });
  return state;
}
