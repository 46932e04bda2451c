// The Task handlers of statemachines/scale.asl.json: record the new scale settings, then the same
// rolling replacement as a deploy (a count change starts or stops only the difference; a cpu or
// memory change replaces instances in batches). Compensation restores the settings from before.
import { createRollingSteps } from './rolling-steps.ts';
import { endStatus, envOf, failureOf, patchEnv, recordingFailures, releaseEnv, type Step, type StepDeps } from './step-kit.ts';

export function createScaleSteps(deps: StepDeps): Record<string, Step> {
  const { store, events } = deps;
  return recordingFailures(deps, {
    async SetDesiredScale({ operation: op }) {
      const env = envOf(op);
      const record = await store.getOperation(env, op.operationId);
      const change = record?.scaleChange;
      if (!change) throw new Error(`operation ${op.operationId} has no scale change recorded`);
      await patchEnv(store, env, (e) => ({ scale: { ...(e.scale ?? {}), [change.workload]: { ...(e.scale?.[change.workload] ?? {}), ...change.settings } } }));
      return {};
    },

    ...createRollingSteps(deps),

    async RecordScaleApplied({ operation: op }) {
      const env = envOf(op);
      const record = await store.getOperation(env, op.operationId);
      await releaseEnv(store, env, op.operationId);
      await events.record(env, { type: 'operation.succeeded', operationId: op.operationId, message: `scale ${op.operationId} succeeded: ${record?.scaleChange?.workload} ${JSON.stringify(record?.scaleChange?.settings)}` });
      await store.updateOperation(env, op.operationId, { status: 'succeeded', step: 'RecordScaleApplied', finishedAt: new Date().toISOString() });
      return {};
    },

    async CompensateRestorePreviousScale({ operation: op }) {
      const env = envOf(op);
      const record = await store.getOperation(env, op.operationId);
      await patchEnv(store, env, () => ({ scale: record?.previousScale ?? {} }));
      return {};
    },

    async RecordScaleFailed({ operation: op, failure }) {
      const env = envOf(op);
      const record = await store.getOperation(env, op.operationId);
      const error = failureOf(record, failure, op.operationId);
      const status = endStatus(record);
      await releaseEnv(store, env, op.operationId);
      await events.record(env, { type: `operation.${status}`, operationId: op.operationId, step: error.step, message: `scale ${op.operationId} ${status === 'cancelled' ? 'was cancelled' : 'failed'} at ${error.step} (${error.category}): ${error.message}; the previous scale is restored` });
      await store.updateOperation(env, op.operationId, { status, error, finishedAt: new Date().toISOString() });
      return {};
    },
  });
}
