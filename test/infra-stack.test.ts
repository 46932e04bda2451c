// The CDK stack, asserted on its CloudFormation template. Synthesized once per variant; Lambda
// bundling is skipped here (`aws:cdk:bundling-stacks`: []) to keep the file fast; the entries must
// still exist, and `npm run synth` (CI) bundles them for real.
import { readdirSync, readFileSync } from 'node:fs';
import { App, Duration } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { RetentionDays } from 'aws-cdk-lib/aws-logs';
import { beforeAll, describe, expect, it } from 'vitest';
import { awsRuntimeConfigFromEnv } from '../functions/drivers/aws/config.ts';
import { loadDefinition, STATE_MACHINES_DIR } from '../functions/reconciler/state-machine-files.ts';
import type { StateMachineName } from '../functions/core/ports.ts';
import { BerthStack, ECS_EVENT_TYPES, type BerthStackProps } from '../infra/berth-stack.ts';
import { LAMBDA_RUNTIME } from '../infra/platform-function.ts';
import { IAM_PREFIX } from './support/aws-twin/twin.ts';

type Resource = { Type: string; Properties?: Record<string, any> };

function synth(props: BerthStackProps = {}): Template {
  const app = new App({ context: { 'aws:cdk:bundling-stacks': [] } });
  return Template.fromStack(new BerthStack(app, 'Berth', props));
}

const resourcesOf = (template: Template, type: string): [string, Resource][] => Object.entries(template.findResources(type)) as [string, Resource][];

/** Logical id of the one resource of `type` whose id starts with `prefix`. */
function logicalId(template: Template, type: string, prefix: string): string {
  const ids = Object.keys(template.findResources(type)).filter((id) => id.startsWith(prefix));
  expect(ids, `${type} ${prefix}*`).toHaveLength(1);
  return ids[0];
}

/**
 * Resolves CloudFormation intrinsics to readable placeholders: `{Ref: X}` → `<X>`,
 * `{Fn::GetAtt: [X, Y]}` → `<X.Y>`, `Fn::Join` joined, an AZ pick → `az-<n>`. Placeholders stay
 * inside JSON strings, so JSON-valued variables still parse.
 */
function resolve(value: unknown): string {
  if (typeof value === 'string') return value;
  const v = value as Record<string, any>;
  if ('Ref' in v) return `<${v.Ref}>`;
  if ('Fn::GetAtt' in v) return `<${v['Fn::GetAtt'].join('.')}>`;
  if ('Fn::Join' in v) return (v['Fn::Join'][1] as unknown[]).map(resolve).join(v['Fn::Join'][0]);
  if ('Fn::Select' in v && 'Fn::GetAZs' in v['Fn::Select'][1]) return `az-${v['Fn::Select'][0]}`;
  throw new Error(`cannot resolve ${JSON.stringify(value)}`);
}

const READ_ONLY = /^[a-z0-9-]+:(Describe|List|Get)[A-Za-z]*$/;
/**
 * Mutating actions AWS does not let a policy scope to a resource, and for which no condition key
 * narrows them. Each is here for a reason written where it is granted:
 * - Step Functions logging (CDK writes these for `logs`): https://docs.aws.amazon.com/step-functions/latest/dg/cw-logs.html
 * - X-Ray (CDK writes these for `tracingEnabled`): https://docs.aws.amazon.com/xray/latest/devguide/security_iam_service-with-iam.html
 * - ECS Exec from inside the task: https://docs.aws.amazon.com/AmazonECS/latest/developerguide/ecs-exec.html
 * - Cost allocation tags (account-wide Billing setting): https://docs.aws.amazon.com/service-authorization/latest/reference/list_awscostexplorerservice.html
 * - Completing a waiting step (a task token names no state machine): https://docs.aws.amazon.com/service-authorization/latest/reference/list_awsstepfunctions.html
 */
const UNSCOPABLE = new Set([
  'logs:CreateLogDelivery',
  'logs:UpdateLogDelivery',
  'logs:DeleteLogDelivery',
  'logs:PutResourcePolicy',
  'xray:PutTraceSegments',
  'xray:PutTelemetryRecords',
  'ssmmessages:CreateControlChannel',
  'ssmmessages:CreateDataChannel',
  'ssmmessages:OpenControlChannel',
  'ssmmessages:OpenDataChannel',
  'ce:UpdateCostAllocationTagsStatus',
  'states:SendTaskSuccess',
  'states:SendTaskFailure',
  'states:SendTaskHeartbeat',
]);

interface Statement {
  Effect: string;
  Action: string | string[];
  Resource: unknown;
  Condition?: unknown;
  Sid?: string;
}

const list = <T>(v: T | T[]): T[] => (Array.isArray(v) ? v : [v]);

/** Every Allow statement of the stack's policies (inline, default and overflow managed ones), with where it lives. */
function allowStatements(template: Template): { where: string; statement: Statement }[] {
  const out: { where: string; statement: Statement }[] = [];
  for (const type of ['AWS::IAM::Policy', 'AWS::IAM::ManagedPolicy']) {
    for (const [id, resource] of resourcesOf(template, type)) {
      for (const statement of resource.Properties!.PolicyDocument.Statement as Statement[]) if (statement.Effect === 'Allow') out.push({ where: id, statement });
    }
  }
  for (const [id, role] of resourcesOf(template, 'AWS::IAM::Role')) {
    for (const policy of role.Properties!.Policies ?? []) for (const statement of policy.PolicyDocument.Statement as Statement[]) if (statement.Effect === 'Allow') out.push({ where: id, statement });
  }
  return out;
}

/** `<where>: <action>` for each mutating action allowed on `*` without a condition. */
function unconditionedMutationsOnEverything(template: Template): string[] {
  return allowStatements(template).flatMap(({ where, statement }) => {
    if (statement.Condition || !list(statement.Resource).includes('*')) return [];
    return list(statement.Action)
      .filter((action) => action === '*' || (!READ_ONLY.test(action) && !UNSCOPABLE.has(action)))
      .map((action) => `${where}: ${action}`);
  });
}


/** Driver calls no Lambda makes yet, and why. */
const NOT_CALLED_FROM_A_LAMBDA: Record<string, string> = {
  'ce:UpdateCostAllocationTagsStatus': 'cost-tags.ts activates the cost allocation tags, an account setting run once; no Lambda calls it',
};

/** `service:Action` for every SDK command a driver sends (`new XCommand(` of an `@aws-sdk/client-*` import). */
function driverActions(): { action: string; file: string }[] {
  const out: { action: string; file: string }[] = [];
  for (const dir of ['functions/drivers/aws', 'functions/aws']) {
    for (const file of readdirSync(dir).filter((f) => f.endsWith('.ts'))) {
      const source = readFileSync(`${dir}/${file}`, 'utf8');
      for (const [, names, client] of source.matchAll(/import\s*\{([^}]*)\}\s*from\s*'@aws-sdk\/client-([a-z0-9-]+)'/g)) {
        for (const [, command] of names.matchAll(/(\w+)Command\b/g)) {
          if (!source.includes(`new ${command}Command(`)) continue;
          expect((IAM_PREFIX as Record<string, string>)[client], `IAM prefix of @aws-sdk/client-${client}`).toBeDefined();
          out.push({ action: `${(IAM_PREFIX as Record<string, string>)[client]}:${command}`, file });
        }
      }
    }
  }
  expect(out.length).toBeGreaterThan(40);
  return out;
}

/** Logical ids of the roles whose policies allow `action`. */
function rolesAllowed(template: Template, action: string): string[] {
  const roles = new Set<string>();
  for (const type of ['AWS::IAM::Policy', 'AWS::IAM::ManagedPolicy']) {
    for (const [, resource] of resourcesOf(template, type)) {
      const statements = resource.Properties!.PolicyDocument.Statement as Statement[];
      if (!statements.some((s) => s.Effect === 'Allow' && list(s.Action).includes(action))) continue;
      for (const role of resource.Properties!.Roles ?? []) roles.add(role.Ref);
    }
  }
  return [...roles].sort();
}

describe('GIVEN the stack with default props', () => {
  let template: Template;
  beforeAll(() => {
    template = synth();
  }, 60_000);

  describe('WHEN the backups are synthesized', () => {
    it('THEN [15.4] the retained vault is named from the stack id, so a second deploy (after a destroy left the vault) does not collide', () => {
      const [[, vault]] = resourcesOf(template, 'AWS::Backup::BackupVault') as [string, Resource & { DeletionPolicy?: string }][];
      expect(vault.DeletionPolicy).toBe('Retain');
      // Not a fixed string: the UUID of AWS::StackId differs for every stack CloudFormation creates.
      expect(vault.Properties!.BackupVaultName).toEqual({ 'Fn::Join': ['-', ['berth', { 'Fn::Select': [2, { 'Fn::Split': ['/', { Ref: 'AWS::StackId' }] }] }]] });
      // The Lambdas read the name the vault got, not one they build.
      template.hasResourceProperties('AWS::Lambda::Function', { Environment: { Variables: Match.objectLike({ BACKUP_VAULT_NAME: { 'Fn::GetAtt': [logicalId(template, 'AWS::Backup::BackupVault', 'BackupVault'), 'BackupVaultName'] } }) } });
    });
  });

  describe('WHEN the network is synthesized', () => {
    it('THEN the VPC is dual-stack: it has an Amazon-provided IPv6 block and subnets hand out IPv6 addresses', () => {
      template.resourceCountIs('AWS::EC2::VPCCidrBlock', 1);
      template.hasResourceProperties('AWS::EC2::VPCCidrBlock', { AmazonProvidedIpv6CidrBlock: true });
      for (const [, subnet] of resourcesOf(template, 'AWS::EC2::Subnet')) {
        expect(subnet.Properties!.AssignIpv6AddressOnCreation).toBe(true);
        expect(subnet.Properties!.Ipv6CidrBlock).toBeDefined();
      }
    });

    it('THEN [15.5i] the stack creates no VPC endpoints, and the runtime config (functions/drivers/aws/config.ts) promises none', () => {
      template.resourceCountIs('AWS::EC2::VPCEndpoint', 0);
      // The doc of ASSIGN_PUBLIC_IPV4 once said tasks reach AWS APIs "through VPC endpoints": an
      // operator following it would disable the public IPv4 and lose image pulls and logs.
      const config = readFileSync('functions/drivers/aws/config.ts', 'utf8');
      for (const [sentence] of config.matchAll(/[^.]*VPC endpoints?[^.]*\./g)) expect(sentence, 'config.ts on VPC endpoints').toMatch(/\bno VPC endpoints?\b/);
    });

    it('THEN there is no NAT gateway: tasks run in the public subnets with a public IPv4 each', () => {
      template.resourceCountIs('AWS::EC2::NatGateway', 0);
      template.resourceCountIs('AWS::EC2::EIP', 0);
      template.resourceCountIs('AWS::EC2::Subnet', 2);
      template.hasResourceProperties('AWS::Lambda::Function', { Environment: { Variables: Match.objectLike({ ASSIGN_PUBLIC_IPV4: 'true' }) } });
    });

    it('THEN public subnets route IPv4 and IPv6 to the internet gateway', () => {
      template.hasResourceProperties('AWS::EC2::Route', { DestinationCidrBlock: '0.0.0.0/0', GatewayId: Match.anyValue() });
      template.hasResourceProperties('AWS::EC2::Route', { DestinationIpv6CidrBlock: '::/0', GatewayId: Match.anyValue() });
    });

    it('THEN the task security group admits nothing by itself, and volumes admit NFS from tasks only', () => {
      const tasks = logicalId(template, 'AWS::EC2::SecurityGroup', 'NetworkTaskSecurityGroup');
      expect(template.findResources('AWS::EC2::SecurityGroup')[tasks].Properties.SecurityGroupIngress).toBeUndefined();
      template.hasResourceProperties('AWS::EC2::SecurityGroupIngress', { IpProtocol: 'tcp', FromPort: 2049, ToPort: 2049, SourceSecurityGroupId: { 'Fn::GetAtt': [tasks, 'GroupId'] } });
    });

    it('THEN a VPC flow log is written to CloudWatch Logs', () => {
      template.hasResourceProperties('AWS::EC2::FlowLog', { ResourceType: 'VPC', LogDestinationType: 'cloud-watch-logs' });
    });
  });

  describe('WHEN the table is synthesized', () => {
    it('THEN it has the pk/sk string keys, on-demand billing, PITR, the TTL attribute expiresAt and deletion protection', () => {
      template.resourceCountIs('AWS::DynamoDB::Table', 1);
      template.hasResourceProperties('AWS::DynamoDB::Table', {
        KeySchema: [
          { AttributeName: 'pk', KeyType: 'HASH' },
          { AttributeName: 'sk', KeyType: 'RANGE' },
        ],
        AttributeDefinitions: [
          { AttributeName: 'pk', AttributeType: 'S' },
          { AttributeName: 'sk', AttributeType: 'S' },
        ],
        BillingMode: 'PAY_PER_REQUEST',
        PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true },
        TimeToLiveSpecification: { AttributeName: 'expiresAt', Enabled: true },
        DeletionProtectionEnabled: true,
      });
      template.hasResource('AWS::DynamoDB::Table', { DeletionPolicy: 'Retain', UpdateReplacePolicy: 'Retain' });
    });

    it('THEN it is encrypted with the stack’s customer-managed KMS key', () => {
      const key = logicalId(template, 'AWS::KMS::Key', 'DataKey');
      template.hasResourceProperties('AWS::DynamoDB::Table', { SSESpecification: { SSEEnabled: true, SSEType: 'KMS', KMSMasterKeyId: { 'Fn::GetAtt': [key, 'Arn'] } } });
      template.hasResourceProperties('AWS::KMS::Key', { EnableKeyRotation: true, KeySpec: Match.absent() });
    });
  });

  describe('WHEN the Lambdas are synthesized', () => {
    it('THEN there are six, each arm64 on the current Node.js runtime, bundled as ESM', () => {
      const functions = resourcesOf(template, 'AWS::Lambda::Function');
      expect(functions.map(([id]) => id.replace(/Function.*$/, '')).sort()).toEqual(['Api', 'BackupEvents', 'EcsEvents', 'ExecutionEvents', 'Reconcile', 'Steps']);
      for (const [id, fn] of functions) {
        expect(fn.Properties!.Architectures, id).toEqual(['arm64']);
        expect(fn.Properties!.Runtime, id).toBe(LAMBDA_RUNTIME.name);
        expect(fn.Properties!.Runtime, id).toMatch(/^nodejs\d+\.x$/);
        expect(fn.Properties!.Handler, id).toBe('index.handler');
      }
    });

    it('THEN every Lambda gets the config the AWS drivers read, and it parses', () => {
      for (const [id, fn] of resourcesOf(template, 'AWS::Lambda::Function')) {
        const variables = Object.fromEntries(Object.entries(fn.Properties!.Environment.Variables as Record<string, unknown>).map(([k, v]) => [k, resolve(v)]));
        expect(variables, id).toMatchObject({ LOG_GROUP_PREFIX: '/berth/', POWERTOOLS_SERVICE_NAME: expect.stringMatching(/^berth-/) });
        const config = awsRuntimeConfigFromEnv({ ...variables, AWS_REGION: 'us-east-1' });
        const publicSubnets = [
          { az: 'az-0', id: expect.stringMatching(/^<NetworkVpcPublicSubnet1/) },
          { az: 'az-1', id: expect.stringMatching(/^<NetworkVpcPublicSubnet2/) },
        ];
        expect(config.subnets).toEqual(publicSubnets);
        expect(config.taskSubnets).toEqual(publicSubnets);
        expect(Object.keys(config.stateMachineArns).sort()).toEqual(['deploy', 'endpoint', 'env', 'scale', 'volume']);
        expect(config.stateMachineArns.deploy).toBe('arn:<AWS::Partition>:states:<AWS::Region>:<AWS::AccountId>:stateMachine:Berth-deploy');
        expect(config.assignPublicIp).toBe(true);
        expect(config.logRetentionDays).toBe(30);
      }
    });

    it('THEN no Lambda role has a managed policy: each grant is written out', () => {
      for (const [id, role] of resourcesOf(template, 'AWS::IAM::Role')) expect(role.Properties!.ManagedPolicyArns, id).toBeUndefined();
    });
  });

  describe('WHEN the HTTP API is synthesized', () => {
    it('THEN its $default stage writes access logs to a log group and proxies everything to the API Lambda', () => {
      template.hasResourceProperties('AWS::ApiGatewayV2::Api', { ProtocolType: 'HTTP' });
      template.hasResourceProperties('AWS::ApiGatewayV2::Stage', { StageName: '$default', AutoDeploy: true, AccessLogSettings: { DestinationArn: { 'Fn::GetAtt': [Match.stringLikeRegexp('^ApiAccessLogs'), 'Arn'] }, Format: Match.stringLikeRegexp('requestId') } });
      template.hasResourceProperties('AWS::ApiGatewayV2::Route', { RouteKey: '$default' });
      template.hasResourceProperties('AWS::ApiGatewayV2::Integration', { IntegrationType: 'AWS_PROXY', IntegrationUri: { 'Fn::GetAtt': [logicalId(template, 'AWS::Lambda::Function', 'ApiFunction'), 'Arn'] } });
    });
  });

  describe('WHEN the state machines are synthesized', () => {
    const machines = readdirSync(STATE_MACHINES_DIR)
      .filter((f) => f.endsWith('.asl.json'))
      .map((f) => f.replace('.asl.json', '') as StateMachineName);

    it('THEN there is one Standard machine per file in statemachines/, logging ALL with execution data, traced', () => {
      template.resourceCountIs('AWS::StepFunctions::StateMachine', machines.length);
      for (const machine of machines) {
        template.hasResourceProperties('AWS::StepFunctions::StateMachine', {
          StateMachineName: `Berth-${machine}`,
          StateMachineType: 'STANDARD',
          LoggingConfiguration: { Level: 'ALL', IncludeExecutionData: true, Destinations: [{ CloudWatchLogsLogGroup: { LogGroupArn: Match.anyValue() } }] },
          TracingConfiguration: { Enabled: true },
        });
      }
    });

    it.each(machines)('THEN the %s definition is the file, with the steps Lambda’s ARN substituted', (machine) => {
      const steps = logicalId(template, 'AWS::Lambda::Function', 'StepsFunction');
      const [, resource] = resourcesOf(template, 'AWS::StepFunctions::StateMachine').find(([, r]) => r.Properties!.StateMachineName === `Berth-${machine}`)!;
      const { DefinitionString, DefinitionSubstitutions } = resource.Properties!;
      expect(DefinitionSubstitutions).toEqual({ StepFunctionArn: { 'Fn::GetAtt': [steps, 'Arn'] } });
      // CloudFormation substitutes `${StepFunctionArn}` at deploy; do the same with a placeholder.
      const deployed = JSON.parse((DefinitionString as string).replaceAll('${StepFunctionArn}', resolve(DefinitionSubstitutions.StepFunctionArn)));
      expect(deployed).toEqual(loadDefinition(machine, { StepFunctionArn: `<${steps}.Arn>` }));
    });

    it('THEN their role may invoke exactly the steps Lambda', () => {
      const steps = logicalId(template, 'AWS::Lambda::Function', 'StepsFunction');
      const invokes = allowStatements(template).filter(({ statement }) => list(statement.Action).includes('lambda:InvokeFunction'));
      expect(invokes).toHaveLength(1);
      expect(invokes[0].where).toMatch(/^StateMachinesRole/);
      expect(invokes[0].statement.Resource).toEqual({ 'Fn::GetAtt': [steps, 'Arn'] });
    });
  });

  describe('WHEN the event rules are synthesized', () => {
    it('THEN ECS deployment, service and task events of the Berth cluster go to the ecs-events Lambda', () => {
      const cluster = logicalId(template, 'AWS::ECS::Cluster', 'AppsCluster');
      const prefix = (kind: string) => ({ prefix: { 'Fn::Join': ['', Match.arrayWith([`:${kind}/`, { Ref: cluster }, '/'])] } });
      template.hasResourceProperties('AWS::Events::Rule', {
        EventPattern: { source: ['aws.ecs'], 'detail-type': ECS_EVENT_TYPES, resources: [prefix('service'), prefix('task')] },
        Targets: [Match.objectLike({ Arn: { 'Fn::GetAtt': [logicalId(template, 'AWS::Lambda::Function', 'EcsEventsFunction'), 'Arn'] } })],
      });
      expect(ECS_EVENT_TYPES).toEqual(['ECS Deployment State Change', 'ECS Service Action', 'ECS Task State Change']);
    });

    it('THEN AWS Backup restore jobs of EFS that ended go to the backup-events Lambda, which completes the waiting volume restore', () => {
      template.hasResourceProperties('AWS::Events::Rule', {
        EventPattern: { source: ['aws.backup'], 'detail-type': ['Restore Job State Change'], detail: { resourceType: ['EFS'], status: ['COMPLETED', 'FAILED', 'ABORTED'] } },
        Targets: [Match.objectLike({ Arn: { 'Fn::GetAtt': [logicalId(template, 'AWS::Lambda::Function', 'BackupEventsFunction'), 'Arn'] } })],
      });
    });

    it('THEN only the volume swap role may mount a file system root as root (ClientRootAccess), and app tasks may not', () => {
      expect(rolesAllowed(template, 'elasticfilesystem:ClientRootAccess')).toEqual([logicalId(template, 'AWS::IAM::Role', 'AppsVolumeSwapRole')]);
    });

    it('THEN failed, timed-out and aborted executions of the five Berth state machines (and nothing else) go to the execution-events Lambda', () => {
      const rules = resourcesOf(template, 'AWS::Events::Rule').filter(([, r]) => r.Properties!.EventPattern?.source?.[0] === 'aws.states');
      expect(rules).toHaveLength(1);
      const [, rule] = rules[0];
      expect(rule.Properties!.EventPattern['detail-type']).toEqual(['Step Functions Execution Status Change']);
      expect(rule.Properties!.EventPattern.detail.status).toEqual(['FAILED', 'TIMED_OUT', 'ABORTED']);
      expect((rule.Properties!.EventPattern.detail.stateMachineArn as unknown[]).map(resolve)).toEqual(
        ['deploy', 'scale', 'endpoint', 'volume', 'env'].map((m) => `arn:<AWS::Partition>:states:<AWS::Region>:<AWS::AccountId>:stateMachine:Berth-${m}`),
      );
      expect(rule.Properties!.Targets).toEqual([expect.objectContaining({ Arn: { 'Fn::GetAtt': [logicalId(template, 'AWS::Lambda::Function', 'ExecutionEventsFunction'), 'Arn'] }, RetryPolicy: expect.objectContaining({ MaximumRetryAttempts: 8 }) })]);
    });

    it('THEN a schedule runs the reconcile Lambda every minute', () => {
      template.hasResourceProperties('AWS::Events::Rule', {
        ScheduleExpression: 'rate(1 minute)',
        Targets: [Match.objectLike({ Arn: { 'Fn::GetAtt': [logicalId(template, 'AWS::Lambda::Function', 'ReconcileFunction'), 'Arn'] } })],
      });
    });
  });

  describe('WHEN the cluster is synthesized', () => {
    it('THEN it has Container Insights and the Fargate capacity providers', () => {
      template.hasResourceProperties('AWS::ECS::Cluster', { ClusterSettings: [{ Name: 'containerInsights', Value: 'enabled' }] });
      template.hasResourceProperties('AWS::ECS::ClusterCapacityProviderAssociations', { CapacityProviders: Match.arrayWith(['FARGATE']) });
    });
  });

  describe('WHEN the IAM policies are synthesized', () => {
    it('THEN no statement allows a mutating action on "*" without a condition', () => {
      expect(allowStatements(template).length).toBeGreaterThan(20);
      expect(unconditionedMutationsOnEverything(template)).toEqual([]);
    });

    it('THEN [15.5c] only the steps, ecs-events, backup-events (volume restores) and reconcile (its heartbeat pass) Lambdas may complete a waiting step, and only the API and reconcile Lambdas start operations', () => {
      const role = (fn: string) => logicalId(template, 'AWS::IAM::Role', `${fn}Role`);
      const completers = [role('BackupEvents'), role('EcsEvents'), role('Reconcile'), role('Steps')].sort();
      expect(rolesAllowed(template, 'states:SendTaskSuccess')).toEqual(completers);
      expect(rolesAllowed(template, 'states:SendTaskFailure')).toEqual(completers);
      expect(rolesAllowed(template, 'states:SendTaskHeartbeat')).toEqual(completers);
      expect(rolesAllowed(template, 'states:StartExecution')).toEqual([role('Api'), role('Reconcile')].sort());
    });

    it('THEN the execution-events Lambda may only use the state store (and write its own logs)', () => {
      const role = logicalId(template, 'AWS::IAM::Role', 'ExecutionEventsRole');
      const statements = resourcesOf(template, 'AWS::IAM::Policy')
        .filter(([, policy]) => (policy.Properties!.Roles ?? []).some((r: { Ref: string }) => r.Ref === role))
        .flatMap(([, policy]) => policy.Properties!.PolicyDocument.Statement as Statement[]);
      const actions = statements.flatMap((s) => list(s.Action));
      expect(actions.filter((a) => !a.startsWith('dynamodb:') && !a.startsWith('logs:') && !a.startsWith('kms:'))).toEqual([]);
      expect(actions).toContain('dynamodb:UpdateItem');
      // kms only through DynamoDB (the table's key); logs only its own log group.
      for (const s of statements) if (list(s.Action).some((a) => a.startsWith('kms:'))) expect(JSON.stringify(s.Condition)).toContain('kms:ViaService');
      for (const s of statements) if (list(s.Action).some((a) => a.startsWith('logs:'))) expect(JSON.stringify(s.Resource)).toContain('ExecutionEvents');
    });

    it('THEN only the steps Lambda changes runtime resources', () => {
      const steps = logicalId(template, 'AWS::IAM::Role', 'StepsRole');
      for (const action of ['ecs:CreateService', 'ecs:RegisterTaskDefinition', 'elasticloadbalancing:CreateLoadBalancer', 'elasticfilesystem:CreateFileSystem', 'ec2:CreateSecurityGroup', 'secretsmanager:CreateSecret', 'iam:PassRole']) {
        expect(rolesAllowed(template, action), action).toEqual([steps]);
      }
    });

    it('THEN every AWS call the drivers make is allowed to some Berth role', () => {
      const allowed = new Set(allowStatements(template).flatMap(({ statement }) => list(statement.Action)));
      const missing = driverActions().filter(({ action }) => !allowed.has(action) && !(action in NOT_CALLED_FROM_A_LAMBDA));
      expect(missing).toEqual([]);
    });

    it('THEN [15.5f] the task role may write ECS Exec session logs to the env log groups (the SSM agent logs with the task role)', () => {
      const task = logicalId(template, 'AWS::IAM::Role', 'AppsTaskRole');
      for (const action of ['logs:CreateLogStream', 'logs:DescribeLogStreams', 'logs:PutLogEvents', 'logs:DescribeLogGroups']) {
        expect(rolesAllowed(template, action), action).toContain(task);
      }
    });

    it('THEN creates of runtime resources require the berth:org request tag', () => {
      const creates = allowStatements(template).filter(({ statement }) => list(statement.Action).some((a) => ['ecs:RegisterTaskDefinition', 'elasticloadbalancing:CreateLoadBalancer', 'elasticfilesystem:CreateFileSystem', 'secretsmanager:CreateSecret'].includes(a)));
      expect(creates.length).toBeGreaterThan(0);
      for (const { statement } of creates) expect(statement.Condition).toEqual({ Null: { 'aws:RequestTag/berth:org': 'false' } });
    });
  });

  describe('WHEN tags are applied', () => {
    it('THEN every resource that takes tags carries berth:platform=berth', () => {
      const tagged = Object.entries(template.toJSON().Resources as Record<string, Resource>).filter(([, r]) => r.Properties && 'Tags' in r.Properties);
      expect(tagged.length).toBeGreaterThan(30);
      for (const [id, resource] of tagged) {
        const tags = resource.Properties!.Tags;
        const value = Array.isArray(tags) ? tags.find((t: { Key: string }) => t.Key === 'berth:platform')?.Value : tags['berth:platform'];
        expect(value, id).toBe('berth');
      }
    });
  });
});

describe('GIVEN natGateways: 1 and an AWS-managed table key', () => {
  let template: Template;
  beforeAll(() => {
    template = synth({ natGateways: 1, tableEncryption: 'aws-managed' });
  }, 60_000);

  it('WHEN synthesized THEN one NAT gateway serves private task subnets, whose IPv6 leaves through the egress-only gateway', () => {
    template.resourceCountIs('AWS::EC2::NatGateway', 1);
    template.resourceCountIs('AWS::EC2::EgressOnlyInternetGateway', 1);
    template.resourceCountIs('AWS::EC2::Subnet', 4);
    template.hasResourceProperties('AWS::EC2::Route', { DestinationIpv6CidrBlock: '::/0', EgressOnlyInternetGatewayId: Match.anyValue() });
    template.hasResourceProperties('AWS::EC2::Route', { DestinationCidrBlock: '0.0.0.0/0', NatGatewayId: Match.anyValue() });
  });

  it('WHEN synthesized THEN tasks go to the private subnets without a public IPv4, NLBs stay public', () => {
    const [, fn] = resourcesOf(template, 'AWS::Lambda::Function')[0];
    const variables = Object.fromEntries(Object.entries(fn.Properties!.Environment.Variables as Record<string, unknown>).map(([k, v]) => [k, resolve(v)]));
    const config = awsRuntimeConfigFromEnv({ ...variables, AWS_REGION: 'us-east-1' });
    expect(config.assignPublicIp).toBe(false);
    expect(config.taskSubnets.map((s) => s.id)).toEqual([expect.stringMatching(/^<NetworkVpcTasksSubnet1/), expect.stringMatching(/^<NetworkVpcTasksSubnet2/)]);
    expect(config.subnets.map((s) => s.id)).toEqual([expect.stringMatching(/^<NetworkVpcPublicSubnet1/), expect.stringMatching(/^<NetworkVpcPublicSubnet2/)]);
  });

  it('WHEN synthesized THEN the table uses the AWS-managed key and no Lambda is granted the data key through DynamoDB', () => {
    template.hasResourceProperties('AWS::DynamoDB::Table', { SSESpecification: { SSEEnabled: true, KMSMasterKeyId: Match.absent() } });
    expect(allowStatements(template).filter(({ statement }) => statement.Sid === 'StateStoreKey')).toEqual([]);
  });
});

describe('GIVEN props that cannot deploy', () => {
  it.each<[string, BerthStackProps, RegExp]>([
    ['a negative natGateways', { natGateways: -1 }, /natGateways must be a whole number from 0 to maxAzs \(2\); got -1\. Fix: pass natGateways: 0/],
    ['more NAT gateways than zones', { natGateways: 3 }, /natGateways .* got 3\. Fix:/],
    ['a fractional natGateways', { natGateways: 1.5 }, /natGateways .* got 1\.5\. Fix:/],
    ['three zones', { maxAzs: 3 }, /maxAzs must be 1 or 2; got 3\. Fix: pass maxAzs: 2/],
    ['an unknown table encryption', { tableEncryption: 'nope' as never }, /tableEncryption must be 'customer-managed' or 'aws-managed'; got "nope"\. Fix:/],
    ['logs kept forever', { logRetention: RetentionDays.INFINITE }, /logRetention must be a finite .* got 9999\. Fix: pass e\.g\. RetentionDays\.ONE_MONTH/],
    ['a reconcile every 30 seconds', { reconcileInterval: Duration.seconds(30) }, /reconcileInterval must be a whole number of minutes, at least 1; got 30 seconds\. Fix:/],
    ['a reconcile slower than the health wait heartbeat', { reconcileInterval: Duration.minutes(5) }, /reconcileInterval must be at most 4 minutes; got 5 minutes\. Fix:/],
  ])('WHEN given %s THEN synthesis stops with the value and the fix', (_what, props, message) => {
    expect(() => new BerthStack(new App(), 'Berth', props)).toThrow(message);
  });
});
