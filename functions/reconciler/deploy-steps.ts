// The Task handlers of statemachines/deploy.asl.json. Each step loads what it needs from the store
// by id (no secret ever travels through the execution's input or history) and talks to the world
// only through the driver ports, so this file runs unchanged in a Lambda and embedded.
import type { Manifest } from '../contract/manifest.ts';
import { BerthError, NotFoundError } from '../core/errors.ts';
import type { EventLog } from '../core/event-log.ts';
import type { Release } from '../core/model.ts';
import type { ArtifactStore, ComputeDriver, EndpointDriver, EndpointTarget, EnvRef, InstanceSpec, SecretCipher, VolumeDriver } from '../core/ports.ts';
import type { StateStore } from '../core/state-store.ts';
import { WORKLOAD_DEFAULTS } from '../contract/manifest.ts';

export interface DeployStepDeps {
  store: StateStore;
  events: EventLog;
  compute: ComputeDriver;
  endpoints: EndpointDriver;
  volumes: VolumeDriver;
  artifacts: ArtifactStore;
  cipher: SecretCipher;
}

/** The `operation` object of the execution input. */
export interface OperationInput extends EnvRef {
  operationId: string;
  releaseId: string;
  previousReleaseId?: string;
}

export interface StepInput {
  step: string;
  operation: OperationInput;
  instances?: Record<string, string[]>;
  failure?: { Error: string; Cause: string };
}

type Step = (input: StepInput) => Promise<Record<string, unknown>>;

export function createDeploySteps(deps: DeployStepDeps): Record<string, Step> {
  const { store, events, compute, endpoints } = deps;
  const envOf = (op: OperationInput): EnvRef => ({ org: op.org, project: op.project, app: op.app, env: op.env });

  const steps: Record<string, Step> = {
    async PrepareRelease({ operation }) {
      const release = await loadRelease(store, operation, operation.releaseId);
      await deps.artifacts.unpack(release.artifactDigest);
      return {};
    },

    async StartNewInstances({ operation }) {
      const env = envOf(operation);
      const release = await loadRelease(store, operation, operation.releaseId);
      const specs = await instanceSpecs(deps, env, release);
      const instances: Record<string, string[]> = {};
      for (const spec of specs) {
        const count = spec.workload.count ?? WORKLOAD_DEFAULTS.count;
        instances[spec.workloadName] = await compute.startInstances(spec, count);
        await events.record(env, {
          type: 'instances.starting',
          operationId: operation.operationId,
          step: 'StartNewInstances',
          workload: spec.workloadName,
          message: `starting ${count} instance${count === 1 ? '' : 's'} of ${spec.workloadName} (${release.id}): ${instances[spec.workloadName].join(', ') || 'none'}`,
        });
      }
      return { instances };
    },

    async WaitForNewInstancesHealthy({ operation, instances = {} }) {
      const env = envOf(operation);
      const ids = Object.values(instances).flat();
      await compute.waitHealthy(env, ids);
      if (ids.length) {
        await events.record(env, { type: 'instances.healthy', operationId: operation.operationId, step: 'WaitForNewInstancesHealthy', message: `healthy: ${ids.join(', ')}` });
      }
      return {};
    },

    async ShiftEndpointTraffic({ operation, instances = {} }) {
      const env = envOf(operation);
      const release = await loadRelease(store, operation, operation.releaseId);
      await pointEndpoints(deps, env, release.manifest, (workload) => instances[workload] ?? [], operation.operationId, 'ShiftEndpointTraffic');
      return {};
    },

    async StopPreviousInstances({ operation }) {
      const env = envOf(operation);
      const old = compute.list(env).filter((i) => i.releaseId !== operation.releaseId);
      if (old.length) {
        await compute.stopInstances(env, old.map((i) => i.id));
        await events.record(env, { type: 'instances.stopped', operationId: operation.operationId, step: 'StopPreviousInstances', message: `stopped ${old.map((i) => `${i.id} (${i.releaseId})`).join(', ')}` });
      }
      return {};
    },

    async RecordReleaseActive({ operation }) {
      const env = envOf(operation);
      const current = await store.getEnv(env);
      if (current?.currentReleaseId && current.currentReleaseId !== operation.releaseId) {
        await store.setReleaseStatus(env, current.currentReleaseId, 'superseded');
      }
      await store.setReleaseStatus(env, operation.releaseId, 'active');
      await releaseEnv(store, env, operation.operationId, { currentReleaseId: operation.releaseId, desiredReleaseId: operation.releaseId });
      await store.updateOperation(env, operation.operationId, { status: 'succeeded', step: 'RecordReleaseActive', finishedAt: new Date().toISOString() });
      await events.record(env, { type: 'operation.succeeded', operationId: operation.operationId, message: `deploy ${operation.operationId} succeeded: ${operation.releaseId} is live` });
      return {};
    },

    async CompensateRestoreEndpointTargets({ operation }) {
      const env = envOf(operation);
      const previous = operation.previousReleaseId ? await store.getRelease(env, operation.previousReleaseId) : undefined;
      const running = compute.list(env).filter((i) => i.releaseId === previous?.id);
      const manifest: Manifest = previous?.manifest ?? { app: operation.app, workloads: {}, endpoints: {} };
      await pointEndpoints(deps, env, manifest, (workload) => running.filter((i) => i.workload === workload).map((i) => i.id), operation.operationId, 'CompensateRestoreEndpointTargets');
      return {};
    },

    async CompensateStopNewInstances({ operation }) {
      const env = envOf(operation);
      const fresh = compute.list(env).filter((i) => i.releaseId === operation.releaseId);
      if (fresh.length) {
        await compute.stopInstances(env, fresh.map((i) => i.id));
        await events.record(env, { type: 'instances.stopped', operationId: operation.operationId, step: 'CompensateStopNewInstances', message: `stopped the new instances ${fresh.map((i) => i.id).join(', ')}; their logs stay readable` });
      }
      return {};
    },

    async RecordRolloutFailed({ operation, failure }) {
      const env = envOf(operation);
      const op = await store.getOperation(env, operation.operationId);
      // The failing step wrote its own error; this only covers a failure outside any step.
      const error = op?.error ?? {
        category: 'internal' as const,
        code: failure?.Error ?? 'unknown',
        message: failure?.Cause ?? 'the rollout failed without an error message',
        step: op?.step ?? 'unknown',
        next: [`berth events --operation ${operation.operationId}`],
      };
      await store.setReleaseStatus(env, operation.releaseId, 'failed');
      await releaseEnv(store, env, operation.operationId, { desiredReleaseId: operation.previousReleaseId });
      await store.updateOperation(env, operation.operationId, { status: 'failed', error, finishedAt: new Date().toISOString() });
      await events.record(env, {
        type: 'operation.failed',
        operationId: operation.operationId,
        step: error.step,
        message: `deploy ${operation.operationId} failed at ${error.step} (${error.category}): ${error.message}${operation.previousReleaseId ? `; ${operation.previousReleaseId} keeps serving` : ''}`,
      });
      return {};
    },
  };

  return Object.fromEntries(Object.entries(steps).map(([name, step]) => [name, recordingFailures(store, name, step)]));
}

/**
 * Wraps a forward step so its failure is written on the operation (step, category, next commands)
 * before the state machine sees it; the rethrown error's `name` is the category, which is what
 * the ASL Catch and the final Fail state carry as `Error`.
 */
function recordingFailures(store: StateStore, name: string, step: Step): Step {
  if (name.startsWith('Compensate') || name.startsWith('Record')) return step;
  return async (input) => {
    try {
      return await step(input);
    } catch (err) {
      const e = err instanceof BerthError ? err : new BerthError('internal', 'step-crashed', `${name} crashed: ${(err as Error).message}`, { cause: err });
      const op = input.operation;
      const env: EnvRef = { org: op.org, project: op.project, app: op.app, env: op.env };
      const next = [...e.next, `berth events --operation ${op.operationId}`];
      await store.updateOperation(env, op.operationId, { error: { category: e.category, code: e.code, message: e.message, step: name, next } });
      throw e;
    }
  };
}

async function loadRelease(store: StateStore, op: OperationInput, id: string): Promise<Release> {
  const release = await store.getRelease(op, id);
  if (!release) throw new NotFoundError('release-not-found', `release ${id} of ${op.org}/${op.project}/${op.app}/${op.env} does not exist`);
  return release;
}

async function instanceSpecs(deps: DeployStepDeps, env: EnvRef, release: Release): Promise<InstanceSpec[]> {
  const workdir = await deps.artifacts.unpack(release.artifactDigest);
  const config = release.configVersion > 0 ? await deps.store.getConfigVersion(env, release.configVersion) : undefined;
  const secretBundles: Record<string, Record<string, string>> = {};
  for (const [bundle, version] of Object.entries(release.secretVersions)) {
    const v = await deps.store.getSecretVersion(env, bundle, version);
    if (!v) throw new NotFoundError('secret-version-missing', `secret bundle ${bundle} version ${version} pinned by ${release.id} no longer exists`);
    secretBundles[bundle] = JSON.parse(await deps.cipher.decrypt(v.ciphertext));
  }
  const volumeDirs: Record<string, string> = {};
  for (const [name, volume] of Object.entries(release.manifest.volumes ?? {})) {
    volumeDirs[name] = (await deps.volumes.ensure(env, name, volume)).dir;
  }
  return Object.entries(release.manifest.workloads).map(([workloadName, workload]) => ({
    env,
    releaseId: release.id,
    workloadName,
    workload,
    workdir,
    environment: { ...(workload.env ?? {}), ...(config?.values ?? {}) },
    secretBundles,
    volumeDirs,
  }));
}

/** Makes the env's endpoints exactly those of `manifest`, each pointing at the given instances. */
async function pointEndpoints(
  deps: DeployStepDeps,
  env: EnvRef,
  manifest: Manifest,
  instancesOf: (workload: string) => string[],
  operationId: string,
  step: string,
): Promise<void> {
  const declared = manifest.endpoints ?? {};
  const byId = new Map(deps.compute.list(env).map((i) => [i.id, i]));
  for (const [name, endpoint] of Object.entries(declared)) {
    const binding = await deps.endpoints.ensure(env, name, endpoint);
    const targetPort = endpoint.targetPort ?? endpoint.port;
    const targets: EndpointTarget[] = instancesOf(endpoint.workload).flatMap((id) => {
      const address = byId.get(id)?.addresses[targetPort];
      return address ? [{ instance: id, host: address.host, port: address.port }] : [];
    });
    deps.endpoints.setTargets(env, name, targets);
    const where = binding.listeners.map((l) => (l.family === 'IPv6' ? `[${l.address}]:${l.port}` : `${l.address}:${l.port}`)).join(' and ');
    await deps.events.record(env, {
      type: 'endpoint.updated',
      operationId,
      step,
      message: `endpoint ${name}: ${where} → ${targets.length ? targets.map((t) => t.instance).join(', ') : 'no instances'}`,
    });
  }
  for (const existing of deps.endpoints.list(env)) {
    if (!(existing.name in declared)) {
      await deps.endpoints.remove(env, existing.name);
      await deps.events.record(env, { type: 'endpoint.removed', operationId, step, message: `endpoint ${existing.name} removed` });
    }
  }
}

/** Clears the env's active operation (if it is still ours) and applies the final pointers. */
async function releaseEnv(store: StateStore, ref: EnvRef, operationId: string, patch: { currentReleaseId?: string; desiredReleaseId?: string }): Promise<void> {
  for (let attempt = 0; attempt < 5; attempt++) {
    const env = await store.getEnv(ref);
    if (!env) return;
    const mine = env.activeOperationId === operationId;
    try {
      await store.updateEnv(ref, env.version, { ...patch, ...(mine ? { activeOperationId: undefined } : { activeOperationId: env.activeOperationId }) });
      return;
    } catch (err) {
      if (!(err instanceof BerthError && err.category === 'conflict')) throw err;
    }
  }
  throw new BerthError('conflict', 'env-busy', `could not record the outcome of ${operationId}: the env kept changing`);
}

