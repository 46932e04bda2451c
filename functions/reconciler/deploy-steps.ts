// The Task handlers of statemachines/deploy.asl.json (deploy and rollback). Each loads what it
// needs from the store by id (no secret travels through an execution's input or history) and
// reaches the world only through driver ports, so it runs unchanged in a Lambda and embedded.
import { createRollingSteps } from './rolling-steps.ts';
import type { Release } from '../core/model.ts';
import type { EnvRef } from '../core/ports.ts';
import type { StateStore } from '../core/state-store.ts';
import { endStatus, envOf, failureOf, loadRelease, patchEnv, recordingFailures, releaseEnv, type Step, type StepDeps } from './step-kit.ts';

export type { StepDeps as DeployStepDeps, StepInput, OperationInput } from './step-kit.ts';

export function createDeploySteps(deps: StepDeps): Record<string, Step> {
  const { store, events } = deps;
  return recordingFailures(deps, {
    async PrepareRelease({ operation: op }) {
      const release = await loadRelease(store, envOf(op), op.releaseId);
      await deps.artifacts.unpack(release.artifactDigest);
      return {};
    },

    ...createRollingSteps(deps),

    async RecordReleaseActive({ operation: op }) {
      const env = envOf(op);
      const before = await store.getEnv(env);
      if (before?.currentReleaseId && before.currentReleaseId !== op.releaseId) await store.setReleaseStatus(env, before.currentReleaseId, 'superseded');
      if (before?.currentReleaseId !== op.releaseId) await store.setReleaseStatus(env, op.releaseId, 'active');
      await recordDeclaredVolumes(store, env, await loadRelease(store, env, op.releaseId));
      await releaseEnv(store, env, op.operationId, { currentReleaseId: op.releaseId, desiredReleaseId: op.releaseId });
      await events.record(env, { type: 'operation.succeeded', operationId: op.operationId, message: `${op.kind} ${op.operationId} succeeded: ${op.releaseId} is live` });
      await store.updateOperation(env, op.operationId, { status: 'succeeded', step: 'RecordReleaseActive', finishedAt: new Date().toISOString() });
      return {};
    },

    async RecordRolloutFailed({ operation: op, failure }) {
      const env = envOf(op);
      const record = await store.getOperation(env, op.operationId);
      const error = failureOf(record, failure, op.operationId);
      const status = endStatus(record);
      // A rollback target stays as it was: releases are never marked by someone else's failure.
      if (op.kind === 'deploy') await store.setReleaseStatus(env, op.releaseId, 'failed');
      await releaseEnv(store, env, op.operationId, { desiredReleaseId: op.previousReleaseId });
      await events.record(env, {
        type: `operation.${status}`,
        operationId: op.operationId,
        step: error.step,
        message: `${op.kind} ${op.operationId} ${status === 'cancelled' ? 'was cancelled' : 'failed'} at ${error.step} (${error.category}): ${error.message}${op.previousReleaseId ? `; ${op.previousReleaseId} keeps serving` : ''}`,
      });
      await store.updateOperation(env, op.operationId, { status, error, finishedAt: new Date().toISOString() });
      return {};
    },
  });
}

/** Volumes a release declares become volumes of the env (listed, resizable, snapshottable). */
async function recordDeclaredVolumes(store: StateStore, ref: EnvRef, release: Release): Promise<void> {
  const declared = Object.entries(release.manifest.volumes ?? {});
  if (!declared.length) return;
  await patchEnv(store, ref, (env) => {
    const missing = declared.filter(([name]) => !env.volumes?.[name]);
    if (!missing.length) return {};
    const now = new Date().toISOString();
    return { volumes: { ...(env.volumes ?? {}), ...Object.fromEntries(missing.map(([name, v]) => [name, { ...v, createdAt: now, snapshots: [] }])) } };
  });
}
