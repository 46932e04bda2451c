// What ECS says about a service or task, in Berth's terms: why tasks did not start (the service's
// deployment and event messages), and which instance event a task state change is.
import type { Service, Task } from '@aws-sdk/client-ecs';
import { CapacityError, HealthCheckError, PermissionError, TimeoutError, type BerthError } from '../../core/errors.ts';
import type { ComputeEvent } from '../../core/ports.ts';
import { TAG } from './ecs-task-definition.ts';
import { isStopped, stoppedTaskError, tagOf, taskHealth, taskId } from './ecs-task-status.ts';

/** Why `count` tasks of a service did not appear: the circuit breaker, a placement failure, or a timeout. */
export function serviceStartError(service: string, workload: string, count: number, described: Service | undefined): BerthError {
  const next = [`berth logs --workload ${workload}`, 'berth events'];
  const failed = described?.deployments?.find((d) => d.rolloutState === 'FAILED');
  if (failed) {
    // The deployment circuit breaker tripped: tasks kept failing to start or to become healthy.
    return new HealthCheckError('circuit-breaker', `ECS stopped launching instances of workload "${workload}": ${failed.rolloutStateReason ?? 'its tasks kept failing'}; the last instance logs say why`, {
      details: { service, deployment: failed.id, reason: failed.rolloutStateReason },
      next,
    });
  }
  // ECS lists the newest service events first; placement failures are reported only there.
  const messages = (described?.events ?? []).slice(0, 5).map((e) => e.message ?? '');
  const placement = messages.find((m) => /unable to place a task|Capacity is unavailable|insufficient/i.test(m));
  if (placement) return new CapacityError('tasks-not-placed', `ECS could not place instances of workload "${workload}": ${placement}; retry in a few minutes or use a smaller cpu/memory size`, { details: { service, events: messages }, next });
  const denied = messages.find((m) => /not authorized|AccessDenied|unable to assume/i.test(m));
  if (denied) return new PermissionError('tasks-not-permitted', `ECS could not start instances of workload "${workload}": ${denied}; redeploy the stack (npx cdk deploy) to restore its roles`, { details: { service, events: messages }, next: ['npx cdk deploy'] });
  return new TimeoutError('tasks-not-started', `ECS had not started ${count} new instance(s) of workload "${workload}" (service ${service}) in time; it may still be launching them — check berth status`, {
    details: { service, events: messages },
    next: ['berth status', ...next],
  });
}

/** The instance event a task's current state is, or `undefined` for states that are not news. */
export function taskEvent(task: Task): ComputeEvent | undefined {
  const [org, project, app, envName] = ['berth:org', 'berth:project', 'berth:app', 'berth:env'].map((k) => tagOf(task, k));
  if (!org || !project || !app || !envName) return undefined;
  const base = { env: { org, project, app, env: envName }, workload: tagOf(task, TAG.workload) ?? '-', instance: taskId(task.taskArn ?? ''), releaseId: tagOf(task, TAG.release) ?? '-' };
  if (isStopped(task)) {
    if (task.lastStatus !== 'STOPPED') return undefined;
    const crashed = task.stopCode === 'EssentialContainerExited' || task.stopCode === 'TaskFailedToStart';
    return crashed ? { ...base, type: 'instance.crashed', message: stoppedTaskError(task).message } : { ...base, type: 'instance.stopped', message: `stopped (${task.stoppedReason ?? task.stopCode ?? 'stopped'})` };
  }
  if (task.lastStatus !== 'RUNNING') return undefined;
  const health = taskHealth(task);
  if (health === 'healthy') return { ...base, type: 'instance.healthy', message: 'healthy' };
  if (health === 'unhealthy') return { ...base, type: 'instance.unhealthy', message: 'unhealthy: the health check failed' };
  return { ...base, type: 'instance.started', message: 'started' };
}
