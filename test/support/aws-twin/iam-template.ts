// The IAM side of the synthesized Berth stack, made concrete: each Lambda role's policies with every
// CloudFormation intrinsic (Ref, Fn::GetAtt, Fn::Join, Fn::Sub, Fn::Select, Fn::GetAZs) resolved to
// the ids and ARNs the resources would have in one fixed test account, and the Lambda environment
// resolved the same way, so the ARNs the drivers send and the ARNs the policies name agree.
import { App } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { createHash } from 'node:crypto';
import { BerthStack, type BerthStackProps } from '../../../infra/berth-stack.ts';

export const TEST_ACCOUNT = '123456789012';
export const TEST_REGION = 'eu-west-1';
export const TEST_PARTITION = 'aws';

/** The four Berth Lambdas, by the role each runs with (infra/berth-stack.ts createFunctions). */
export type BerthPrincipal = 'api' | 'steps' | 'ecs-events' | 'backup-events' | 'reconcile';
const SERVICE_NAMES: Record<string, BerthPrincipal> = { 'berth-api': 'api', 'berth-steps': 'steps', 'berth-ecs-events': 'ecs-events', 'berth-backup-events': 'backup-events', 'berth-reconcile': 'reconcile' };

export interface PolicyStatement {
  Sid?: string;
  Effect: 'Allow' | 'Deny';
  Action: string | string[];
  Resource: string | string[];
  Condition?: Record<string, Record<string, string | string[]>>;
}
export interface PolicyDocument {
  Version: string;
  Statement: PolicyStatement[];
}

export interface RolePolicies {
  /** The role's ARN in the test account. */
  arn: string;
  /** Every identity policy attached to the role (inline, AWS::IAM::Policy, managed). */
  policies: { name: string; policy: PolicyDocument }[];
}

export interface IamModel {
  account: string;
  region: string;
  roles: Record<BerthPrincipal, RolePolicies>;
  /** The environment the stack gives every Berth Lambda, resolved (what awsRuntimeConfigFromEnv reads). */
  environment: Record<string, string>;
  /**
   * Resource policies by ARN: the KMS key policies. KMS consults the key policy on every request
   * (https://docs.aws.amazon.com/kms/latest/developerguide/key-policies.html); identity policies
   * count only where it delegates to the account.
   */
  resourcePolicies: Record<string, PolicyDocument>;
}

type Resources = Record<string, { Type: string; Properties?: Record<string, any> }>;

/** Synthesizes the stack in-process (no Lambda bundling, as test/infra-stack.test.ts does). */
export function synthesizeTemplate(props: BerthStackProps = {}): Record<string, any> {
  const app = new App({ context: { 'aws:cdk:bundling-stacks': [] } });
  return Template.fromStack(new BerthStack(app, 'Berth', props)).toJSON();
}

export function iamModelFromTemplate(template: Record<string, any>): IamModel {
  const resources = template.Resources as Resources;
  const resolve = resolver(resources);
  const roles: Partial<Record<BerthPrincipal, RolePolicies>> = {};
  let environment: Record<string, string> | undefined;
  for (const [, fn] of Object.entries(resources).filter(([, r]) => r.Type === 'AWS::Lambda::Function')) {
    const vars = (fn.Properties?.Environment?.Variables ?? {}) as Record<string, unknown>;
    const principal = SERVICE_NAMES[String(vars.POWERTOOLS_SERVICE_NAME)];
    if (!principal) continue;
    const roleId = fn.Properties?.Role?.['Fn::GetAtt']?.[0] as string;
    roles[principal] = { arn: resolve({ 'Fn::GetAtt': [roleId, 'Arn'] }) as string, policies: policiesOf(resources, roleId, resolve) };
    const { POWERTOOLS_SERVICE_NAME: _name, NODE_OPTIONS: _opts, ...shared } = vars;
    environment ??= Object.fromEntries(Object.entries(shared).map(([k, v]) => [k, String(resolve(v))]));
  }
  const missing = Object.keys(SERVICE_NAMES).filter((s) => !roles[SERVICE_NAMES[s]]);
  if (missing.length || !environment) throw new Error(`the template has no Lambda for ${missing.join(', ')}: infra/berth-stack.ts createFunctions changed; update SERVICE_NAMES in iam-template.ts`);
  const resourcePolicies = Object.fromEntries(
    Object.entries(resources)
      .filter(([, r]) => r.Type === 'AWS::KMS::Key' && r.Properties?.KeyPolicy)
      .map(([id, r]) => [resolve({ 'Fn::GetAtt': [id, 'Arn'] }) as string, resolve(r.Properties!.KeyPolicy) as PolicyDocument]),
  );
  return { account: TEST_ACCOUNT, region: TEST_REGION, roles: roles as Record<BerthPrincipal, RolePolicies>, environment: { ...environment, AWS_REGION: TEST_REGION }, resourcePolicies };
}

/** The model of the stack as `props` synthesize it. */
export function synthesizeIamModel(props: BerthStackProps = {}): IamModel {
  return iamModelFromTemplate(synthesizeTemplate(props));
}

/** A copy of the model in which `principal`'s statement `sid` is gone (or only `actions` of it): the negative tests' lever. */
export function withoutStatement(model: IamModel, principal: BerthPrincipal, sid: string, actions?: string[]): IamModel {
  let found = false;
  const policies = model.roles[principal].policies.map(({ name, policy }) => ({
    name,
    policy: {
      ...policy,
      Statement: policy.Statement.flatMap((s) => {
        if (s.Sid !== sid) return [s];
        found = true;
        if (!actions) return [];
        const left = ([] as string[]).concat(s.Action).filter((a) => !actions.includes(a));
        return left.length ? [{ ...s, Action: left }] : [];
      }),
    },
  }));
  if (!found) throw new Error(`role ${principal} has no statement ${sid}`);
  return { ...model, roles: { ...model.roles, [principal]: { ...model.roles[principal], policies } } };
}

function policiesOf(resources: Resources, roleId: string, resolve: (v: unknown) => unknown): RolePolicies['policies'] {
  const refersToRole = (roles: unknown) => Array.isArray(roles) && roles.some((r) => (r as { Ref?: string }).Ref === roleId);
  const out: RolePolicies['policies'] = [];
  for (const p of resources[roleId].Properties?.Policies ?? []) out.push({ name: p.PolicyName, policy: resolve(p.PolicyDocument) as PolicyDocument });
  for (const [id, r] of Object.entries(resources)) {
    if ((r.Type === 'AWS::IAM::Policy' || r.Type === 'AWS::IAM::ManagedPolicy') && refersToRole(r.Properties?.Roles)) out.push({ name: id, policy: resolve(r.Properties!.PolicyDocument) as PolicyDocument });
  }
  for (const arn of resources[roleId].Properties?.ManagedPolicyArns ?? []) {
    throw new Error(`role ${roleId} has a managed policy ${JSON.stringify(arn)}; Berth writes every grant out (infra/platform-function.ts), so the twin does not model managed policies`);
  }
  return out;
}

const short = (seed: string, n: number) => createHash('sha256').update(seed).digest('hex').slice(0, n);

/**
 * Physical ids and attributes as CloudFormation would return them, derived from the logical id so
 * they are stable across runs (https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/intrinsic-function-reference-getatt.html
 * and each resource type's "Return values").
 */
function resolver(resources: Resources): (value: unknown) => unknown {
  const arn = (service: string, resource: string, region = TEST_REGION) => `arn:${TEST_PARTITION}:${service}:${region}:${TEST_ACCOUNT}:${resource}`;
  const pseudo: Record<string, string> = { 'AWS::AccountId': TEST_ACCOUNT, 'AWS::Region': TEST_REGION, 'AWS::Partition': TEST_PARTITION, 'AWS::URLSuffix': 'amazonaws.com', 'AWS::StackName': 'Berth', 'AWS::StackId': `arn:${TEST_PARTITION}:cloudformation:${TEST_REGION}:${TEST_ACCOUNT}:stack/Berth/00000000-1111-2222-3333-444444444444`, 'AWS::NoValue': '' };
  const named = (id: string, prop: string) => {
    const given = resources[id]?.Properties?.[prop];
    return given === undefined ? id : String(resolve(given));
  };
  const ref = (id: string): string => {
    if (id in pseudo) return pseudo[id];
    const r = resources[id];
    if (!r) throw new Error(`Ref to ${id}, which the template does not define`);
    switch (r.Type) {
      case 'AWS::EC2::VPC':
        return `vpc-${short(id, 17)}`;
      case 'AWS::EC2::Subnet':
        return `subnet-${short(id, 17)}`;
      case 'AWS::EC2::SecurityGroup':
        return `sg-${short(id, 17)}`;
      case 'AWS::KMS::Key':
        return [short(id, 8), short(id + 1, 4), short(id + 2, 4), short(id + 3, 4), short(id + 4, 12)].join('-');
      case 'AWS::IAM::Role':
        return named(id, 'RoleName');
      case 'AWS::DynamoDB::Table':
        return named(id, 'TableName');
      case 'AWS::ECS::Cluster':
        return named(id, 'ClusterName');
      case 'AWS::Logs::LogGroup':
        return named(id, 'LogGroupName');
      case 'AWS::Backup::BackupVault':
        return named(id, 'BackupVaultName');
      case 'AWS::StepFunctions::StateMachine':
        return arn('states', `stateMachine:${named(id, 'StateMachineName')}`);
      default:
        return id;
    }
  };
  const getAtt = (id: string, attr: string): string => {
    const r = resources[id];
    if (!r) throw new Error(`Fn::GetAtt of ${id}, which the template does not define`);
    const key = `${r.Type}.${attr}`;
    switch (key) {
      case 'AWS::IAM::Role.Arn':
        return `arn:${TEST_PARTITION}:iam::${TEST_ACCOUNT}:role/${ref(id)}`;
      case 'AWS::KMS::Key.Arn':
        return arn('kms', `key/${ref(id)}`);
      case 'AWS::DynamoDB::Table.Arn':
        return arn('dynamodb', `table/${ref(id)}`);
      case 'AWS::ECS::Cluster.Arn':
        return arn('ecs', `cluster/${ref(id)}`);
      case 'AWS::EC2::SecurityGroup.GroupId':
        return ref(id);
      case 'AWS::Logs::LogGroup.Arn':
        return arn('logs', `log-group:${ref(id)}:*`);
      case 'AWS::Backup::BackupVault.BackupVaultName':
        return ref(id);
      case 'AWS::Backup::BackupVault.BackupVaultArn':
        return arn('backup', `backup-vault:${ref(id)}`);
      case 'AWS::StepFunctions::StateMachine.Name':
        return named(id, 'StateMachineName');
      case 'AWS::StepFunctions::StateMachine.Arn':
        return ref(id);
      case 'AWS::Lambda::Function.Arn':
        return arn('lambda', `function:${named(id, 'FunctionName')}`);
      case 'AWS::EC2::VPC.VpcId':
        return ref(id);
      case 'AWS::EC2::Subnet.SubnetId':
        return ref(id);
      default:
        // Attributes no policy or Lambda variable of the stack names: a readable placeholder.
        return `<${id}.${attr}>`;
    }
  };
  const sub = (text: string, vars: Record<string, unknown> = {}) =>
    text.replace(/\$\{([^}]+)\}/g, (_m, name: string) => {
      if (name in vars) return String(resolve(vars[name]));
      const [id, attr] = name.split('.');
      return attr ? getAtt(id, attr) : ref(id);
    });
  function resolve(value: unknown): unknown {
    if (Array.isArray(value)) return value.map(resolve);
    if (!value || typeof value !== 'object') return value;
    const v = value as Record<string, any>;
    if ('Ref' in v) return ref(v.Ref);
    if ('Fn::GetAtt' in v) {
      const [id, attr] = typeof v['Fn::GetAtt'] === 'string' ? v['Fn::GetAtt'].split('.') : v['Fn::GetAtt'];
      return getAtt(id, attr);
    }
    if ('Fn::Join' in v) return (resolve(v['Fn::Join'][1]) as unknown[]).map(String).join(v['Fn::Join'][0]);
    if ('Fn::Sub' in v) return typeof v['Fn::Sub'] === 'string' ? sub(v['Fn::Sub']) : sub(v['Fn::Sub'][0], v['Fn::Sub'][1]);
    if ('Fn::GetAZs' in v) return ['a', 'b', 'c'].map((z) => `${TEST_REGION}${z}`);
    if ('Fn::Select' in v) return (resolve(v['Fn::Select'][1]) as unknown[])[Number(resolve(v['Fn::Select'][0]))];
    if ('Fn::Split' in v) return String(resolve(v['Fn::Split'][1])).split(v['Fn::Split'][0]);
    return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, resolve(x)]));
  }
  return resolve;
}
