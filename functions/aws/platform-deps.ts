// The AWS composition root: the same services and state-machine steps as embedded, wired to the
// AWS adapters. Clients are created once per Lambda container and reused across invocations.
import '../core/polyfills.ts';
import { BackupClient } from '@aws-sdk/client-backup';
import { CloudWatchLogsClient } from '@aws-sdk/client-cloudwatch-logs';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { EC2Client } from '@aws-sdk/client-ec2';
import { ECSClient } from '@aws-sdk/client-ecs';
import { EFSClient } from '@aws-sdk/client-efs';
import { ElasticLoadBalancingV2Client } from '@aws-sdk/client-elastic-load-balancing-v2';
import { KMSClient } from '@aws-sdk/client-kms';
import { CostExplorerClient } from '@aws-sdk/client-cost-explorer';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { SFNClient } from '@aws-sdk/client-sfn';
import { EventLog } from '../core/event-log.ts';
import type { PlatformDeps } from '../core/services/deps.ts';
import { CloudWatchLogStore } from '../drivers/aws/cloudwatch-logs.ts';
import { awsRuntimeConfigFromEnv, type AwsRuntimeConfig } from '../drivers/aws/config.ts';
import { EcsComputeDriver } from '../drivers/aws/ecs-compute.ts';
import { EcsExecGateway } from '../drivers/aws/ecs-exec.ts';
import { EfsVolumeDriver } from '../drivers/aws/efs-volumes.ts';
import { KmsCipher } from '../drivers/aws/kms-cipher.ts';
import { CostExplorerBillingTags } from '../drivers/aws/cost-tags.ts';
import { NlbEndpointDriver } from '../drivers/aws/nlb-endpoints.ts';
import type { Clock } from '../drivers/aws/poll.ts';
import { StepFunctionsOrchestrator } from '../drivers/aws/sfn-orchestrator.ts';
import { DynamoStateStore } from '../store/dynamo-state-store.ts';
import { ImageArtifacts } from './image-artifacts.ts';

export interface AwsPlatform {
  deps: PlatformDeps;
  config: AwsRuntimeConfig;
  sfn: SFNClient;
  /** Platform log lines are batched; every Lambda flushes them before it returns. */
  flush(): Promise<void>;
}

/** The AWS services the platform calls, by the name their SDK package carries. */
export type AwsService = 'backup' | 'cloudwatch-logs' | 'cost-explorer' | 'dynamodb' | 'ec2' | 'ecs' | 'efs' | 'elastic-load-balancing-v2' | 'kms' | 'secrets-manager' | 'sfn';

/**
 * How the SDK clients are made. A deployed Lambda uses none of this; the AWS twin in the tests
 * (test/support/aws-twin) passes `config` (an endpoint, credentials) and `attach` (its middleware)
 * so that the real drivers and handlers run, unchanged, against it.
 */
export interface AwsClientOptions {
  config?: (service: AwsService) => Record<string, unknown>;
  attach?: (service: AwsService, client: { middlewareStack: unknown }) => void;
  /** The drivers' clock for their bounded polls (the twin's simulated time). @default real time */
  clock?: Clock;
}

let cached: AwsPlatform | undefined;

/** Forgets the platform built for this container (tests that build another). */
export function resetAwsPlatform(): void {
  cached = undefined;
}

export function awsPlatform(env: NodeJS.ProcessEnv = process.env, clientOptions: AwsClientOptions = {}): AwsPlatform {
  if (cached) return cached;
  const client = <C extends { middlewareStack: unknown }>(service: AwsService, make: (config: Record<string, unknown>) => C, config: Record<string, unknown>): C => {
    const c = make({ ...config, ...clientOptions.config?.(service) });
    clientOptions.attach?.(service, c);
    return c;
  };
  const config = awsRuntimeConfigFromEnv(env);
  const tableName = env.TABLE_NAME;
  if (!tableName) throw new Error('TABLE_NAME is not set: the Lambda must be deployed by the Berth CDK stack');
  const region = config.region;
  const sfn = client('sfn', (c) => new SFNClient(c), { region });
  const store = new DynamoStateStore(client('dynamodb', (c) => new DynamoDBClient(c), { region }), tableName);
  const logsClient = client('cloudwatch-logs', (c) => new CloudWatchLogsClient(c), { region });
  // The read budget is measured on the drivers' clock, so the twin's slow scans spend simulated time.
  const clock = clientOptions.clock;
  const logs = new CloudWatchLogStore({ logs: logsClient }, config, clock ? { now: () => clock.now() } : {});
  const ecs = client('ecs', (c) => new ECSClient(c), { region });
  const compute = new EcsComputeDriver({ ecs, secrets: client('secrets-manager', (c) => new SecretsManagerClient(c), { region }), logs: logsClient }, config, { clock: clientOptions.clock, checkDualStackIpv6: true });
  const deps: PlatformDeps = {
    store,
    events: new EventLog(store),
    orchestrator: new StepFunctionsOrchestrator({ sfn }, config, store),
    // With the logs client the driver creates each env's log group itself: tagged, with retention.
    compute,
    endpoints: new NlbEndpointDriver({ elbv2: client('elastic-load-balancing-v2', (c) => new ElasticLoadBalancingV2Client(c), { region }), ec2: client('ec2', (c) => new EC2Client(c), { region }) }, config, {
      // Targets are IPv6 addresses; a cold Lambda (the scheduled reconcile) has seen no setTargets,
      // so without the instances it would compare addresses with task ids and find drift every minute.
      instances: (env) => compute.list(env),
      clock: clientOptions.clock,
    }),
    // With the ECS client the driver restores snapshots (the swap task is a one-off Fargate task).
    volumes: new EfsVolumeDriver({ efs: client('efs', (c) => new EFSClient(c), { region }), backup: client('backup', (c) => new BackupClient(c), { region }), ecs }, config, { clock: clientOptions.clock }),
    artifacts: new ImageArtifacts(),
    logs,
    cipher: new KmsCipher({ kms: client('kms', (c) => new KMSClient(c), { region }) }, config),
    billing: new CostExplorerBillingTags({ ce: client('cost-explorer', (c) => new CostExplorerClient(c), { region: 'us-east-1' }) }),
    exec: new EcsExecGateway({ ecs }, config),
    // https://docs.aws.amazon.com/AmazonECS/latest/developerguide/fargate-security-considerations.html
    isolation: {
      kind: 'fargate',
      isolated: true,
      limitsEnforced: true,
      summary: 'each instance is a Fargate task: its own kernel, filesystem and network interface, only its own secrets; cpu and memory enforced by Fargate',
    },
  };
  cached = { deps, config, sfn, flush: () => logs.flush() };
  return cached;
}
