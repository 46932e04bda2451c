// EventBridge → AWS Backup "Restore Job State Change" events → completes the WaitForVolumeRestore
// step waiting for that restore job (see aws/restore-waiters.ts).
import middy from '@middy/core';
import { Logger } from '@aws-lambda-powertools/logger';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import type { EventBridgeEvent } from 'aws-lambda';
import { awsPlatform } from '../aws/platform-deps.ts';
import { settleRestoreWaiters } from '../aws/restore-waiters.ts';
import { flushPlatformLogs } from './flush-logs.ts';

const logger = new Logger({ serviceName: 'berth-backup-events' });

/** The fields of the event Berth reads (https://docs.aws.amazon.com/aws-backup/latest/devguide/eventbridge.html). */
interface RestoreJobDetail {
  restoreJobId?: string;
  status?: string;
}

async function run(event: EventBridgeEvent<string, RestoreJobDetail>): Promise<{ waiters: number }> {
  const jobId = event.detail?.restoreJobId;
  if (!jobId) {
    logger.warn('backup event without a restore job id ignored', { detailType: event['detail-type'] });
    return { waiters: 0 };
  }
  const { deps, sfn } = awsPlatform();
  const waiters = await settleRestoreWaiters(deps, sfn, { jobId });
  logger.info('restore job event', { restoreJobId: jobId, status: event.detail.status, waiters });
  return { waiters };
}

export const handler = middy(run).use(injectLambdaContext(logger)).use(flushPlatformLogs(() => awsPlatform().flush()));
