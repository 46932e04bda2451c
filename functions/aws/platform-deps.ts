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

let cached: AwsPlatform | undefined;

export function awsPlatform(env: NodeJS.ProcessEnv = process.env): AwsPlatform {
  if (cached) return cached;
  const config = awsRuntimeConfigFromEnv(env);
  const tableName = env.TABLE_NAME;
  if (!tableName) throw new Error('TABLE_NAME is not set: the Lambda must be deployed by the Berth CDK stack');
  const region = config.region;
  const sfn = new SFNClient({ region });
  const store = new DynamoStateStore(new DynamoDBClient({ region }), tableName);
  const logsClient = new CloudWatchLogsClient({ region });
  const logs = new CloudWatchLogStore({ logs: logsClient }, config);
  const ecs = new ECSClient({ region });
  const deps: PlatformDeps = {
    store,
    events: new EventLog(store),
    orchestrator: new StepFunctionsOrchestrator({ sfn }, config, store),
    // With the logs client the driver creates each env's log group itself: tagged, with retention.
    compute: new EcsComputeDriver({ ecs, secrets: new SecretsManagerClient({ region }), logs: logsClient }, config),
    endpoints: new NlbEndpointDriver({ elbv2: new ElasticLoadBalancingV2Client({ region }), ec2: new EC2Client({ region }) }, config),
    volumes: new EfsVolumeDriver({ efs: new EFSClient({ region }), backup: new BackupClient({ region }) }, config),
    artifacts: new ImageArtifacts(),
    logs,
    cipher: new KmsCipher({ kms: new KMSClient({ region }) }, config),
    billing: new CostExplorerBillingTags({ ce: new CostExplorerClient({ region: 'us-east-1' }) }),
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
