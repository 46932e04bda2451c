// EventBridge → "Step Functions Execution Status Change" (FAILED, TIMED_OUT, ABORTED) of the Berth
// state machines → fails the operation and frees its env when the execution ended outside every
// step handler, as the embedded LocalOrchestrator does (reconciler/unrecorded-failure.ts).
import middy from '@middy/core';
import { Logger } from '@aws-lambda-powertools/logger';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import type { EventBridgeEvent } from 'aws-lambda';
import { readExecutionEnd, type ExecutionStatusDetail } from '../aws/execution-status.ts';
import { awsPlatform } from '../aws/platform-deps.ts';
import { failUnrecorded } from '../reconciler/unrecorded-failure.ts';
import { flushPlatformLogs } from './flush-logs.ts';

const logger = new Logger({ serviceName: 'berth-execution-events' });

async function run(event: EventBridgeEvent<string, ExecutionStatusDetail>): Promise<{ recorded: boolean }> {
  const end = readExecutionEnd(event.detail ?? {});
  if ('ignored' in end) {
    logger.warn('execution event ignored', { reason: end.ignored, executionArn: event.detail?.executionArn });
    return { recorded: false };
  }
  const { deps } = awsPlatform();
  const recorded = await failUnrecorded(deps, end.ref, end.operationId, end);
  logger.info('execution ended', { operationId: end.operationId, status: end.status, recorded });
  return { recorded };
}

export const handler = middy(run).use(injectLambdaContext(logger)).use(flushPlatformLogs(() => awsPlatform().flush()));
