// On AWS, WaitForBatchHealthy is a .waitForTaskToken Task: the step stores its token and returns;
// every ECS event (through EventBridge) re-checks the waiting batches and completes the token when
// the tasks are healthy, or fails it with the category the driver read from ECS. No polling loop
// holds a Lambda; HeartbeatSeconds/TimeoutSeconds on the Task bound the wait.
import type { SFNClient } from '@aws-sdk/client-sfn';
import { SendTaskHeartbeatCommand } from '@aws-sdk/client-sfn';
import type { PlatformDeps } from '../core/services/deps.ts';
import type { TaskTokenWaiter } from '../core/state-store.ts';
import type { EcsComputeDriver } from '../drivers/aws/ecs-compute.ts';
import { isEndedTask, sendTaskResult } from '../drivers/aws/sfn-orchestrator.ts';
import type { StepInput } from '../reconciler/step-kit.ts';

export async function registerHealthWaiter(deps: PlatformDeps, sfn: SFNClient, input: StepInput): Promise<void> {
  const { operation: op } = input;
  const waiter: TaskTokenWaiter = {
    token: input.taskToken!,
    env: { org: op.org, project: op.project, app: op.app, env: op.env },
    operationId: op.operationId,
    instances: input.instances ?? [],
    createdAt: new Date().toISOString(),
  };
  await deps.store.putTaskToken(waiter);
  // The tasks may be healthy already (or the batch empty): settle at once instead of waiting for an event.
  await settle(deps, sfn, waiter);
}

/** `listed`: the waiters the caller has just listed (the reconcile pass lists once for both kinds). */
export async function settleHealthWaiters(deps: PlatformDeps, sfn: SFNClient, listed?: TaskTokenWaiter[]): Promise<number> {
  // Restore waiters share the table; aws/restore-waiters.ts settles those.
  const waiters = (listed ?? (await deps.store.listTaskTokens())).filter((w) => !w.restoreJobId);
  for (const waiter of waiters) await settle(deps, sfn, waiter);
  return waiters.length;
}

async function settle(deps: PlatformDeps, sfn: SFNClient, waiter: TaskTokenWaiter): Promise<void> {
  const health = waiter.instances.length ? await (deps.compute as EcsComputeDriver).healthOf(waiter.env, waiter.instances) : { allHealthy: true };
  if (health.allHealthy || health.failed) {
    await sendTaskResult(sfn, waiter.token, health.failed ?? { healthy: waiter.instances });
    await deps.store.deleteTaskToken(waiter.token);
    return;
  }
  await sfn.send(new SendTaskHeartbeatCommand({ taskToken: waiter.token })).catch(async (err: unknown) => {
    // The execution is gone (timed out, stopped): nobody waits for this token any more.
    if (isEndedTask(err)) await deps.store.deleteTaskToken(waiter.token);
    else throw err;
  });
}
