// The "Step Functions Execution Status Change" event of a Berth execution that did not succeed,
// read into what failUnrecorded needs. Step Functions puts the execution's name (Berth names it
// after the operation), its status, its input as a JSON string, and the error and cause of a
// failure in `detail`: https://docs.aws.amazon.com/step-functions/latest/dg/eventbridge-integration.html
import type { EnvRef } from '../core/ports.ts';
import type { UnrecordedEnd, UnsuccessfulStatus } from '../reconciler/unrecorded-failure.ts';

export const EXECUTION_STATUS_CHANGE = 'Step Functions Execution Status Change';
export const UNSUCCESSFUL: readonly UnsuccessfulStatus[] = ['FAILED', 'TIMED_OUT', 'ABORTED'];

export interface ExecutionStatusDetail {
  executionArn?: string;
  stateMachineArn?: string;
  name?: string;
  status?: string;
  input?: string | null;
  error?: string | null;
  cause?: string | null;
}

export interface UnsuccessfulExecution extends UnrecordedEnd {
  ref: EnvRef;
  operationId: string;
}

/** The execution's operation and how it ended, or a reason it is not a Berth operation's end. */
export function readExecutionEnd(detail: ExecutionStatusDetail): UnsuccessfulExecution | { ignored: string } {
  const status = detail.status as UnsuccessfulStatus;
  if (!UNSUCCESSFUL.includes(status)) return { ignored: `status ${detail.status} is not an unsuccessful end` };
  let operation: Partial<EnvRef & { operationId: string }> | undefined;
  try {
    operation = (JSON.parse(detail.input ?? 'null') as { operation?: typeof operation } | null)?.operation;
  } catch {
    return { ignored: `execution ${detail.name} has an input that is not JSON` };
  }
  const { org, project, app, env, operationId } = operation ?? {};
  if (!org || !project || !app || !env || !operationId) return { ignored: `execution ${detail.name} has no operation in its input` };
  const cause = [detail.error, detail.cause].filter(Boolean).join(': ');
  return { ref: { org, project, app, env }, operationId, executionName: detail.name ?? operationId, status, cause };
}
