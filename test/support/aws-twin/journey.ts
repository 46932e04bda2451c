// A whole Berth-on-AWS in one test process: a real dynalite, the twin's services, and each Lambda
// (api, steps, ecs-events, reconcile) loaded in a module graph of its own, as each runs in a
// container of its own on AWS (a cold Lambda shares no memory with the others).
import { fileURLToPath } from 'node:url';
import { vi } from 'vitest';
import type { Hono } from 'hono';
import type { AddressInfo } from 'node:net';
import { CreateTableCommand, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import dynalite from 'dynalite';
import { tableDefinition } from '../../../functions/store/table.ts';
import { install as installEc2, type Ec2State } from './ec2.ts';
import { install as installEcs, type EcsState } from './ecs.ts';
import { install as installElb, type ElbState } from './elbv2.ts';
import { install as installKms } from './kms.ts';
import { install as installLogs } from './logs-sink.ts';
import { install as installSecrets, type SecretsState } from './secrets.ts';
import { install as installSfn, stateMachineArn, STEPS_FUNCTION_ARN, type SfnState } from './sfn.ts';
import { AwsTwin, TWIN_REGION, arn } from './twin.ts';

const root = (p: string) => fileURLToPath(new URL(`../../../${p}`, import.meta.url));

export const TWIN_ENV: Record<string, string> = {
  AWS_REGION: TWIN_REGION,
  TABLE_NAME: 'berth',
  CLUSTER_ARN: arn('ecs', 'cluster/berth'),
  VPC_ID: 'vpc-twin',
  SUBNETS: JSON.stringify([{ az: `${TWIN_REGION}a`, id: 'subnet-twin-a' }, { az: `${TWIN_REGION}b`, id: 'subnet-twin-b' }]),
  TASK_SECURITY_GROUP_ID: 'sg-tasks',
  TASK_EXECUTION_ROLE_ARN: arn('iam', 'role/berth-task-execution').replace(`:${TWIN_REGION}:`, '::'),
  TASK_ROLE_ARN: arn('iam', 'role/berth-task').replace(`:${TWIN_REGION}:`, '::'),
  LOG_GROUP_PREFIX: '/berth/',
  KMS_KEY_ID: arn('kms', 'key/twin'),
  MAC_KEY_ID: arn('kms', 'key/twin-mac'),
  STATE_MACHINE_ARNS: JSON.stringify(Object.fromEntries((['deploy', 'scale', 'endpoint', 'volume', 'env'] as const).map((m) => [m, stateMachineArn(m)]))),
  BACKUP_VAULT_NAME: 'berth-twin',
  BACKUP_ROLE_ARN: arn('iam', 'role/berth-backup').replace(`:${TWIN_REGION}:`, '::'),
};

type Handler = (event: unknown, context: unknown) => Promise<any>;

export interface Journey {
  twin: AwsTwin;
  ecs: EcsState;
  elb: ElbState;
  ec2: Ec2State;
  sfn: SfnState;
  secrets: SecretsState;
  /** The API Lambda's hono app (createApi over its own awsPlatform().deps). */
  api: Hono;
  /** Loads a Lambda handler module cold (its own module graph and platform), running as `principal`. */
  lambda(principal: string, module: string): Promise<Handler>;
  /** A store to read results with (the API Lambda's). */
  store: any;
  close(): Promise<void>;
}

/** dynalite in memory (no path: memdown), on a loopback port: the journeys keep nothing. */
async function startMemoryDynamo(): Promise<{ endpoint: string; close(): Promise<void> }> {
  const server = dynalite({ createTableMs: 0, deleteTableMs: 0, updateTableMs: 0 });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  const endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const client = new DynamoDBClient({ endpoint, region: 'local', credentials: { accessKeyId: 'twin', secretAccessKey: 'twin' } });
  await client.send(new CreateTableCommand(tableDefinition(TWIN_ENV.TABLE_NAME)));
  client.destroy();
  return { endpoint, close: () => new Promise<void>((resolve) => server.close(() => resolve())) };
}

let requests = 0;
export const lambdaContext = (functionName: string) => ({
  functionName,
  functionVersion: '$LATEST',
  invokedFunctionArn: arn('lambda', `function:${functionName}`),
  memoryLimitInMB: '512',
  awsRequestId: `twin-request-${++requests}`,
  logGroupName: `/aws/lambda/${functionName}`,
  logStreamName: 'twin',
  callbackWaitsForEmptyEventLoop: false,
  getRemainingTimeInMillis: () => 60_000,
});

export async function startJourney(): Promise<Journey> {
  const dynamo = await startMemoryDynamo();
  const twin = new AwsTwin();
  twin.dynamodb = { endpoint: dynamo.endpoint, credentials: { accessKeyId: 'twin', secretAccessKey: 'twin' } };
  // Keep the Lambdas' loggers quiet: their lines are JSON on stdout.
  process.env.POWERTOOLS_LOG_LEVEL = 'ERROR';

  const lambda = async (principal: string, module: string): Promise<Handler> => {
    vi.resetModules();
    const deps = await import(root('functions/aws/platform-deps.ts'));
    deps.awsPlatform({ ...process.env, ...TWIN_ENV }, twin.clientOptions(principal));
    return (await import(root(module))).handler as Handler;
  };
  const steps = await lambda('steps', 'functions/lambda/steps.ts');
  const ecsEvents = await lambda('ecs-events', 'functions/lambda/ecs-events.ts');
  const ecs = installEcs(twin);
  ecs.deliver = (event) => ecsEvents(event, lambdaContext('berth-ecs-events'));
  const elb = installElb(twin, (ip) => ecs.serving(ip));
  const ec2 = installEc2(twin, { taskSecurityGroupId: TWIN_ENV.TASK_SECURITY_GROUP_ID, vpcId: TWIN_ENV.VPC_ID });
  installLogs(twin);
  installKms(twin);
  const secrets = installSecrets(twin);
  const sfn = installSfn(twin, {
    invoke: async (functionArn, payload) => {
      if (functionArn !== STEPS_FUNCTION_ARN) throw new Error(`the twin has no Lambda ${functionArn}`);
      return steps(payload, lambdaContext('berth-steps'));
    },
  });

  vi.resetModules();
  const apiDeps = await import(root('functions/aws/platform-deps.ts'));
  const platform = apiDeps.awsPlatform({ ...process.env, ...TWIN_ENV }, twin.clientOptions('api'));
  const { createApi } = await import(root('functions/api/app.ts'));
  const api = createApi(platform.deps, { version: 'twin', streaming: false });
  return {
    twin,
    ecs,
    elb,
    ec2,
    sfn,
    secrets,
    api,
    lambda,
    store: platform.deps.store,
    close: async () => {
      await sfn.idle();
      await dynamo.close();
    },
  };
}
