// Reading Fargate tasks back as Berth instances: state, addresses, the release they run, and —
// for a task that stopped — the error category its stop reason means.
//
// ECS reports why a task stopped only as text whose prefix is a documented error name
// (CannotPullContainerError, ResourceInitializationError, OutOfMemoryError, …); those prefixes are
// what is matched here. https://docs.aws.amazon.com/AmazonECS/latest/developerguide/stopped-task-error-codes.html
import type { Task } from '@aws-sdk/client-ecs';
import { HEALTH_DEFAULTS } from '../../contract/manifest.ts';
import { BerthError, CapacityError, ConflictError, HealthCheckError, ImagePullError, PermissionError } from '../../core/errors.ts';
import type { EnvRef, InstanceState, InstanceStatus } from '../../core/ports.ts';
import { APP_CONTAINER, PROBE_CONTAINER, TAG } from './ecs-task-definition.ts';

export const taskId = (arn: string): string => arn.slice(arn.lastIndexOf('/') + 1);

export function tagOf(task: Task, key: string): string | undefined {
  return task.tags?.find((t) => t.key === key)?.value;
}

/** Whether the task carries the env's four tags (a task id from another env is not ours to touch). */
export function belongsTo(task: Task, env: EnvRef): boolean {
  return tagOf(task, 'berth:org') === env.org && tagOf(task, 'berth:project') === env.project && tagOf(task, 'berth:app') === env.app && tagOf(task, 'berth:env') === env.env;
}

const STOPPING = new Set(['DEACTIVATING', 'STOPPING', 'DEPROVISIONING', 'STOPPED']);

export function isStopped(task: Task): boolean {
  return task.desiredStatus === 'STOPPED' || STOPPING.has(task.lastStatus ?? '');
}

/** Healthy: RUNNING and the probe sidecar's check passes (no probe: RUNNING is enough). */
export function taskHealth(task: Task): 'healthy' | 'unhealthy' | 'starting' {
  if (task.lastStatus !== 'RUNNING') return 'starting';
  const probe = task.containers?.find((c) => c.name === PROBE_CONTAINER);
  if (!probe) return 'healthy';
  if (probe.healthStatus === 'HEALTHY') return 'healthy';
  return probe.healthStatus === 'UNHEALTHY' ? 'unhealthy' : 'starting';
}

function stateOf(task: Task): InstanceState {
  if (isStopped(task)) {
    if (task.stopCode === 'EssentialContainerExited' || task.stopCode === 'TaskFailedToStart') return 'crashed';
    return task.lastStatus === 'STOPPED' ? 'stopped' : 'stopping';
  }
  return taskHealth(task);
}

export function instanceStatus(task: Task): InstanceStatus {
  const attachment = task.attachments?.find((a) => a.type === 'ElasticNetworkInterface');
  const detail = (name: string) => attachment?.details?.find((d) => d.name === name)?.value;
  // Endpoints target IPv6 (the target groups are IPv6); IPv4 only where the subnet has no IPv6.
  const host = detail('ipv6Address') ?? detail('privateIPv4Address');
  const ports = (tagOf(task, TAG.ports) ?? '').split(' ').filter(Boolean).map(Number);
  const addresses: InstanceStatus['addresses'] = {};
  if (host) for (const port of ports) addresses[port] = { host, port };
  const state = stateOf(task);
  const app = task.containers?.find((c) => c.name === APP_CONTAINER);
  return {
    id: taskId(task.taskArn ?? ''),
    workload: tagOf(task, TAG.workload) ?? '-',
    releaseId: tagOf(task, TAG.release) ?? '-',
    revision: tagOf(task, TAG.revision) ?? '-',
    state,
    startedAt: (task.startedAt ?? task.createdAt ?? new Date(0)).toISOString(),
    // ECS replaces a crashed task with a new one (a new id) rather than restarting it.
    restarts: 0,
    addresses,
    ...(state === 'crashed' ? { restartScheduled: false, lastExit: { code: app?.exitCode ?? null, signal: null, at: (task.stoppedAt ?? task.stoppingAt ?? new Date()).toISOString() } } : {}),
  };
}

/** Why a task that stopped before it became healthy failed, as a Berth error. */
export function stoppedTaskError(task: Task): BerthError {
  const id = taskId(task.taskArn ?? '');
  const workload = tagOf(task, TAG.workload) ?? '?';
  const app = task.containers?.find((c) => c.name === APP_CONTAINER);
  const reasons = [task.stoppedReason, ...(task.containers ?? []).map((c) => c.reason)].filter((r): r is string => Boolean(r));
  const text = reasons.join('; ') || `stop code ${task.stopCode ?? 'unknown'}`;
  const what = `instance ${id} of workload "${workload}"`;
  const options = { details: { instance: id, workload, stopCode: task.stopCode, reasons, exitCode: app?.exitCode }, next: [`berth logs --instance ${id}`, 'berth events'] };
  if (/CannotPullContainerError|CannotPullImageManifestError|ImageNotFound/.test(text)) {
    return new ImagePullError('image-pull-failed', `${what} could not pull its image ${app?.image ?? ''}: ${text}; check the image name and tag, and that the registry is reachable from the VPC (IPv6 or VPC endpoints)`, options);
  }
  if (/AccessDenied|not authorized/.test(text)) {
    return new PermissionError('task-access-denied', `${what} was refused a permission while starting: ${text}; the task execution role needs it — redeploy the stack (npx cdk deploy)`, options);
  }
  if (/ResourceInitializationError|Capacity is unavailable|InsufficientCapacity|SpotInterruption/.test(text) || task.stopCode === 'SpotInterruption') {
    return new CapacityError('task-not-placed', `${what} could not be set up by Fargate: ${text}; retry in a few minutes, or check that the subnets have free addresses and a route to ECR, Secrets Manager and CloudWatch`, options);
  }
  if (/OutOfMemoryError/.test(text)) {
    return new CapacityError('out-of-memory', `${what} ran out of memory: ${text}; give the workload more memory (berth scale --memory …)`, { ...options, next: ['berth scale --help', ...options.next] });
  }
  if (/health check/i.test(text)) {
    return new HealthCheckError('health-check-failed', `${what} failed its health check: ${text}; make the app answer the probe on $PORT, or raise healthCheck.deadlineSeconds`, options);
  }
  if (task.stopCode === 'EssentialContainerExited' || task.stopCode === 'TaskFailedToStart') {
    const exit = app?.exitCode !== undefined ? ` (exit code ${app.exitCode})` : '';
    return new HealthCheckError('exited-before-healthy', `${what} exited before it became healthy${exit}: ${text}; its last log lines say why`, options);
  }
  if (task.stopCode === 'UserInitiated' || task.stopCode === 'ServiceSchedulerInitiated') {
    return new ConflictError('instance-stopped', `${what} was stopped while waiting for it to become healthy (${text}); another change to the env is probably under way`, { ...options, next: ['berth status'] });
  }
  return new BerthError('internal', 'task-stopped', `${what} stopped: ${text}`, options);
}

export function neverHealthy(task: Task, deadlineSeconds: number): HealthCheckError {
  const id = taskId(task.taskArn ?? '');
  const workload = tagOf(task, TAG.workload) ?? '?';
  const where = task.lastStatus === 'RUNNING' ? 'its health check never passed' : `it was still ${task.lastStatus ?? 'starting'} (provisioning or pulling its image)`;
  return new HealthCheckError('never-healthy', `instance ${id} of workload "${workload}" was not healthy within ${deadlineSeconds}s: ${where}; make the app answer the probe on $PORT, or raise healthCheck.deadlineSeconds if it needs longer to start`, {
    details: { instance: id, workload, lastStatus: task.lastStatus, healthStatus: task.healthStatus, deadlineSeconds },
    next: [`berth logs --instance ${id}`],
  });
}

/** How long Fargate may take to place a task and pull its image before the health deadline starts. */
export const PROVISIONING_ALLOWANCE_SECONDS = 300;

export interface HealthSummary {
  allHealthy: boolean;
  /** Instance ids not healthy yet (and not failed). Optional, so `{ allHealthy: true }` is a summary too. */
  pending?: string[];
  /** The first failure: a stopped task, or one past its health deadline. */
  failed?: BerthError;
}

/** Where a set of instances stands, from one DescribeTasks answer; `now` judges the deadlines. */
export function healthSummary(ids: string[], tasks: Task[], now: number): HealthSummary {
  const byId = new Map(tasks.map((t) => [taskId(t.taskArn ?? ''), t]));
  const pending: string[] = [];
  for (const id of ids) {
    const task = byId.get(id);
    if (!task) {
      const failed = new ConflictError('instance-gone', `instance ${id} no longer exists (ECS forgets stopped tasks after about an hour); another change to the env probably replaced it`, {
        details: { instance: id },
        next: ['berth status'],
      });
      return { allHealthy: false, pending, failed };
    }
    if (isStopped(task)) return { allHealthy: false, pending, failed: stoppedTaskError(task) };
    if (taskHealth(task) === 'healthy') continue;
    const deadline = Number(tagOf(task, TAG.deadline) ?? HEALTH_DEFAULTS.deadlineSeconds);
    // The deadline counts from the container's start, as embedded mode counts from the spawn;
    // provisioning and the image pull get an allowance of their own before that.
    const since = (task.startedAt ?? task.createdAt ?? new Date(now)).getTime();
    const budget = (deadline + (task.startedAt ? 0 : PROVISIONING_ALLOWANCE_SECONDS)) * 1000;
    if (now - since > budget) return { allHealthy: false, pending, failed: neverHealthy(task, deadline) };
    pending.push(id);
  }
  return { allHealthy: pending.length === 0, pending };
}
