// AWS orchestrator: Step Functions (Standard). Each operation is one execution named after the
// operation id, so an operator finds it in the console by the id the CLI printed, and starting
// it twice is harmless: Step Functions refuses a second execution of the same name.
import { ExecutionAlreadyExists, SendTaskFailureCommand, SendTaskSuccessCommand, StartExecutionCommand, type SFNClient } from '@aws-sdk/client-sfn';
import { BerthError } from '../../core/errors.ts';
import type { Orchestrator, StateMachineName } from '../../core/ports.ts';
import type { StateStore } from '../../core/state-store.ts';
import { attempt } from './aws-errors.ts';
import type { AwsRuntimeConfig } from './config.ts';
import { executionName } from './tags.ts';

export class StepFunctionsOrchestrator implements Orchestrator {
  private readonly sfn: SFNClient;

  constructor(
    clients: { sfn: SFNClient },
    private readonly config: Pick<AwsRuntimeConfig, 'stateMachineArns'>,
    /** Where health waits keep their task tokens (functions/aws/health-waiters.ts). */
    private readonly waiters: Pick<StateStore, 'listTaskTokens' | 'deleteTaskToken'>,
  ) {
    this.sfn = clients.sfn;
  }

  /** SendTaskFailure on the tokens the operation waits on: its Catch then runs the compensation. */
  async interruptWaits(name: string, error: BerthError): Promise<void> {
    for (const waiter of (await this.waiters.listTaskTokens()).filter((w) => w.operationId === name)) {
      await attempt(
        `interrupt the wait of ${name}`,
        () => this.sfn.send(new SendTaskFailureCommand({ taskToken: waiter.token, error: error.category.slice(0, MAX_ERROR), cause: error.message.slice(0, MAX_CAUSE) })),
        // The wait ended meanwhile (healthy, timed out): there is nothing left to interrupt.
        ignoreEndedTask,
      );
      await this.waiters.deleteTaskToken(waiter.token);
    }
  }

  async start(machine: StateMachineName, name: string, input: Record<string, unknown>): Promise<void> {
    const stateMachineArn = this.config.stateMachineArns[machine];
    await attempt(
      `start the ${machine} state machine for ${name}`,
      () => this.sfn.send(new StartExecutionCommand({ stateMachineArn, name: executionName(name), input: JSON.stringify(input) })),
      (err) => {
        // Started before (a retried request, a recovered Lambda): the operation is under way or done.
        if (err instanceof ExecutionAlreadyExists) return undefined;
        throw err;
      },
    );
  }
}

// Step Functions limits: `error` ≤256 characters, `cause` ≤32,768.
const MAX_ERROR = 256;
const MAX_CAUSE = 32_768;

/**
 * The answers Step Functions gives for a token whose task is no longer waiting: it was completed
 * already (a duplicate completion: two ECS events settled the same batch, or a retried Lambda), it
 * timed out, or its execution ended. Nobody waits for that token any more, so there is nothing to
 * do. https://docs.aws.amazon.com/step-functions/latest/apireference/API_SendTaskSuccess.html#API_SendTaskSuccess_Errors
 */
export const ENDED_TASK_ERRORS = ['TaskTimedOut', 'TaskDoesNotExist', 'InvalidToken'];

export function isEndedTask(err: unknown): boolean {
  return ENDED_TASK_ERRORS.includes((err as { name?: string } | undefined)?.name ?? '');
}

function ignoreEndedTask(err: unknown): undefined {
  if (isEndedTask(err)) return undefined;
  throw err;
}

/**
 * Completes a `.waitForTaskToken` Task: success with `result` as its output, or failure whose
 * `error` is the category (what the ASL Catch and `failureOf` read) and `cause` the message.
 * Completing a task that is no longer waiting is not an error (see ENDED_TASK_ERRORS).
 */
export async function sendTaskResult(sfn: SFNClient, taskToken: string, result: Record<string, unknown> | BerthError): Promise<void> {
  if (result instanceof BerthError) {
    await attempt(
      'fail the waiting state-machine task',
      () => sfn.send(new SendTaskFailureCommand({ taskToken, error: result.category.slice(0, MAX_ERROR), cause: result.message.slice(0, MAX_CAUSE) })),
      ignoreEndedTask,
    );
    return;
  }
  await attempt('complete the waiting state-machine task', () => sfn.send(new SendTaskSuccessCommand({ taskToken, output: JSON.stringify(result) })), ignoreEndedTask);
}
