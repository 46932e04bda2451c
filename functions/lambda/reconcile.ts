// The EventBridge schedule's target: one sweep over every env per invocation (at most once a
// minute, infra/berth-props.ts). Unlike the embedded loop there is no in-memory schedule to keep
// between invocations, and a sweep a minute is already the low rate the embedded loop sweeps at;
// an env with no release costs one GetItem and no ECS call.
import middy from '@middy/core';
import { Logger } from '@aws-lambda-powertools/logger';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { awsPlatform } from '../aws/platform-deps.ts';
import { settleHealthWaiters } from '../aws/health-waiters.ts';
import { settleRestoreWaiters } from '../aws/restore-waiters.ts';
import { flushPlatformLogs } from './flush-logs.ts';
import { reconcileEnv } from '../reconciler/reconcile-env.ts';

const logger = new Logger({ serviceName: 'berth-reconcile' });

async function run(): Promise<{ envs: number; started: string[]; waiters: number; restores: number }> {
  const { deps, sfn } = awsPlatform();
  // WaitForBatchHealthy waits for ECS events, which can be minutes apart (a large image pull): each
  // pass re-checks the waiting batches and heartbeats the ones still starting, so a wait outlives
  // HeartbeatSeconds (300 s) between events, and a batch whose last event was missed still settles.
  // Without a waiting rollout this is one Query, shared by both kinds of waiter. https://docs.aws.amazon.com/step-functions/latest/apireference/API_SendTaskHeartbeat.html
  const listed = await deps.store.listTaskTokens();
  const waiters = await settleHealthWaiters(deps, sfn, listed);
  // Likewise WaitForVolumeRestore: AWS Backup sends an event when the job starts and ends only.
  const restores = await settleRestoreWaiters(deps, sfn, { listed });
  const envs = await deps.store.listAllEnvs();
  const started: string[] = [];
  for (const ref of envs) {
    try {
      const op = await reconcileEnv(deps, ref);
      if (op) started.push(op);
    } catch (err) {
      logger.error('reconcile failed', { env: ref, error: err as Error });
    }
  }
  logger.info('reconcile pass', { envs: envs.length, started, waiters, restores });
  return { envs: envs.length, started, waiters, restores };
}

export const handler = middy(run).use(injectLambdaContext(logger)).use(flushPlatformLogs(() => awsPlatform().flush()));
