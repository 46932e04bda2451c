// The Berth platform in one AWS account: read the constructor top to bottom, one named step each.
//
// Tags: every resource of this stack carries `berth:platform=berth`. What the platform creates at
// runtime (ECS services and tasks, NLBs, target groups, EFS file systems, secrets, log groups,
// security groups) carries `berth:org`, `berth:project`, `berth:app` and `berth:env` instead, set by
// the drivers on the create call; the IAM policies below accept changes only to resources carrying
// `berth:org` (see runtime-resources.ts). Activate the berth:* keys as cost allocation tags to group
// the bill by them in Cost Explorer.
import { Aws, CfnOutput, Duration, Fn, RemovalPolicy, Stack, Tags, Validations } from 'aws-cdk-lib';
import { AccessLogFormat } from 'aws-cdk-lib/aws-apigateway';
import * as apigw from 'aws-cdk-lib/aws-apigatewayv2';
import { HttpLambdaIntegration } from 'aws-cdk-lib/aws-apigatewayv2-integrations';
import * as backup from 'aws-cdk-lib/aws-backup';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as events from 'aws-cdk-lib/aws-events';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as logs from 'aws-cdk-lib/aws-logs';
import type { Construct } from 'constructs';
import { resolveBerthProps, type BerthStackProps, type ResolvedBerthProps } from './berth-props.ts';
import { BerthCluster } from './cluster.ts';
import { BerthNetwork } from './network.ts';
import { PlatformFunction } from './platform-function.ts';
import { PlatformGrants } from './platform-grants.ts';
import { LOG_GROUP_PREFIX } from './runtime-resources.ts';
import { BerthStateMachines, MACHINES, stateMachineArn } from './state-machines.ts';
import { EXECUTION_STATUS_CHANGE, UNSUCCESSFUL } from '../functions/aws/execution-status.ts';

export type { BerthStackProps } from './berth-props.ts';

/** The tag on every resource of the stack itself. */
export const PLATFORM_TAG = { key: 'berth:platform', value: 'berth' } as const;

/**
 * The HTTP API stage's throttling: the account-wide guard in front of every Lambda container.
 * The API also limits each token (functions/api/rate-limit.ts), but those buckets live in each
 * container, so only this bounds the total. Far above a team's control-plane traffic; it caps
 * what a flood can cost in Lambda and DynamoDB.
 */
export const API_STAGE_THROTTLE = { rateLimit: 200, burstLimit: 400 } as const;

/** The ECS events that move rollouts forward (health waiters, drift). */
export const ECS_EVENT_TYPES = ['ECS Deployment State Change', 'ECS Service Action', 'ECS Task State Change'];

interface Keys {
  /** Symmetric: table (unless AWS-managed), secret bundles, Secrets Manager secrets, EFS, backups. */
  readonly data: kms.Key;
  /** HMAC_256: keyed digests of secret values (KMS keys either encrypt or MAC, never both). */
  readonly mac: kms.Key;
}

interface Functions {
  readonly api: PlatformFunction;
  readonly steps: PlatformFunction;
  readonly ecsEvents: PlatformFunction;
  readonly executionEvents: PlatformFunction;
  readonly backupEvents: PlatformFunction;
  readonly reconcile: PlatformFunction;
}

interface Backups {
  readonly vault: backup.BackupVault;
  readonly role: iam.Role;
}

export class BerthStack extends Stack {
  readonly config: ResolvedBerthProps;

  constructor(scope: Construct, id: string, props: BerthStackProps = {}) {
    super(scope, id, props);
    this.config = resolveBerthProps(props);
    Tags.of(this).add(PLATFORM_TAG.key, PLATFORM_TAG.value);

    const keys = this.createKeys();
    const network = new BerthNetwork(this, 'Network', { maxAzs: this.config.maxAzs, natGateways: this.config.natGateways, logRetention: this.config.logRetention });
    const table = this.createTable(keys.data);
    const cluster = new BerthCluster(this, 'Apps', { vpc: network.vpc, key: keys.data });
    const backups = this.createBackups(keys.data, cluster);
    const functions = this.createFunctions(this.runtimeEnvironment({ table, network, cluster, keys, backups }));
    const machines = new BerthStateMachines(this, 'StateMachines', { stepsFunction: functions.steps.function, logRetention: this.config.logRetention });
    this.grantPermissions(functions, new PlatformGrants({ table, tableKey: table.encryptionKey, keys, network, cluster, backups, stack: this }));
    const api = this.createApi(functions.api);
    this.createEventRules(functions, cluster);
    this.createOutputs({ api, table, cluster, machines });
  }

  private createKeys(): Keys {
    const data = new kms.Key(this, 'DataKey', {
      description: 'Berth: desired-state table, secret bundles, Secrets Manager secrets, EFS volumes and their backups',
      enableKeyRotation: true,
      removalPolicy: RemovalPolicy.RETAIN,
    });
    const mac = new kms.Key(this, 'MacKey', {
      description: 'Berth: keyed digests of secret values (shows equal values as equal without revealing them)',
      keySpec: kms.KeySpec.HMAC_256,
      keyUsage: kms.KeyUsage.GENERATE_VERIFY_MAC,
      removalPolicy: RemovalPolicy.RETAIN,
    });
    // No rotation: KMS rotates only symmetric encryption keys, and a new MAC key would change every stored digest.
    return { data, mac };
  }

  private createTable(key: kms.Key): dynamodb.Table {
    const customerManaged = this.config.tableEncryption === 'customer-managed';
    // Keys as functions/store/table.ts describes them; expired idempotency records age out on `expiresAt`.
    return new dynamodb.Table(this, 'Table', {
      partitionKey: { name: 'pk', type: dynamodb.AttributeType.STRING },
      sortKey: { name: 'sk', type: dynamodb.AttributeType.STRING },
      billingMode: dynamodb.BillingMode.PAY_PER_REQUEST,
      pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
      encryption: customerManaged ? dynamodb.TableEncryption.CUSTOMER_MANAGED : dynamodb.TableEncryption.AWS_MANAGED,
      ...(customerManaged ? { encryptionKey: key } : {}),
      timeToLiveAttribute: 'expiresAt',
      deletionProtection: true,
      removalPolicy: RemovalPolicy.RETAIN,
    });
  }

  private createBackups(key: kms.Key, cluster: BerthCluster): Backups {
    // On-demand volume snapshots (`berth volumes snapshot`): the EFS driver starts AWS Backup jobs
    // into this vault, with this role.
    // The vault is retained (it holds the snapshots), so its name must not come back: CDK's default
    // name derives from the construct path, which a second deploy of the stack repeats, and
    // CloudFormation then fails on the vault that is still there. The stack id's UUID is new for
    // every stack created, even under the same name ("berth-" + 36 characters; the limit is 50).
    const backupVaultName = Fn.join('-', ['berth', Fn.select(2, Fn.split('/', Aws.STACK_ID))]);
    const vault = new backup.BackupVault(this, 'BackupVault', { backupVaultName, encryptionKey: key, removalPolicy: RemovalPolicy.RETAIN });
    const role = new iam.Role(this, 'BackupRole', {
      assumedBy: new iam.ServicePrincipal('backup.amazonaws.com'),
      description: 'AWS Backup, for on-demand snapshots of Berth volumes',
    });
    PlatformGrants.backupService(role, { vault, key, fileSystems: cluster.runtimeArns.fileSystems });
    return { vault, role };
  }

  /** The AWS runtime config every Lambda reads (functions/drivers/aws/config.ts). */
  private runtimeEnvironment(parts: { table: dynamodb.Table; network: BerthNetwork; cluster: BerthCluster; keys: Keys; backups: Backups }): Record<string, string> {
    const { table, network, cluster, keys, backups } = parts;
    const subnets = (list: typeof network.publicSubnets) => this.toJsonString(list.map((s) => ({ az: s.availabilityZone, id: s.subnetId })));
    return {
      TABLE_NAME: table.tableName,
      CLUSTER_ARN: cluster.cluster.clusterArn,
      VPC_ID: network.vpc.vpcId,
      SUBNETS: subnets(network.publicSubnets),
      TASK_SUBNETS: subnets(network.taskSubnets),
      ASSIGN_PUBLIC_IPV4: String(network.assignPublicIpv4),
      TASK_SECURITY_GROUP_ID: network.taskSecurityGroup.securityGroupId,
      VOLUME_SECURITY_GROUP_ID: network.volumeSecurityGroup.securityGroupId,
      TASK_EXECUTION_ROLE_ARN: cluster.taskExecutionRole.roleArn,
      TASK_ROLE_ARN: cluster.taskRole.roleArn,
      VOLUME_SWAP_ROLE_ARN: cluster.volumeSwapRole.roleArn,
      STATE_MACHINE_ARNS: this.toJsonString(Object.fromEntries(MACHINES.map((m) => [m, stateMachineArn(this, m)]))),
      LOG_GROUP_PREFIX,
      LOG_RETENTION_DAYS: String(this.config.logRetention),
      KMS_KEY_ID: keys.data.keyId,
      MAC_KEY_ID: keys.mac.keyId,
      BACKUP_VAULT_NAME: backups.vault.backupVaultName,
      BACKUP_ROLE_ARN: backups.role.roleArn,
    };
  }

  private createFunctions(environment: Record<string, string>): Functions {
    const logRetention = this.config.logRetention;
    const fn = (id: string, props: Omit<ConstructorParameters<typeof PlatformFunction>[2], 'environment' | 'logRetention'>) =>
      new PlatformFunction(this, id, { ...props, environment, logRetention });
    return {
      // API Gateway gives an integration 30 s at most.
      api: fn('Api', {
        entry: 'api.ts',
        serviceName: 'berth-api',
        description: 'The Berth HTTP API (the hono app) and the web console at /',
        memorySize: 1024,
        timeout: Duration.seconds(29),
        // The web console is built into the API's own asset (console/build.ts), so a deploy always
        // ships the console of the same commit as the API it calls; the Lambda serves it at `/`.
        afterBundling: (outputDir) => [`node --import tsx console/build.ts "${outputDir}/console"`],
      }),
      // A step may wait for ECS or EFS to settle (bounded polls of a few minutes).
      steps: fn('Steps', { entry: 'steps.ts', serviceName: 'berth-steps', description: 'Task steps of every Berth state machine', memorySize: 512, timeout: Duration.minutes(15) }),
      ecsEvents: fn('EcsEvents', { entry: 'ecs-events.ts', serviceName: 'berth-ecs-events', description: 'ECS events: completes rollout steps waiting for healthy tasks', memorySize: 512, timeout: Duration.minutes(1) }),
      executionEvents: fn('ExecutionEvents', { entry: 'execution-events.ts', serviceName: 'berth-execution-events', description: 'Step Functions events: fails the operation of an execution that ended outside its steps, and frees its env', memorySize: 256, timeout: Duration.seconds(30) }),
      backupEvents: fn('BackupEvents', { entry: 'backup-events.ts', serviceName: 'berth-backup-events', description: 'AWS Backup restore job events: completes volume restores waiting for their job', memorySize: 256, timeout: Duration.seconds(30) }),
      reconcile: fn('Reconcile', { entry: 'reconcile.ts', serviceName: 'berth-reconcile', description: 'Scheduled reconcile: starts an operation where an env drifted', memorySize: 512, timeout: Duration.minutes(5) }),
    };
  }

  /** Least privilege per Lambda; every grant is explained in platform-grants.ts. */
  private grantPermissions(functions: Functions, grants: PlatformGrants): void {
    const { api, steps, ecsEvents, executionEvents, backupEvents, reconcile } = functions;
    // Execution events need nothing else: they only record an outcome in the store.
    for (const fn of [api, steps, ecsEvents, executionEvents, backupEvents, reconcile]) grants.stateStore(fn.role);
    // The API stores secret bundles, reads runtime state (status, logs) and starts operations; it
    // changes no runtime resource itself.
    grants.cipher(api.role);
    grants.startOperations(api.role);
    grants.activateCostTags(api.role);
    grants.readRuntime(api.role);
    grants.readContainerLogs(api.role);
    grants.execIntoTasks(api.role);
    // The steps do the changing, and settle a health waiter at once when its tasks already are.
    grants.decipher(steps.role);
    grants.readRuntime(steps.role);
    grants.changeRuntime(steps.role);
    grants.completeWaitingSteps(steps.role);
    // ECS events settle health waiters.
    grants.readTasks(ecsEvents.role);
    grants.completeWaitingSteps(ecsEvents.role);
    // Backup events settle the volume restores waiting for their restore job.
    grants.readRestoreJobs(backupEvents.role);
    grants.completeWaitingSteps(backupEvents.role);
    // The reconcile compares and starts operations, and heartbeats (or settles) the health waiters.
    grants.readRuntime(reconcile.role);
    grants.startOperations(reconcile.role);
    grants.completeWaitingSteps(reconcile.role);
    grants.readRestoreJobs(reconcile.role);
  }

  private createApi(fn: PlatformFunction): apigw.HttpApi {
    const api = new apigw.HttpApi(this, 'HttpApi', {
      description: 'Berth API (/v1): the CLI and the console call it',
      defaultIntegration: new HttpLambdaIntegration('Hono', fn.function),
      createDefaultStage: false,
    });
    const accessLogs = new logs.LogGroup(this, 'ApiAccessLogs', { retention: this.config.logRetention, removalPolicy: RemovalPolicy.DESTROY });
    api.addStage('DefaultStage', {
      stageName: '$default',
      autoDeploy: true,
      throttle: API_STAGE_THROTTLE,
      accessLogSettings: {
        destination: new apigw.LogGroupLogDestination(accessLogs),
        format: AccessLogFormat.custom(
          JSON.stringify({
            requestId: '$context.requestId',
            ip: '$context.identity.sourceIp',
            requestTime: '$context.requestTime',
            method: '$context.httpMethod',
            path: '$context.path',
            status: '$context.status',
            responseLength: '$context.responseLength',
            latencyMs: '$context.responseLatency',
            integrationError: '$context.integrationErrorMessage',
          }),
        ),
      },
    });
    // The hono app authenticates every /v1 request itself (bearer API tokens, stored hashed in the
    // table), the same way embedded mode does; an API Gateway authorizer would check them twice.
    for (const route of api.node.findAll().filter((c) => c instanceof apigw.CfnRoute)) {
      Validations.of(route).acknowledge({
        id: 'AwsSolutions-APIG4',
        reason: 'The Lambda (the hono app) authenticates every request with Berth API tokens (hashed in DynamoDB), as in embedded mode; an API Gateway authorizer cannot check those tokens without a second lookup and would duplicate it.',
      });
    }
    return api;
  }

  private createEventRules(functions: Functions, cluster: BerthCluster): void {
    const clusterName = cluster.cluster.clusterName;
    // Deployment events carry no clusterArn in `detail`, so match on the resource ARNs: services
    // and tasks of this cluster only.
    new events.Rule(this, 'EcsEventRule', {
      description: 'Berth: ECS task, service and deployment events of the Berth cluster',
      eventPattern: {
        source: ['aws.ecs'],
        detailType: ECS_EVENT_TYPES,
        resources: events.Match.anyOf(
          events.Match.prefix(this.formatArn({ service: 'ecs', resource: 'service', resourceName: `${clusterName}/` })),
          events.Match.prefix(this.formatArn({ service: 'ecs', resource: 'task', resourceName: `${clusterName}/` })),
        ),
      },
      targets: [new targets.LambdaFunction(functions.ecsEvents.function, { retryAttempts: 4, maxEventAge: Duration.hours(1) })],
    });
    // An execution that ends outside its steps (States.Timeout, a Lambda service error after its
    // retries, an abort, States.Runtime) reaches no Record*Failed step; its status change does.
    // https://docs.aws.amazon.com/step-functions/latest/dg/eventbridge-integration.html
    new events.Rule(this, 'ExecutionEventRule', {
      description: 'Berth: Step Functions executions of the Berth state machines that failed, timed out or were aborted',
      eventPattern: {
        source: ['aws.states'],
        detailType: [EXECUTION_STATUS_CHANGE],
        detail: { status: [...UNSUCCESSFUL], stateMachineArn: MACHINES.map((m) => stateMachineArn(this, m)) },
      },
      targets: [new targets.LambdaFunction(functions.executionEvents.function, { retryAttempts: 8, maxEventAge: Duration.hours(6) })],
    });
    // A volume restore waits (task token) for its AWS Backup restore job; the job's state changes
    // complete it. https://docs.aws.amazon.com/aws-backup/latest/devguide/eventbridge.html
    new events.Rule(this, 'BackupEventRule', {
      description: 'Berth: AWS Backup restore jobs of EFS recovery points (volume restores)',
      eventPattern: { source: ['aws.backup'], detailType: ['Restore Job State Change'], detail: { resourceType: ['EFS'], status: ['COMPLETED', 'FAILED', 'ABORTED'] } },
      targets: [new targets.LambdaFunction(functions.backupEvents.function, { retryAttempts: 8, maxEventAge: Duration.hours(6) })],
    });
    new events.Rule(this, 'ReconcileSchedule', {
      description: 'Berth: periodic reconcile of every env',
      schedule: events.Schedule.rate(this.config.reconcileInterval),
      // A missed pass is harmless (the next one comes soon), so no retries pile up behind a slow one.
      targets: [new targets.LambdaFunction(functions.reconcile.function, { retryAttempts: 0 })],
    });
  }

  private createOutputs(parts: { api: apigw.HttpApi; table: dynamodb.Table; cluster: BerthCluster; machines: BerthStateMachines }): void {
    new CfnOutput(this, 'ApiUrl', { value: parts.api.apiEndpoint, description: 'berth login <this URL>' });
    new CfnOutput(this, 'TableName', { value: parts.table.tableName });
    new CfnOutput(this, 'ClusterArn', { value: parts.cluster.cluster.clusterArn });
    new CfnOutput(this, 'TaskRoleArn', { value: parts.cluster.taskRole.roleArn, description: 'Attach what your apps call (S3, SQS…) to this role' });
    for (const machine of MACHINES) new CfnOutput(this, `${machine[0].toUpperCase()}${machine.slice(1)}StateMachineArn`, { value: parts.machines.machines[machine].stateMachineArn });
  }
}
