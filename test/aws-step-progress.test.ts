// Fix 6 of issue 15 (and 5b, the health wait's heartbeat, in the last describe): on AWS the steps Lambda records the step an operation is in. Before, only the
// embedded interpreter binding (ExecutionHistory) wrote `op.step`, so `status` and `wait` on AWS
// showed no running step. The real handler runs against a dynalite table through the real SDK,
// with awsPlatform primed the way the AWS twin primes it; Step Functions is mocked.
// https://docs.aws.amazon.com/step-functions/latest/dg/connect-to-resource.html#connect-wait-token
import { DescribeTasksCommand, ECSClient } from '@aws-sdk/client-ecs';
import { SendTaskHeartbeatCommand, SendTaskSuccessCommand, SFNClient } from '@aws-sdk/client-sfn';
import { mockClient } from 'aws-sdk-client-mock';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { awsPlatform } from '../functions/aws/platform-deps.ts';
import type { Release } from '../functions/core/model.ts';
import { lambdaEnv, startLambda, type LambdaUnderTest } from './support/aws-lambda-harness.ts';

const REF = { org: 'acme', project: 'shop', app: 'web', env: 'prod' };
const TABLE = 'berth-steps-test';
const sfn = mockClient(SFNClient);
const ecs = mockClient(ECSClient);
let handler: (event: unknown, context: unknown) => Promise<Record<string, unknown>>;

const context = { functionName: 'berth-steps', functionVersion: '$LATEST', invokedFunctionArn: 'arn:aws:lambda:eu-west-1:1:function:berth-steps', memoryLimitInMB: '512', awsRequestId: 'req-1', getRemainingTimeInMillis: () => 60_000 };

let lambda: LambdaUnderTest<typeof handler>;

beforeAll(async () => {
  // Only DynamoDB is spoken to for real; the other clients are never called by these steps.
  lambda = await startLambda(new URL('../functions/lambda/steps.ts', import.meta.url), lambdaEnv(TABLE));
  handler = lambda.handler;
});

afterAll(async () => {
  sfn.restore();
  ecs.restore();
  await lambda?.close();
});

async function startOperation(id: string, releaseId: string): Promise<{ operation: Record<string, string> }> {
  const { store } = awsPlatform().deps;
  await store.putOperation({ id, env: REF, kind: 'deploy', status: 'running', releaseId, createdAt: new Date().toISOString(), createdBy: 'alice' });
  return { operation: { ...REF, operationId: id, kind: 'deploy', releaseId } };
}

const started = async (operationId: string) => (await awsPlatform().deps.store.listEvents(REF, { operationId })).filter((e) => e.type === 'step.started').map((e) => `${e.step} | ${e.message}`);

describe('[15.6] steps Lambda records progress on AWS, not only embedded', () => {
  it('a forward step sets op.step and records step.started with the state summary', async () => {
    const { store } = awsPlatform().deps;
    const release: Release = { id: 'rel-1', seq: 1, env: REF, artifactDigest: 'sha256:' + 'a'.repeat(64), manifest: { workloads: {} } as never, configVersion: 0, secretVersions: {}, createdAt: new Date().toISOString(), createdBy: 'alice', operationId: 'op-A', status: 'pending' as never };
    await store.putRelease(release);
    const input = await startOperation('op-A', 'rel-1');
    await handler({ step: 'PrepareRelease', ...input }, context);
    expect((await store.getOperation(REF, 'op-A'))?.step).toBe('PrepareRelease');
    expect(await started('op-A')).toEqual(['PrepareRelease | PrepareRelease: Fetch the release artifact']);
  });

  it('a .waitForTaskToken step shows as the step the operation waits in, and a redelivery is not announced twice', async () => {
    sfn.on(SendTaskSuccessCommand).resolves({});
    const input = await startOperation('op-B', 'rel-1');
    const event = { step: 'WaitForBatchHealthy', ...input, instances: [], taskToken: 'token-1' };
    await handler(event, context);
    // Lambda retries an invocation that failed in the service (the ASL Retry on Lambda.*): same step again.
    await handler(event, context);
    expect((await awsPlatform().deps.store.getOperation(REF, 'op-B'))?.step).toBe('WaitForBatchHealthy');
    expect((await started('op-B')).map((s) => s.split(' | ')[0])).toEqual(['WaitForBatchHealthy']);
    // An empty batch is healthy at once: the token is completed, the wait registered nowhere.
    expect(sfn.commandCalls(SendTaskSuccessCommand).map((c) => c.args[0].input.taskToken)).toEqual(['token-1', 'token-1']);
  });

  it('a failing step records its failure on the operation with the step it failed in', async () => {
    const input = await startOperation('op-C', 'rel-missing');
    await expect(handler({ step: 'PrepareRelease', ...input }, context)).rejects.toMatchObject({ code: 'release-not-found' });
    const op = await awsPlatform().deps.store.getOperation(REF, 'op-C');
    expect(op).toMatchObject({ step: 'PrepareRelease', error: { category: 'not-found', code: 'release-not-found', step: 'PrepareRelease' } });
  });
});

// https://docs.aws.amazon.com/step-functions/latest/apireference/API_SendTaskHeartbeat.html
describe('[15.5c] reconcile Lambda heartbeats the waiting rollouts: a wait outlives 300 s without an ECS event', () => {
  it('a batch still pulling its image gets a heartbeat from every reconcile pass, and keeps its token', async () => {
    const { store } = awsPlatform().deps;
    const { handler: reconcile } = (await import('../functions/lambda/reconcile.ts')) as unknown as { handler: typeof handler };
    await store.putTaskToken({ token: 'token-pull', env: REF, operationId: 'op-D', instances: ['t1'], createdAt: new Date().toISOString() });
    const tags = Object.entries({ 'berth:org': REF.org, 'berth:project': REF.project, 'berth:app': REF.app, 'berth:env': REF.env }).map(([key, value]) => ({ key, value }));
    ecs.on(DescribeTasksCommand).resolves({ tasks: [{ taskArn: 'arn:aws:ecs:eu-west-1:1:task/berth/t1', lastStatus: 'PENDING', desiredStatus: 'RUNNING', createdAt: new Date(), tags }] });
    sfn.on(SendTaskHeartbeatCommand).resolves({});
    expect(await reconcile({}, context)).toMatchObject({ waiters: 1 });
    expect(sfn.commandCalls(SendTaskHeartbeatCommand).map((c) => c.args[0].input)).toEqual([{ taskToken: 'token-pull' }]);
    expect((await store.listTaskTokens()).map((w) => w.token)).toEqual(['token-pull']);
  });
});
