// An execution that ends outside every step handler (a States.Timeout, a Lambda service error after
// its retries, an abort from the console, a States.Runtime error) never reaches its Record*Failed
// step, so nobody would finish its operation or free its env. Embedded, the LocalOrchestrator sees
// the end itself; on AWS the "Step Functions Execution Status Change" event brings it
// (lambda/execution-events.ts). Both record it here, the same way.
import type { ErrorCategory } from '../core/errors.ts';
import type { EventLog } from '../core/event-log.ts';
import type { EnvRef } from '../core/ports.ts';
import type { StateStore } from '../core/state-store.ts';
import { machineOf } from '../core/services/operations.ts';
import { releaseEnv } from './step-kit.ts';

/** The terminal statuses of a Step Functions execution that are not a success. */
export type UnsuccessfulStatus = 'FAILED' | 'TIMED_OUT' | 'ABORTED';

export interface UnrecordedEnd {
  executionName: string;
  status: UnsuccessfulStatus;
  /** What Step Functions says ended it (`error: cause`), or the interpreter's error message. */
  cause: string;
}

const OUTCOME: Record<UnsuccessfulStatus, { category: ErrorCategory; code: string; verb: string }> = {
  FAILED: { category: 'internal', code: 'execution-failed', verb: 'failed' },
  TIMED_OUT: { category: 'timeout', code: 'execution-timed-out', verb: 'timed out' },
  ABORTED: { category: 'internal', code: 'execution-aborted', verb: 'was aborted' },
};

/**
 * Fails the operation and releases its env if the execution left it `running`; does nothing
 * otherwise, so a redelivered event (EventBridge delivers at least once) or an execution that did
 * record its failure changes nothing. Returns whether it recorded anything.
 */
export async function failUnrecorded(deps: { store: StateStore; events: EventLog }, ref: EnvRef, operationId: string, end: UnrecordedEnd): Promise<boolean> {
  const { store, events } = deps;
  const op = await store.getOperation(ref, operationId);
  if (!op || op.status !== 'running') return false;
  const outcome = OUTCOME[end.status];
  const step = op.step ?? 'unknown';
  const message = `execution ${end.executionName} ${outcome.verb} (${end.status}) at ${step} without recording its outcome: ${end.cause || 'no cause given'}`;
  const env = await store.getEnv(ref);
  // Deploy kinds: what should run goes back to what runs, so the reconcile does not retry the
  // failed release every minute (RecordRolloutFailed does the same).
  const deploying = machineOf(op.kind) === 'deploy';
  // The release a deploy never made live is failed; a release that is gone must not keep the
  // operation running (the handler would fail on every redelivery).
  if (op.kind === 'deploy' && op.releaseId && (await store.getRelease(ref, op.releaseId))?.status === 'pending') await store.setReleaseStatus(ref, op.releaseId, 'failed');
  await releaseEnv(store, ref, operationId, deploying ? { desiredReleaseId: env?.currentReleaseId } : {});
  await events.record(ref, { type: 'operation.failed', operationId, step, message });
  await store.updateOperation(ref, operationId, {
    status: 'failed',
    finishedAt: new Date().toISOString(),
    error: { category: outcome.category, code: outcome.code, message, step, next: [`berth events --operation ${operationId}`] },
  });
  return true;
}
