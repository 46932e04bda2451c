// The Task handlers of statemachines/endpoint.asl.json: endpoints created, changed or deleted
// through the API, outside the manifest.
import { NotFoundError } from '../core/errors.ts';
import type { Endpoint } from '../contract/manifest.ts';
import type { Env } from '../core/model.ts';
import type { StateStore } from '../core/state-store.ts';
import { convergeEndpoints } from './rolling-steps.ts';
import { endStatus, envOf, failureOf, patchEnv, recordingFailures, releaseEnv, type OperationInput, type Step, type StepDeps } from './step-kit.ts';

async function changeOf(store: StateStore, op: OperationInput) {
  const change = (await store.getOperation(envOf(op), op.operationId))?.endpointChange;
  if (!change) throw new NotFoundError('operation-change-missing', `operation ${op.operationId} has no endpoint change recorded`);
  return change;
}

const withEndpoint = (env: Env, name: string, endpoint: Endpoint | undefined) => {
  const endpoints = { ...(env.endpoints ?? {}) };
  if (endpoint) endpoints[name] = endpoint;
  else delete endpoints[name];
  return endpoints;
};

export function createEndpointSteps(deps: StepDeps): Record<string, Step> {
  const { store, events } = deps;

  return recordingFailures(deps, {
    async SetDesiredEndpoint({ operation: op }) {
      const change = await changeOf(store, op);
      await patchEnv(store, envOf(op), (env) => ({ endpoints: withEndpoint(env, change.name, change.action === 'delete' ? undefined : change.endpoint) }));
      return {};
    },
    async ApplyEndpointListener({ operation: op }) {
      const change = await changeOf(store, op);
      const ref = envOf(op);
      if (change.action === 'delete') await deps.endpoints.remove(ref, change.name);
      else await deps.endpoints.ensure(ref, change.name, change.endpoint!);
      return {};
    },
    async PointEndpointAtInstances({ operation: op }) {
      await convergeEndpoints(deps, op, 'PointEndpointAtInstances');
      return {};
    },
    async RecordEndpointApplied({ operation: op }) {
      const ref = envOf(op);
      const change = await changeOf(store, op);
      await releaseEnv(store, ref, op.operationId);
      await events.record(ref, { type: 'operation.succeeded', operationId: op.operationId, message: `endpoint ${op.operationId} succeeded: ${change.name} ${change.action}d` });
      await store.updateOperation(ref, op.operationId, { status: 'succeeded', step: 'RecordEndpointApplied', finishedAt: new Date().toISOString() });
      return {};
    },
    async CompensateRestoreEndpointListener({ operation: op }) {
      const change = await changeOf(store, op);
      const ref = envOf(op);
      // Back to what was there: the previous definition, or no listener at all.
      if (change.previous) await deps.endpoints.ensure(ref, change.name, change.previous);
      else await deps.endpoints.remove(ref, change.name);
      return {};
    },
    async CompensateRestorePreviousEndpoint({ operation: op }) {
      const change = await changeOf(store, op);
      await patchEnv(store, envOf(op), (env) => ({ endpoints: withEndpoint(env, change.name, change.previous) }));
      await convergeEndpoints(deps, op, 'CompensateRestorePreviousEndpoint');
      return {};
    },
    async RecordEndpointFailed({ operation: op, failure }) {
      const ref = envOf(op);
      const record = await store.getOperation(ref, op.operationId);
      const error = failureOf(record, failure, op.operationId);
      const status = endStatus(record);
      await releaseEnv(store, ref, op.operationId);
      await events.record(ref, { type: `operation.${status}`, operationId: op.operationId, step: error.step, message: `endpoint ${op.operationId} ${status === 'cancelled' ? 'was cancelled' : 'failed'} at ${error.step} (${error.category}): ${error.message}; the endpoint is as it was` });
      await store.updateOperation(ref, op.operationId, { status, error, finishedAt: new Date().toISOString() });
      return {};
    },
  });
}
