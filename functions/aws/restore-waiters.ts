// On AWS, WaitForVolumeRestore is a .waitForTaskToken Task: the step stores its token with the
// AWS Backup restore job it waits for and returns; the job's "Restore Job State Change" event
// (EventBridge → backup-events Lambda) completes the token when the job completed, or fails it
// when it failed. The scheduled reconcile re-checks the waiting restores each minute, heartbeats
// the ones still running (HeartbeatSeconds on the Task) and settles one whose event was missed.
import type { SFNClient } from '@aws-sdk/client-sfn';
import { SendTaskHeartbeatCommand } from '@aws-sdk/client-sfn';
import { BerthError } from '../core/errors.ts';
import type { PlatformDeps } from '../core/services/deps.ts';
import type { TaskTokenWaiter } from '../core/state-store.ts';
import { isEndedTask, sendTaskResult } from '../drivers/aws/sfn-orchestrator.ts';
import type { StepInput } from '../reconciler/step-kit.ts';

export async function registerRestoreWaiter(deps: PlatformDeps, sfn: SFNClient, input: StepInput): Promise<void> {
  const { operation: op } = input;
  if (!input.restoreJobId) throw new Error(`WaitForVolumeRestore of ${op.operationId} got no restoreJobId`);
  const waiter: TaskTokenWaiter = {
    token: input.taskToken!,
    env: { org: op.org, project: op.project, app: op.app, env: op.env },
    operationId: op.operationId,
    instances: [],
    restoreJobId: input.restoreJobId,
    createdAt: new Date().toISOString(),
  };
  await deps.store.putTaskToken(waiter);
  // The job may have ended already (a retried step, a small volume): settle now rather than wait for an event.
  await settle(deps, sfn, waiter);
}

/**
 * Settles the waiters of `jobId` (an event), or of every restore job (the reconcile pass, passing the
 * waiters it has `listed` already); how many it looked at.
 */
export async function settleRestoreWaiters(deps: PlatformDeps, sfn: SFNClient, { jobId, listed }: { jobId?: string; listed?: TaskTokenWaiter[] } = {}): Promise<number> {
  const waiters = (listed ?? (await deps.store.listTaskTokens())).filter((w) => w.restoreJobId && (!jobId || w.restoreJobId === jobId));
  for (const waiter of waiters) await settle(deps, sfn, waiter);
  return waiters.length;
}

async function settle(deps: PlatformDeps, sfn: SFNClient, waiter: TaskTokenWaiter): Promise<void> {
  const restores = deps.volumes.stagedRestore;
  if (!restores) throw new Error('a restore waiter on a platform whose volume driver stages no restores');
  const job = await restores.status(waiter.restoreJobId!);
  if (job.status !== 'running') {
    const result =
      job.status === 'completed'
        ? { restoreJobId: waiter.restoreJobId! }
        : new BerthError('internal', 'restore-job-failed', `${job.message}; the volume's data is unchanged (nothing was swapped in)`, { next: ['berth events', 'berth volumes snapshots'] });
    await sendTaskResult(sfn, waiter.token, result);
    await deps.store.deleteTaskToken(waiter.token);
    return;
  }
  await sfn.send(new SendTaskHeartbeatCommand({ taskToken: waiter.token })).catch(async (err: unknown) => {
    // The execution is gone (timed out, cancelled): nobody waits for this token any more.
    if (isEndedTask(err)) await deps.store.deleteTaskToken(waiter.token);
    else throw err;
  });
}
