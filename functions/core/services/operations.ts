// Every mutation that changes what runs is an operation: claim the env (one operation at a time,
// by a conditional write), persist the operation, start its state machine, answer at once.
import { BerthError, ConflictError, NotFoundError } from '../errors.ts';
import { operationId as newOperationId } from '../ids.ts';
import type { Env, Operation } from '../model.ts';
import type { EnvRef, StateMachineName } from '../ports.ts';
import type { Actor, PlatformDeps } from './deps.ts';

export const envLabel = (r: EnvRef): string => `${r.org}/${r.project}/${r.app}/${r.env}`;

export interface OperationPlan {
  kind: Operation['kind'];
  previousReleaseId?: string;
  scaleChange?: Operation['scaleChange'];
  endpointChange?: Operation['endpointChange'];
  volumeChange?: Operation['volumeChange'];
  destroy?: Operation['destroy'];
  /**
   * Runs once the env is claimed, before the operation is written: names the release to converge
   * to (a deploy appends it here, so a refused claim never leaves a release behind).
   */
  prepare: (operationId: string) => Promise<{ releaseId: string; acceptedMessage: string }>;
}

/** Claims the env, writes the operation and starts its execution; returns the operation id. */
export async function startOperation(deps: PlatformDeps, env: Env, plan: OperationPlan, actor: Actor): Promise<string> {
  const ref: EnvRef = { org: env.org, project: env.project, app: env.app, env: env.env };
  const operationId = newOperationId();
  let claimed = await claimEnv(deps, env, operationId, plan.kind, actor);
  try {
    const { releaseId, acceptedMessage } = await plan.prepare(operationId);
    const op: Operation = {
      id: operationId,
      env: ref,
      kind: plan.kind,
      status: 'running',
      releaseId,
      ...(plan.previousReleaseId ? { previousReleaseId: plan.previousReleaseId } : {}),
      previousScale: claimed.scale ?? {},
      ...(plan.scaleChange ? { scaleChange: plan.scaleChange } : {}),
      ...(plan.endpointChange ? { endpointChange: plan.endpointChange } : {}),
      ...(plan.volumeChange ? { volumeChange: plan.volumeChange } : {}),
      ...(plan.destroy ? { destroy: plan.destroy } : {}),
      createdAt: new Date().toISOString(),
      createdBy: actor.name,
    };
    await deps.store.putOperation(op);
    if (plan.kind === 'deploy' || plan.kind === 'rollback') claimed = await deps.store.updateEnv(ref, claimed.version, { desiredReleaseId: releaseId });
    await deps.events.record(ref, { type: 'operation.accepted', operationId, message: acceptedMessage });
    await deps.orchestrator.start(machineOf(plan.kind), operationId, { operation: operationInput(op) });
    return operationId;
  } catch (err) {
    await abandon(deps, ref, operationId, err);
    throw err;
  }
}

/** The `operation` object every execution gets: ids only, never secrets or manifests. */
export function operationInput(op: Operation): Record<string, unknown> {
  return { ...op.env, operationId: op.id, kind: op.kind, releaseId: op.releaseId, ...(op.previousReleaseId ? { previousReleaseId: op.previousReleaseId } : {}) };
}

const MACHINES: Record<Operation['kind'], StateMachineName> = {
  deploy: 'deploy',
  rollback: 'deploy',
  reconcile: 'deploy',
  scale: 'scale',
  endpoint: 'endpoint',
  volume: 'volume',
  'env-create': 'env',
  'env-destroy': 'env',
};

export const machineOf = (kind: Operation['kind']): StateMachineName => MACHINES[kind];

async function claimEnv(deps: PlatformDeps, env: Env, operationId: string, kind: Operation['kind'], actor: Actor): Promise<Env> {
  if (env.status === 'destroyed') {
    throw new ConflictError('env-destroyed', `env ${envLabel(env)} was destroyed; its history is kept but nothing runs there`, { next: [`berth envs create <new-name>`] });
  }
  if (env.activeOperationId) {
    let holder = await deps.store.getOperation(env, env.activeOperationId);
    // The platform's own reconcile gives way to what a user asks for (a rollback out of a crash loop).
    if (holder?.status === 'running' && holder.kind === 'reconcile' && kind !== 'reconcile') {
      holder = await supersede(deps, env, holder, kind, actor);
      if (holder.status !== 'running') return claimEnv(deps, (await deps.store.getEnv(env)) ?? env, operationId, kind, actor);
    }
    // A claim whose operation never got written (a crash between the two writes) holds nothing.
    if (holder?.status === 'running') {
      throw new ConflictError('operation-in-progress', `env ${envLabel(env)} is busy with ${holder.kind} ${holder.id} (step ${holder.step ?? 'starting'}); one operation runs at a time`, {
        details: { operationId: holder.id },
        next: [`berth wait ${holder.id}`, `berth events --operation ${holder.id} --follow`],
      });
    }
  }
  try {
    return await deps.store.updateEnv(env, env.version, { activeOperationId: operationId, lastOperationId: operationId });
  } catch (err) {
    if (err instanceof ConflictError) {
      throw new ConflictError('operation-in-progress', `env ${envLabel(env)} changed while this request was accepted (another operation started first)`, { next: ['berth status', 'retry the command'] });
    }
    throw err;
  }
}

/** How long a user command waits for a superseded reconcile to finish its compensation. */
const SUPERSEDE_WAIT_MS = 20_000;
const SUPERSEDE_POLL_MS = 100;

async function supersede(deps: PlatformDeps, ref: EnvRef, holder: Operation, kind: Operation['kind'], actor: Actor): Promise<Operation> {
  await requestCancel(deps, ref, holder, actor, `superseded by a ${kind} from ${actor.name}`);
  const deadline = Date.now() + SUPERSEDE_WAIT_MS;
  for (;;) {
    const now = (await deps.store.getOperation(ref, holder.id)) ?? holder;
    if (now.status !== 'running' || Date.now() > deadline) return now;
    await new Promise((r) => setTimeout(r, SUPERSEDE_POLL_MS));
  }
}

/**
 * `berth operations cancel`: asks the running operation to stop. It ends through its compensation
 * (what every failure runs), as `cancelled`; the answer comes at once, `berth wait` follows it.
 */
export async function cancelOperation(deps: PlatformDeps, ref: EnvRef, operationId: string, actor: Actor): Promise<Operation> {
  const op = await deps.store.getOperation(ref, operationId);
  if (!op) throw new NotFoundError('operation-not-found', `operation ${operationId} does not exist in ${envLabel(ref)}`, { next: ['berth status', 'berth events'] });
  if (op.status !== 'running') {
    if (op.status === 'cancelled' || op.cancelRequested) return op;
    throw new ConflictError('operation-finished', `${op.kind} ${op.id} already ${op.status}; only a running operation can be cancelled`, {
      details: { operationId: op.id, status: op.status },
      next: op.kind === 'deploy' ? ['berth rollback', 'berth releases'] : ['berth status'],
    });
  }
  return requestCancel(deps, ref, op, actor, `cancelled by ${actor.name}`);
}

async function requestCancel(deps: PlatformDeps, ref: EnvRef, op: Operation, actor: Actor, reason: string): Promise<Operation> {
  if (op.cancelRequested) return op;
  const updated = await deps.store.updateOperation(ref, op.id, { cancelRequested: { at: new Date().toISOString(), by: actor.name, reason } });
  await deps.events.record(ref, { type: 'operation.cancelling', operationId: op.id, message: `${op.kind} ${op.id}: ${reason}; undoing its changes at the next step` });
  await deps.orchestrator.interruptWaits(op.id, new ConflictError('operation-cancelled', `${op.kind} ${op.id}: ${reason}`));
  return updated;
}

async function abandon(deps: PlatformDeps, ref: EnvRef, operationId: string, err: unknown): Promise<void> {
  const env = await deps.store.getEnv(ref);
  if (env?.activeOperationId === operationId) {
    await deps.store.updateEnv(ref, env.version, { activeOperationId: undefined, desiredReleaseId: env.currentReleaseId }).catch(() => undefined);
  }
  const op = await deps.store.getOperation(ref, operationId);
  if (op?.status === 'running') {
    const e = err instanceof BerthError ? err : new BerthError('internal', 'start-failed', String((err as Error).message));
    await deps.store.updateOperation(ref, operationId, { status: 'failed', finishedAt: new Date().toISOString(), error: { category: e.category, code: e.code, message: e.message, step: 'Accept', next: [] } });
  }
}
