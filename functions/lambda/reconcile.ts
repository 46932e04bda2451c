// The EventBridge schedule's target: one sweep over every env per invocation (at most once a
// minute, infra/berth-props.ts). Unlike the embedded loop there is no in-memory schedule to keep
// between invocations, and a sweep a minute is already the low rate the embedded loop sweeps at;
// an env with no release costs one GetItem and no ECS call.
import middy from '@middy/core';
import { Logger } from '@aws-lambda-powertools/logger';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { awsPlatform } from '../aws/platform-deps.ts';
import { flushPlatformLogs } from './flush-logs.ts';
import { reconcileEnv } from '../reconciler/reconcile-env.ts';

const logger = new Logger({ serviceName: 'berth-reconcile' });

async function run(): Promise<{ envs: number; started: string[] }> {
  const { deps } = awsPlatform();
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
  logger.info('reconcile pass', { envs: envs.length, started });
  return { envs: envs.length, started };
}

export const handler = middy(run).use(injectLambdaContext(logger)).use(flushPlatformLogs(() => awsPlatform().flush()));
