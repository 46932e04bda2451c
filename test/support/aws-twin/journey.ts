// A whole Berth-on-AWS in one test process: a real dynalite, the twin's services, and each Lambda
// (api, steps, ecs-events, reconcile) loaded in a module graph of its own, as each runs in a
// container of its own on AWS (a cold Lambda shares no memory with the others).
import { fileURLToPath } from 'node:url';
import { expect, vi } from 'vitest';
import type { Hono } from 'hono';
import type { AddressInfo } from 'node:net';
import { CreateTableCommand, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import dynalite from 'dynalite';
import type { EnvRef } from '../../../functions/core/ports.ts';
import { tableDefinition } from '../../../functions/store/table.ts';
import { install as installBackup, type BackupState } from './backup.ts';
import { install as installEc2, type Ec2State } from './ec2.ts';
import { install as installEfs, type EfsState } from './efs.ts';
import { installVolumeSwap, type SwapRun } from './volume-swap.ts';
import { install as installEcs, type EcsState } from './ecs.ts';
import { install as installEcsExec, type EcsExecState } from './ecs-exec.ts';
import { install as installElb, type ElbState } from './elbv2.ts';
import { install as installKms } from './kms.ts';
import { install as installLogs, type LogsState } from './logs.ts';
import { install as installSecrets, type SecretsState } from './secrets.ts';
import { install as installSfn, stateMachineArn, STEPS_FUNCTION_ARN, type SfnState } from './sfn.ts';
import { iamAuthorizer, type IamModel } from './iam.ts';
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
  VOLUME_SWAP_ROLE_ARN: arn('iam', 'role/berth-volume-swap').replace(`:${TWIN_REGION}:`, '::'),
};

type Handler = (event: unknown, context: unknown) => Promise<any>;

export interface Journey {
  twin: AwsTwin;
  ecs: EcsState;
  elb: ElbState;
  ec2: Ec2State;
  sfn: SfnState;
  secrets: SecretsState;
  efs: EfsState;
  backup: BackupState;
  /** Each run of the volume swap task (what it did, its exit code). */
  swaps: SwapRun[];
  logs: LogsState;
  exec: EcsExecState;
  /** The API Lambda's hono app (createApi over its own awsPlatform().deps). */
  api: Hono;
  /** Loads a Lambda handler module cold (its own module graph and platform), running as `principal`. */
  lambda(principal: string, module: string): Promise<Handler>;
  /** A store to read results with (the API Lambda's). */
  store: any;
  close(): Promise<void>;
}

/** dynalite in memory (no path: memdown), on a loopback port: the journeys keep nothing. */
async function startMemoryDynamo(tableName: string): Promise<{ endpoint: string; close(): Promise<void> }> {
  const server = dynalite({ createTableMs: 0, deleteTableMs: 0, updateTableMs: 0 });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  const endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const client = new DynamoDBClient({ endpoint, region: 'local', credentials: { accessKeyId: 'twin', secretAccessKey: 'twin' } });
  await client.send(new CreateTableCommand(tableDefinition(tableName)));
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

export interface JourneyOptions {
  /**
   * Check every call with IAM as AWS would (iam.ts): the Lambdas get the synthesized stack's
   * environment (its cluster, VPC, roles, state machines), so ARNs match the policies.
   */
  iam?: IamModel;
}

export async function startJourney(options: JourneyOptions = {}): Promise<Journey> {
  const ENV = { ...TWIN_ENV, ...(options.iam?.environment ?? {}) };
  const dynamo = await startMemoryDynamo(ENV.TABLE_NAME);
  const twin = new AwsTwin();
  twin.dynamodb = { endpoint: dynamo.endpoint, credentials: { accessKeyId: 'twin', secretAccessKey: 'twin' } };
  // Keep the Lambdas' loggers quiet: their lines are JSON on stdout.
  process.env.POWERTOOLS_LOG_LEVEL = 'ERROR';

  const lambda = async (principal: string, module: string): Promise<Handler> => {
    vi.resetModules();
    const deps = await import(root('functions/aws/platform-deps.ts'));
    deps.awsPlatform({ ...process.env, ...ENV }, twin.clientOptions(principal));
    return (await import(root(module))).handler as Handler;
  };
  const steps = await lambda('steps', 'functions/lambda/steps.ts');
  const ecsEvents = await lambda('ecs-events', 'functions/lambda/ecs-events.ts');
  const ecs = installEcs(twin, { clusterArn: ENV.CLUSTER_ARN });
  ecs.deliver = (event) => twin.invoke('ecs-events', () => ecsEvents(event, lambdaContext('berth-ecs-events')));
  const exec = installEcsExec(twin, ecs);
  const elb = installElb(twin, (ip) => ecs.serving(ip));
  const ec2 = installEc2(twin, { taskSecurityGroupId: ENV.TASK_SECURITY_GROUP_ID, vpcId: ENV.VPC_ID });
  const subnets = JSON.parse(ENV.SUBNETS) as { az: string; id: string }[];
  const efs = installEfs(twin, { subnets: Object.fromEntries(subnets.map((s) => [s.id, s.az])) });
  const backup = installBackup(twin, { efs, vaults: [ENV.BACKUP_VAULT_NAME] });
  const backupEvents = await lambda('backup-events', 'functions/lambda/backup-events.ts');
  backup.deliver = (event) => backupEvents(event, lambdaContext('berth-backup-events'));
  const swaps = installVolumeSwap(ecs, efs);
  const logs = installLogs(twin);
  installKms(twin);
  const secrets = installSecrets(twin);
  const sfn = installSfn(twin, {
    arns: JSON.parse(ENV.STATE_MACHINE_ARNS),
    invoke: async (functionArn, payload) => {
      if (functionArn !== STEPS_FUNCTION_ARN) throw new Error(`the twin has no Lambda ${functionArn}`);
      return twin.invoke('steps', () => steps(payload, lambdaContext('berth-steps')));
    },
  });

  if (options.iam) {
    // aws:ResourceTag comes from the twin's state, as AWS reads it from the resource.
    const pairs = (tags: { key?: string; value?: string; Key?: string; Value?: string }[]) => Object.fromEntries(tags.map((t) => [t.key ?? t.Key, t.value ?? t.Value]));
    const resourceTags = (ref: string): Record<string, string> | undefined => {
      const service = [...ecs.services.values()].find((s) => s.serviceArn === ref);
      if (service) return pairs(service.tags);
      const task = [...ecs.tasks.values()].find((t) => t.taskArn === ref);
      if (task) return pairs(task.tags);
      const elbTags = elb.loadBalancers.get(ref)?.tags ?? elb.listeners.get(ref)?.tags ?? elb.targetGroups.get(ref)?.tags;
      if (elbTags) return Object.fromEntries(elbTags);
      const fsId = /:(?:file-system|access-point)\/((?:fs|fsap)-[0-9a-f]+)$/.exec(ref)?.[1];
      if (fsId) return pairs((fsId.startsWith('fsap-') ? efs.accessPoints.get(fsId) : efs.fileSystems.get(fsId))?.Tags ?? []);
      const point = backup.recoveryPoints.get(ref);
      if (point) return point.tags;
      const group = /:security-group\/(sg-[\w]+)$/.exec(ref)?.[1];
      if (group && ec2.groups.get(group)) return pairs(ec2.groups.get(group)!.Tags);
      return undefined;
    };
    twin.authorize = iamAuthorizer(options.iam, { resourceTags, fileSystemOfMountTarget: (id) => efs.mountTargets.get(id)?.FileSystemId,
      taskDefinitionRoles: (ref) => {
        const def = ecs.taskDefinition(ref);
        return def ? [def.taskRoleArn, def.executionRoleArn].filter(Boolean) : [];
      },
    });
  }

  vi.resetModules();
  const apiDeps = await import(root('functions/aws/platform-deps.ts'));
  const platform = apiDeps.awsPlatform({ ...process.env, ...ENV }, twin.clientOptions('api'));
  const { createApi } = await import(root('functions/api/app.ts'));
  const api = createApi(platform.deps, { version: 'twin', streaming: false });
  return {
    twin,
    ecs,
    elb,
    ec2,
    sfn,
    secrets,
    efs,
    backup,
    swaps,
    logs,
    exec,
    api,
    lambda,
    store: platform.deps.store,
    close: async () => {
      await sfn.idle();
      await dynamo.close();
    },
  };
}

export type ApiAnswer = { status: number; body: Record<string, any> };

/** Calls the API Lambda's app as a client with `token` would: JSON in, JSON out. */
export function apiCaller(j: Pick<Journey, 'api'>, token: () => string): (method: string, path: string, body?: unknown) => Promise<ApiAnswer> {
  return async (method, path, body) => {
    const res = await j.api.request(path, { method, headers: { authorization: `Bearer ${token()}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) }, body: body === undefined ? undefined : JSON.stringify(body) });
    return { status: res.status, body: (await res.json()) as Record<string, any> };
  };
}

type ApiCall = (method: string, path: string, body?: unknown) => Promise<ApiAnswer>;

/** Creates `ref`'s org, project, app and env through the API, each answered 201. */
export async function createEnvChain(call: ApiCall, ref: EnvRef): Promise<void> {
  const app = `/v1/orgs/${ref.org}/projects/${ref.project}/apps`;
  for (const [path, name] of [['/v1/orgs', ref.org], [`/v1/orgs/${ref.org}/projects`, ref.project], [app, ref.app], [`${app}/${ref.app}/envs`, ref.env]]) {
    const r = await call('POST', path, { name });
    expect(r.status, JSON.stringify(r.body)).toBe(201);
  }
}

/** Advances simulated time until the operation a 2xx answer started ends, and expects it to have succeeded. */
export async function settledOk(j: Pick<Journey, 'twin' | 'store'>, ref: EnvRef, r: ApiAnswer, each?: () => void) {
  expect(r.status, JSON.stringify(r.body)).toBeLessThan(300);
  const id: string = r.body.receipt?.operationId ?? r.body.operationId;
  await j.twin.clock.advanceUntil(async () => (await j.store.getOperation(ref, id))?.status !== 'running', { stepMs: 1000, limitMs: 3_600_000, each });
  const op = await j.store.getOperation(ref, id);
  expect(op?.error ?? null, `operation ${id}`).toBeNull();
  return op;
}
