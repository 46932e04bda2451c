// EventBridge → ECS task, service and deployment events of the Berth cluster → completes the
// waiting rollout steps (see aws/health-waiters.ts).
import middy from '@middy/core';
import { Logger } from '@aws-lambda-powertools/logger';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import type { EventBridgeEvent } from 'aws-lambda';
import { awsPlatform } from '../aws/platform-deps.ts';
import { flushPlatformLogs } from './flush-logs.ts';
import { settleHealthWaiters } from '../aws/health-waiters.ts';

const logger = new Logger({ serviceName: 'berth-ecs-events' });

async function run(event: EventBridgeEvent<string, Record<string, unknown>>): Promise<{ waiters: number }> {
  const { deps, sfn } = awsPlatform();
  const waiters = await settleHealthWaiters(deps, sfn);
  logger.info('ecs event', { detailType: event['detail-type'], waiters });
  return { waiters };
}

export const handler = middy(run).use(injectLambdaContext(logger)).use(flushPlatformLogs(() => awsPlatform().flush()));
