// Env create and destroy run the `env` state machine (provision; or stop everything and close
// every endpoint), so both are sagas with compensation like every other mutation.
import type { EnvDestroyReceipt } from '../../contract/responses.ts';
import { BerthError } from '../errors.ts';
import type { Env } from '../model.ts';
import type { EnvRef } from '../ports.ts';
import type { Actor, PlatformDeps } from './deps.ts';
import { createEnv, requireEnv } from './hierarchy.ts';
import { envLabel, startOperation } from './operations.ts';

const ENV_READY_WAIT_MS = 10_000;

export async function createEnvWithResources(deps: PlatformDeps, ref: EnvRef, actor: Actor): Promise<{ env: Env; operationId: string }> {
  const env = await createEnv(deps.store, ref, actor);
  const operationId = await startOperation(deps, env, { kind: 'env-create', prepare: async (opId) => ({ releaseId: '', acceptedMessage: `env-create ${opId} accepted: ${envLabel(ref)} by ${actor.name}` }) }, actor);
  // Provisioning is quick (embedded: nothing; AWS: a log group); answering once it is done means
  // the next command never meets a busy env. A slow one still answers, with the operation to watch.
  const deadline = Date.now() + ENV_READY_WAIT_MS;
  let op = await deps.store.getOperation(ref, operationId);
  while (op?.status === 'running' && Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 20));
    op = await deps.store.getOperation(ref, operationId);
  }
  if (op?.status === 'failed' && op.error) {
    throw new BerthError(op.error.category, op.error.code, `env ${envLabel(ref)} could not be created: ${op.error.message}`, { details: { operationId, step: op.error.step }, next: [...op.error.next, `berth envs create ${ref.env}`] });
  }
  return { env: (await deps.store.getEnv(ref)) ?? env, operationId };
}

/**
 * Volumes are user data: an env destroy keeps them (their storage stays, detached from the network)
 * unless `purgeVolumes` asks for them to go too.
 */
export async function destroyEnv(deps: PlatformDeps, ref: EnvRef, actor: Actor, options: { purgeVolumes?: boolean } = {}): Promise<EnvDestroyReceipt> {
  const env = await requireEnv(deps.store, ref);
  const purgeVolumes = options.purgeVolumes === true;
  const operationId = await startOperation(
    deps,
    env,
    {
      kind: 'env-destroy',
      previousReleaseId: env.currentReleaseId,
      destroy: { purgeVolumes },
      prepare: async (opId) => ({ releaseId: env.currentReleaseId ?? '', acceptedMessage: `env-destroy ${opId} accepted: ${envLabel(ref)} by ${actor.name}${purgeVolumes ? ' (volumes purged)' : ''}` }),
    },
    actor,
  );
  const volumes = Object.keys(env.volumes ?? {}).sort();
  return { accepted: true, env: envLabel(ref), operationId, volumes: { names: volumes, purged: purgeVolumes }, next: [`berth wait ${operationId}`, 'berth envs list'] };
}
