// Issue 15 follow-up: on AWS an execution that ends outside every step handler (States.Timeout, a
// Lambda service error after its retries, an abort, States.Runtime) reaches no Record*Failed step.
// Its "Step Functions Execution Status Change" event does: the real execution-events handler runs
// against a dynalite table through the real SDK, with awsPlatform primed as in aws-step-progress.
// Event shape: https://docs.aws.amazon.com/step-functions/latest/dg/eventbridge-integration.html
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { awsPlatform } from '../functions/aws/platform-deps.ts';
import type { Operation } from '../functions/core/model.ts';
import type { EnvRef } from '../functions/core/ports.ts';
import { operationInput } from '../functions/core/services/operations.ts';
import { lambdaEnv, startLambda, type LambdaUnderTest } from './support/aws-lambda-harness.ts';

const TABLE = 'berth-execution-events-test';
const MACHINE = 'arn:aws:states:eu-west-1:1:stateMachine:Berth-deploy';
let handler: (event: unknown, context: unknown) => Promise<{ recorded: boolean }>;

const context = { functionName: 'berth-execution-events', functionVersion: '$LATEST', invokedFunctionArn: 'arn:aws:lambda:eu-west-1:1:function:berth-execution-events', memoryLimitInMB: '256', awsRequestId: 'req-1', getRemainingTimeInMillis: () => 30_000 };

let lambda: LambdaUnderTest<typeof handler>;

beforeAll(async () => {
  const machines = JSON.stringify({ deploy: MACHINE, scale: 'arn:s', endpoint: 'arn:e', volume: 'arn:v', env: 'arn:n' });
  lambda = await startLambda(new URL('../functions/lambda/execution-events.ts', import.meta.url), lambdaEnv(TABLE, { STATE_MACHINE_ARNS: machines }));
  handler = lambda.handler;
});

afterAll(async () => lambda?.close());

/** An env holding a running deploy of rel-2 over rel-1, in the step it was in when the execution ended. */
async function runningDeploy(envName: string, operationId: string): Promise<{ ref: EnvRef; op: Operation }> {
  const { store } = awsPlatform().deps;
  const ref = { org: 'acme', project: 'shop', app: 'web', env: envName };
  const now = new Date().toISOString();
  await store.createEnv({ ...ref, version: 0, currentReleaseId: 'rel-1', desiredReleaseId: 'rel-2', activeOperationId: operationId, lastOperationId: operationId, status: 'ready', createdAt: now, updatedAt: now, createdBy: 'alice' });
  const op: Operation = { id: operationId, env: ref, kind: 'deploy', status: 'running', releaseId: 'rel-2', previousReleaseId: 'rel-1', step: 'WaitForBatchHealthy', createdAt: now, createdBy: 'alice' } as Operation;
  await store.putOperation(op);
  return { ref, op };
}

/** The EventBridge event Step Functions emits when an execution ends (input is a JSON string). */
function statusChange(op: Operation, status: string, error?: string, cause?: string) {
  return {
    version: '0',
    id: `evt-${op.id}-${status}`,
    'detail-type': 'Step Functions Execution Status Change',
    source: 'aws.states',
    account: '1',
    time: new Date().toISOString(),
    region: 'eu-west-1',
    resources: [`arn:aws:states:eu-west-1:1:execution:Berth-deploy:${op.id}`],
    detail: {
      executionArn: `arn:aws:states:eu-west-1:1:execution:Berth-deploy:${op.id}`,
      stateMachineArn: MACHINE,
      name: op.id,
      status,
      startDate: Date.now() - 60_000,
      stopDate: Date.now(),
      input: JSON.stringify({ operation: operationInput(op) }),
      inputDetails: { included: true },
      output: null,
      outputDetails: null,
      error: error ?? null,
      cause: cause ?? null,
    },
  };
}

describe('execution-events Lambda: an execution that ended outside its steps fails its operation and frees its env', () => {
  it.each([
    ['TIMED_OUT', 'timeout', 'execution-timed-out', 'States.Timeout', 'Task timed out'],
    ['FAILED', 'internal', 'execution-failed', 'Lambda.ServiceException', 'Rate exceeded'],
    ['ABORTED', 'internal', 'execution-aborted', undefined, undefined],
  ])('%s → failed (%s/%s), env released, desired back to current, operation.failed recorded', async (status, category, code, error, cause) => {
    const { store } = awsPlatform().deps;
    const { ref, op } = await runningDeploy(`e-${status.toLowerCase().replace('_', '')}`, `op-${status}`);
    await store.putRelease({ id: 'rel-2', seq: 2, env: ref, artifactDigest: 'sha256:' + 'b'.repeat(64), manifest: { workloads: {} } as never, configVersion: 0, secretVersions: {}, createdAt: new Date().toISOString(), createdBy: 'alice', operationId: op.id, status: 'pending' });

    expect(await handler(statusChange(op, status, error, cause), context)).toEqual({ recorded: true });

    const after = await store.getOperation(ref, op.id);
    expect(after?.status).toBe('failed');
    expect(after?.finishedAt).toBeTruthy();
    expect(after?.error).toMatchObject({ category, code, step: 'WaitForBatchHealthy' });
    expect(after?.error?.message).toContain(`execution ${op.id}`);
    expect(after?.error?.message).toContain(status);
    if (cause) expect(after?.error?.message).toContain(`${error}: ${cause}`);
    const envAfter = await store.getEnv(ref);
    expect(envAfter?.activeOperationId).toBeUndefined();
    expect(envAfter?.desiredReleaseId).toBe('rel-1');
    expect(envAfter?.currentReleaseId).toBe('rel-1');
    expect((await store.getRelease(ref, 'rel-2'))?.status).toBe('failed');
    const failed = (await store.listEvents(ref, { operationId: op.id })).filter((e) => e.type === 'operation.failed');
    expect(failed.map((e) => e.message)).toEqual([after?.error?.message]);
  });

  it('a redelivered event, or one for an operation that recorded its own end, changes nothing', async () => {
    const { store } = awsPlatform().deps;
    const { ref, op } = await runningDeploy('e-redelivered', 'op-redelivered');
    expect(await handler(statusChange(op, 'FAILED', 'States.Runtime', 'bad path'), context)).toEqual({ recorded: true });
    const once = { op: await store.getOperation(ref, op.id), env: await store.getEnv(ref), events: await store.listEvents(ref, { operationId: op.id }) };
    // At-least-once delivery: the same event again, and a late ABORTED after the operation ended.
    expect(await handler(statusChange(op, 'FAILED', 'States.Runtime', 'bad path'), context)).toEqual({ recorded: false });
    expect(await handler(statusChange(op, 'ABORTED'), context)).toEqual({ recorded: false });
    expect(await store.getOperation(ref, op.id)).toEqual(once.op);
    expect(await store.getEnv(ref)).toEqual(once.env);
    expect(await store.listEvents(ref, { operationId: op.id })).toEqual(once.events);
  });

  it('an event for an operation that succeeded changes neither it, its env nor its events', async () => {
    const { store } = awsPlatform().deps;
    const { ref, op } = await runningDeploy('e-succeeded', 'op-succeeded');
    await store.updateOperation(ref, op.id, { status: 'succeeded', finishedAt: new Date().toISOString() });
    const before = await store.getEnv(ref);
    expect(await handler(statusChange(op, 'FAILED', 'States.Runtime', 'late'), context)).toEqual({ recorded: false });
    expect((await store.getOperation(ref, op.id))?.status).toBe('succeeded');
    expect(await store.getEnv(ref)).toEqual(before);
    expect(await store.listEvents(ref, { operationId: op.id })).toEqual([]);
  });

  it('an event without a Berth operation in its input is ignored, not an error', async () => {
    const { op } = await runningDeploy('e-foreign', 'op-foreign');
    const event = statusChange(op, 'FAILED');
    expect(await handler({ ...event, detail: { ...event.detail, input: '{"something":"else"}' } }, context)).toEqual({ recorded: false });
    expect(await handler({ ...event, detail: { ...event.detail, input: 'not json' } }, context)).toEqual({ recorded: false });
    expect((await awsPlatform().deps.store.getOperation(op.env, op.id))?.status).toBe('running');
  });
});
