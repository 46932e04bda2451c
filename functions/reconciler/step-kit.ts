// What every state machine's step handlers share: their dependencies, the execution input, the
// failure recording wrapper, and releasing the env at the end of an operation.
import { BerthError, isErrorCategory, NotFoundError, type ErrorCategory } from '../core/errors.ts';
import type { EventLog } from '../core/event-log.ts';
import type { Env, Operation, OperationError, OperationFailureDetails, Release } from '../core/model.ts';
import type { ArtifactStore, ComputeDriver, EndpointDriver, EnvRef, SecretCipher, VolumeDriver } from '../core/ports.ts';
import type { EnvPatch, StateStore } from '../core/state-store.ts';
import { stepStartedMessage } from './step-summaries.ts';

export interface StepDeps {
  store: StateStore;
  events: EventLog;
  compute: ComputeDriver;
  endpoints: EndpointDriver;
  volumes: VolumeDriver;
  artifacts: ArtifactStore;
  cipher: SecretCipher;
}

/** The `operation` object of every execution's input. */
export interface OperationInput extends EnvRef {
  operationId: string;
  kind: string;
  releaseId: string;
  previousReleaseId?: string;
}

export interface StepInput {
  step: string;
  operation: OperationInput;
  /** Instance ids a wait step waits for. */
  instances?: string[];
  /** Instance ids a stop step stops. */
  stop?: string[];
  failure?: { Error: string; Cause: string };
  /** Present on AWS (.waitForTaskToken); the embedded binding ignores it. */
  taskToken?: string;
  /** The AWS Backup restore job WaitForVolumeRestore waits for (ApplyVolumeChange started it). */
  restoreJobId?: string;
}

export type Step = (input: StepInput) => Promise<Record<string, unknown>>;

export const envOf = (op: OperationInput): EnvRef => ({ org: op.org, project: op.project, app: op.app, env: op.env });

/** The steps the wrapper records and guards; compensation and final recording run unguarded. */
export const isForwardStep = (name: string): boolean => !name.startsWith('Compensate') && !name.startsWith('Record');

/**
 * Wraps forward steps so that both modes record the same progress and failures: the step reached
 * (`op.step` and a `step.started` event, which `status` and `wait` show), and a failure written on
 * the operation (step, category, next commands) before the state machine sees it; the rethrown
 * error's `name` is the category, which the ASL Catch passes on and the final Fail state carries
 * as `Error`.
 */
export function recordingFailures(deps: Pick<StepDeps, 'store' | 'events'>, steps: Record<string, Step>): Record<string, Step> {
  return Object.fromEntries(Object.entries(steps).map(([name, step]) => [name, isForwardStep(name) ? (input: StepInput) => runStep(deps, name, step, input) : step]));
}

/**
 * One forward step, recorded. Also what the steps Lambda runs a .waitForTaskToken step through
 * (its `step` is the token registration), so a wait shows as the step the operation is in.
 */
export async function runStep(deps: Pick<StepDeps, 'store' | 'events'>, name: string, step: Step, input: StepInput): Promise<Record<string, unknown>> {
  const { store } = deps;
  const op = input.operation;
  try {
    const record = await store.getOperation(envOf(op), op.operationId);
    throwIfCancelled(record);
    await recordProgress(deps, name, op, record);
    return await step(input);
  } catch (err) {
    const e = err instanceof BerthError ? err : new BerthError('internal', 'step-crashed', `${name} crashed: ${(err as Error).message}`, { cause: err });
    const next = [...e.next, `berth events --operation ${op.operationId}`];
    const details = failureDetails(e.details, op.releaseId);
    await store.updateOperation(envOf(op), op.operationId, { error: { category: e.category, code: e.code, message: e.message, step: name, next, details } });
    throw e;
  }
}

/** The error's own details (a driver's: instance, workload, exit code…) and the release being rolled out. */
function failureDetails(details: unknown, releaseId: string | undefined): OperationFailureDetails {
  const own = details && typeof details === 'object' && !Array.isArray(details) ? (details as Record<string, unknown>) : {};
  return { ...own, ...(releaseId && own.releaseId === undefined ? { releaseId } : {}) };
}

/**
 * Records that the operation reached `name`, unless that is already recorded: embedded, the
 * interpreter binding (ExecutionHistory) records a Task as it enters it, in order with the Choice
 * states before it; a Lambda retry or redelivery of the same step on AWS finds it recorded too.
 * So each step is announced once, whoever got there first, and on AWS this is the only recorder.
 */
async function recordProgress(deps: Pick<StepDeps, 'store' | 'events'>, name: string, op: OperationInput, record: Operation | undefined): Promise<void> {
  if (!record || record.step === name) return;
  await deps.store.updateOperation(envOf(op), op.operationId, { step: name });
  await deps.events.record(envOf(op), { type: 'step.started', operationId: op.operationId, step: name, message: stepStartedMessage(name) });
}

/**
 * The operation's error: what the failing step recorded, or else what the state machine caught
 * (a failure outside any handler: a Task timeout, a Lambda service error, an injected fault).
 */
export function failureOf(record: Operation | undefined, failure: StepInput['failure'], operationId: string): OperationError {
  if (record?.cancelRequested) return cancelledError(record, record.error?.step ?? record.step ?? 'unknown');
  if (record?.error) return record.error;
  const category: ErrorCategory = isErrorCategory(failure?.Error) ? failure.Error : failure?.Error?.startsWith('States.Timeout') || failure?.Error === 'States.HeartbeatTimeout' ? 'timeout' : 'internal';
  return {
    category,
    code: failure?.Error ?? 'unknown',
    message: failure?.Cause ?? 'the operation failed without an error message',
    step: record?.step ?? 'unknown',
    next: [`berth events --operation ${operationId}`],
  };
}

/**
 * Cancellation is cooperative: a forward step that starts after `operations cancel` (or a
 * superseding user command) fails at once, so the Catch runs the compensation that every failure
 * runs. A wait in progress is woken by the orchestrator (Orchestrator.interruptWaits).
 */
function throwIfCancelled(record: Operation | undefined): void {
  if (record?.cancelRequested) throw new BerthError('conflict', 'operation-cancelled', cancelledError(record, record.step ?? 'unknown').message);
}

export function cancelledError(record: Operation, step: string): OperationError {
  const c = record.cancelRequested!;
  return { category: 'conflict', code: 'operation-cancelled', message: `${record.kind} ${record.id} was cancelled (${c.reason}); its compensation put back what it had changed`, step, next: [`berth events --operation ${record.id}`, 'berth status'] };
}

/** How a failed execution ends: `cancelled` when someone asked for it, otherwise `failed`. */
export const endStatus = (record: Operation | undefined): 'failed' | 'cancelled' => (record?.cancelRequested ? 'cancelled' : 'failed');

export async function loadRelease(store: StateStore, ref: EnvRef, id: string): Promise<Release> {
  const release = await store.getRelease(ref, id);
  if (!release) throw new NotFoundError('release-not-found', `release ${id} of ${ref.org}/${ref.project}/${ref.app}/${ref.env} does not exist`, { next: ['berth releases'] });
  return release;
}

export async function loadEnv(store: StateStore, ref: EnvRef): Promise<Env> {
  const env = await store.getEnv(ref);
  if (!env) throw new NotFoundError('env-not-found', `env ${ref.env} no longer exists`);
  return env;
}

/** Applies `patch` to the env under its version guard, re-reading on a concurrent change. */
export async function patchEnv(store: StateStore, ref: EnvRef, patch: (env: Env) => EnvPatch): Promise<Env> {
  for (let attempt = 0; attempt < 8; attempt++) {
    const env = await loadEnv(store, ref);
    try {
      return await store.updateEnv(ref, env.version, patch(env));
    } catch (err) {
      if (!(err instanceof BerthError && err.category === 'conflict')) throw err;
    }
  }
  throw new BerthError('conflict', 'env-busy', `env ${ref.env} kept changing; could not record the change`);
}

/** Ends an operation's hold on the env (if it is still the holder) and applies final pointers. */
export function releaseEnv(store: StateStore, ref: EnvRef, operationId: string, patch: EnvPatch = {}): Promise<Env> {
  return patchEnv(store, ref, (env) => ({ ...patch, ...(env.activeOperationId === operationId ? { activeOperationId: undefined } : {}) }));
}
