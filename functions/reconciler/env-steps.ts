// The Task handlers of statemachines/env.asl.json: provisioning a new env, and destroying one
// (stop everything, delete what the env created, keep the history and, unless asked, the
// volumes). Steps that do not apply to the operation's kind pass.
import { convergeEndpoints, createRollingSteps } from './rolling-steps.ts';
import { endStatus, envOf, failureOf, loadEnv, patchEnv, recordingFailures, releaseEnv, type Step, type StepDeps } from './step-kit.ts';

export function createEnvSteps(deps: StepDeps): Record<string, Step> {
  const { store, events, compute, endpoints, volumes } = deps;
  const rolling = createRollingSteps(deps);
  const destroying = (kind: string) => kind === 'env-destroy';
  return recordingFailures(deps, {
    async MarkEnvTransition({ operation: op }) {
      await patchEnv(store, envOf(op), () => ({ status: destroying(op.kind) ? 'destroying' : 'ready' }));
      return {};
    },
    async StopEnvInstances({ operation: op }) {
      if (!destroying(op.kind)) return {};
      const ref = envOf(op);
      const ids = (await compute.list(ref)).filter((i) => i.state !== 'stopped').map((i) => i.id);
      if (ids.length) {
        await compute.stopInstances(ref, ids);
        await events.record(ref, { type: 'instances.stopped', operationId: op.operationId, step: 'StopEnvInstances', message: `stopped ${ids.join(', ')} (env destroyed; logs stay readable)` });
      }
      return {};
    },
    async CloseEnvEndpoints({ operation: op }) {
      if (!destroying(op.kind)) return {};
      const ref = envOf(op);
      for (const e of (await endpoints.list(ref))) {
        await endpoints.remove(ref, e.name);
        await events.record(ref, { type: 'endpoint.removed', operationId: op.operationId, step: 'CloseEnvEndpoints', message: `endpoint ${e.name} closed` });
      }
      return {};
    },
    async ProvisionEnvResources() {
      // Embedded an env needs nothing up front (log files and volume dirs appear on first use);
      // on AWS this creates the log group and security groups.
      return {};
    },
    async DeleteEnvResources({ operation: op }) {
      if (!destroying(op.kind)) return {};
      const ref = envOf(op);
      const purge = (await store.getOperation(ref, op.operationId))?.destroy?.purgeVolumes === true;
      const names = Object.keys((await loadEnv(store, ref)).volumes ?? {}).sort();
      // Ordered so that a failure part-way leaves what compensation can bring back: endpoints are
      // re-created by ensure, mount targets by volumes.ensure; secrets (re-created only with a new
      // task definition) go last.
      await endpoints.destroyEnv(ref);
      for (const name of names) await (purge ? volumes.remove(ref, name) : volumes.detach(ref, name));
      await compute.destroyEnv(ref);
      const kept = names.length ? (purge ? `volumes ${names.join(', ')} deleted` : `volumes ${names.join(', ')} kept (envs destroy --purge-volumes deletes them)`) : 'no volumes';
      await events.record(ref, { type: 'env.resources-deleted', operationId: op.operationId, step: 'DeleteEnvResources', message: `deleted the env's endpoints, their network resources and its secrets; ${kept}` });
      return {};
    },
    async RecordEnvApplied({ operation: op }) {
      const ref = envOf(op);
      await releaseEnv(store, ref, op.operationId, destroying(op.kind) ? { status: 'destroyed', desiredReleaseId: undefined } : { status: 'ready' });
      await events.record(ref, { type: 'operation.succeeded', operationId: op.operationId, message: destroying(op.kind) ? `env ${ref.env} destroyed: nothing runs; releases, events and logs are kept` : `env ${ref.env} is ready` });
      await store.updateOperation(ref, op.operationId, { status: 'succeeded', step: 'RecordEnvApplied', finishedAt: new Date().toISOString() });
      return {};
    },
    async CompensateReleaseEnvResources() {
      return {};
    },
    async CompensateReopenEnvEndpoints({ operation: op }) {
      if (!destroying(op.kind)) return {};
      await convergeEndpoints(deps, op, 'CompensateReopenEnvEndpoints');
      return {};
    },
    async CompensateRestartEnvInstances(input) {
      if (!destroying(input.operation.kind)) return {};
      // The previous desired state is the current release: the rolling compensation restores it.
      await rolling.CompensateRestartReplacedInstances(input);
      await rolling.CompensateRestoreEndpointTargets(input);
      return {};
    },
    async CompensateRestoreEnvStatus({ operation: op }) {
      // A destroy that failed leaves the env ready; a create that failed leaves it without a status.
      await patchEnv(store, envOf(op), () => ({ status: destroying(op.kind) ? 'ready' : undefined }));
      return {};
    },
    async RecordEnvFailed({ operation: op, failure }) {
      const ref = envOf(op);
      const record = await store.getOperation(ref, op.operationId);
      const error = failureOf(record, failure, op.operationId);
      const status = endStatus(record);
      // An env that never became ready is removed, so its name can be used again.
      if (op.kind === 'env-create') await store.deleteEnv(ref);
      else await releaseEnv(store, ref, op.operationId);
      await events.record(ref, { type: `operation.${status}`, operationId: op.operationId, step: error.step, message: `${op.kind} ${op.operationId} ${status === 'cancelled' ? 'was cancelled' : 'failed'} at ${error.step} (${error.category}): ${error.message}; the env is as it was` });
      await store.updateOperation(ref, op.operationId, { status, error, finishedAt: new Date().toISOString() });
      return {};
    },
  });
}
