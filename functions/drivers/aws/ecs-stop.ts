// Stopping chosen tasks of a service. Lowering desiredCount alone lets ECS pick which tasks go;
// StopTask alone lets the service start replacements. So: protect the tasks that stay from
// scale-in, lower desiredCount, stop the chosen tasks, lift the protection. A service left with
// no task is deleted (its task definition stays: it is the release's record).
// https://docs.aws.amazon.com/AmazonECS/latest/developerguide/task-scale-in-protection.html
import { DeleteServiceCommand, ListTasksCommand, StopTaskCommand, UpdateServiceCommand, UpdateTaskProtectionCommand, type ECSClient, type Service, type Task } from '@aws-sdk/client-ecs';
import { attempt, isAwsError } from './aws-errors.ts';
import { chunks } from './poll.ts';

export async function stopServiceTasks(ecs: ECSClient, cluster: string, service: string, stopping: Task[], current: Service | undefined): Promise<void> {
  const stopArns = new Set(stopping.map((t) => t.taskArn!));
  let keep: string[] = [];
  let desiredCount: number | undefined;
  if (current?.status === 'ACTIVE') {
    const running = (await attempt(`list tasks of ${service}`, () => ecs.send(new ListTasksCommand({ cluster, serviceName: service, desiredStatus: 'RUNNING' })))).taskArns ?? [];
    keep = running.filter((arn) => !stopArns.has(arn));
    desiredCount = Math.max(0, (current.desiredCount ?? 0) - running.filter((arn) => stopArns.has(arn)).length);
    if (desiredCount > 0 && keep.length) await protect(ecs, cluster, keep, true);
    await attempt(`scale down ECS service ${service}`, () => ecs.send(new UpdateServiceCommand({ cluster, service, desiredCount })));
  }
  for (const arn of stopArns) {
    await attempt(`stop task ${arn}`, () => ecs.send(new StopTaskCommand({ cluster, task: arn, reason: 'Stopped by Berth: replaced, scaled in, or undoing a failed operation' })));
  }
  if (desiredCount === 0) {
    await attempt(
      `delete ECS service ${service}`,
      () => ecs.send(new DeleteServiceCommand({ cluster, service, force: true })),
      (err) => {
        // Deleted by a concurrent stop already: the goal is reached.
        if (isAwsError(err, 'ServiceNotFoundException', 'ServiceNotActiveException')) return undefined;
        throw err;
      },
    );
  } else if (desiredCount !== undefined && keep.length) {
    await protect(ecs, cluster, keep, false);
  }
}

async function protect(ecs: ECSClient, cluster: string, tasks: string[], on: boolean): Promise<void> {
  // UpdateTaskProtection takes at most 10 tasks; the protection expires by itself should Berth die in between.
  for (const batch of chunks(tasks, 10)) {
    await attempt(`${on ? 'protect' : 'unprotect'} tasks from scale-in`, () =>
      ecs.send(new UpdateTaskProtectionCommand({ cluster, tasks: batch, protectionEnabled: on, ...(on ? { expiresInMinutes: 10 } : {}) })),
    );
  }
}
