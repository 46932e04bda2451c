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
        (err) => {
          // The wait ended meanwhile (healthy, timed out): there is nothing left to interrupt.
          if ((err as { name?: string }).name === 'TaskTimedOut' || (err as { name?: string }).name === 'TaskDoesNotExist' || (err as { name?: string }).name === 'InvalidToken') return undefined;
          throw err;
        },
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
 * Completes a `.waitForTaskToken` Task: success with `result` as its output, or failure whose
 * `error` is the category (what the ASL Catch and `failureOf` read) and `cause` the message.
 */
export async function sendTaskResult(sfn: SFNClient, taskToken: string, result: Record<string, unknown> | BerthError): Promise<void> {
  if (result instanceof BerthError) {
    await attempt('fail the waiting state-machine task', () =>
      sfn.send(new SendTaskFailureCommand({ taskToken, error: result.category.slice(0, MAX_ERROR), cause: result.message.slice(0, MAX_CAUSE) })),
    );
    return;
  }
  await attempt('complete the waiting state-machine task', () => sfn.send(new SendTaskSuccessCommand({ taskToken, output: JSON.stringify(result) })));
}
