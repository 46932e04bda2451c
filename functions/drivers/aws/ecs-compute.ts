// AWS compute: one ECS service on Fargate per (workload, revision), named from the env and the
// revision, so a rollout is two services side by side whose desired counts move in batches, and
// a rollback starts the previous revision's service again. Instances are Fargate tasks (their id
// is the task id). ECS events reach the platform through EventBridge; `healthOf` is what the
// ECS-event Lambda asks to decide a waiting rollout step.
import {
  ClientException,
  CreateServiceCommand,
  DeleteServiceCommand,
  DescribeServicesCommand,
  DescribeTaskDefinitionCommand,
  DescribeTasksCommand,
  ListServicesCommand,
  ListTasksCommand,
  RegisterTaskDefinitionCommand,
  UpdateServiceCommand,
  type ECSClient,
  type Service,
  type Task,
} from '@aws-sdk/client-ecs';
import type { CloudWatchLogsClient } from '@aws-sdk/client-cloudwatch-logs';
import type { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { ConflictError, InvalidInputError, NotFoundError } from '../../core/errors.ts';
import type { ComputeDriver, ComputeEvent, EnvRef, InstanceSpec, InstanceStatus } from '../../core/ports.ts';
import { attempt, isAwsError } from './aws-errors.ts';
import { ensureLogGroup } from './cloudwatch-logs.ts';
import type { AwsRuntimeConfig } from './config.ts';
import { stopServiceTasks } from './ecs-stop.ts';
import { deleteSecretBundles, ensureSecretBundles } from './ecs-secrets.ts';
import { serviceStartError, taskEvent } from './ecs-service-events.ts';
import { taskDefinitionInput, workloadTags } from './ecs-task-definition.ts';
import { belongsTo, healthSummary, instanceStatus, taskId, type HealthSummary } from './ecs-task-status.ts';
import { chunks, pollUntil, realClock, type Clock, type PollTiming } from './poll.ts';
import { ecsTags, serviceName, servicePrefix } from './tags.ts';
import { parseVolumeRef, type EfsVolumeRef } from './volume-ref.ts';
import { assertDualStackIpv6 } from './ecs-account-settings.ts';

export interface EcsComputeClients {
  ecs: ECSClient;
  secrets: SecretsManagerClient;
  /**
   * When given, the env's log group is created (tagged, with retention) before the first task logs
   * to it; without it the awslogs driver creates the group itself, untagged and kept forever.
   */
  logs?: CloudWatchLogsClient;
}

export interface EcsComputeOptions {
  clock?: Clock;
  /** How long `startInstances` waits for ECS to launch the new tasks. @default 5 s interval, 120 s bound */
  startTiming?: PollTiming;
  /** How often `waitHealthy` polls DescribeTasks; the bound is each task's health deadline. @default 5000 */
  healthPollMs?: number;
  /** How long `stopInstances` waits for the tasks to stop. @default 5 s interval, 180 s bound */
  stopTiming?: PollTiming;
  /**
   * Check the dualStackIPv6 account setting before starting instances with ports (the ones an
   * endpoint can target), so its absence fails with the fix, not later as an IPv4-only target.
   * @default false (the composition root, functions/aws/platform-deps.ts, turns it on)
   */
  checkDualStackIpv6?: boolean;
}

export class EcsComputeDriver implements ComputeDriver {
  private readonly ecs: ECSClient;
  private readonly clock: Clock;
  private readonly checkDualStackIpv6: boolean;
  private readonly startTiming: PollTiming;
  private readonly healthPollMs: number;
  private readonly stopTiming: PollTiming;
  private readonly listeners = new Set<(event: ComputeEvent) => void>();

  constructor(
    private readonly clients: EcsComputeClients,
    private readonly config: AwsRuntimeConfig,
    options: EcsComputeOptions = {},
  ) {
    this.ecs = clients.ecs;
    this.clock = options.clock ?? realClock;
    this.startTiming = options.startTiming ?? { intervalMs: 5000, timeoutMs: 120_000 };
    this.healthPollMs = options.healthPollMs ?? 5000;
    this.checkDualStackIpv6 = options.checkDualStackIpv6 ?? false;
    this.stopTiming = options.stopTiming ?? { intervalMs: 5000, timeoutMs: 180_000 };
  }

  async startInstances(spec: InstanceSpec, count: number): Promise<string[]> {
    if (count <= 0) return [];
    if (spec.singleWriter && count > 1) throw singleWriterRefusal(spec, count);
    const name = serviceName(spec.env, spec.workloadName, spec.revision);
    const volumes = volumeRefs(spec);
    const subnets = this.subnetsFor(spec, volumes);
    if (this.checkDualStackIpv6 && spec.workload.ports?.length) await assertDualStackIpv6(this.ecs, this.config.region);
    if (this.clients.logs) await ensureLogGroup(this.clients.logs, this.config, spec.env);
    const taskDefinition = await this.ensureTaskDefinition(spec, name, volumes);
    const service = await this.activeService(name);
    const before = new Set(service ? await this.taskArns(name) : []);
    if (!service) {
      const input = { ...this.serviceSettings(spec), serviceName: name, taskDefinition, desiredCount: count, launchType: 'FARGATE' as const, platformVersion: 'LATEST', networkConfiguration: this.network(subnets) };
      await attempt(`create ECS service ${name}`, () => this.ecs.send(new CreateServiceCommand(input)));
    } else {
      // Tasks ECS is still launching count toward the batch, so a repeated step does not double it.
      const desiredCount = Math.max(service.desiredCount ?? 0, before.size + count);
      if (spec.singleWriter && desiredCount > 1) throw singleWriterRefusal(spec, desiredCount);
      const { tags: _tags, ...settings } = this.serviceSettings(spec);
      await attempt(`scale ECS service ${name}`, () => this.ecs.send(new UpdateServiceCommand({ ...settings, service: name, desiredCount })));
    }
    const started = await pollUntil(this.startTiming, this.clock, async () => {
      const fresh = (await this.taskArns(name)).filter((arn) => !before.has(arn));
      return fresh.length >= count ? fresh.slice(0, count).map(taskId) : undefined;
    });
    if (started) return started;
    throw serviceStartError(name, spec.workloadName, count, await this.describeService(name));
  }

  async waitHealthy(env: EnvRef, instanceIds: string[]): Promise<void> {
    for (;;) {
      const summary = await this.healthOf(env, instanceIds);
      if (summary.failed) throw summary.failed;
      if (summary.allHealthy) return;
      await this.clock.sleep(this.healthPollMs);
    }
  }

  /** One look at the instances: all healthy, still pending, or failed with a categorised error. */
  async healthOf(env: EnvRef, instanceIds: string[]): Promise<HealthSummary> {
    const tasks = await this.describeTasks(instanceIds);
    const foreign = tasks.find((t) => !belongsTo(t, env));
    if (foreign) throw notInEnv(env, taskId(foreign.taskArn ?? ''));
    return healthSummary(instanceIds, tasks, this.clock.now());
  }

  async stopInstances(env: EnvRef, instanceIds: string[]): Promise<void> {
    if (!instanceIds.length) return;
    // Unknown or already stopped ids are gone already: stopping is idempotent (compensation relies on it).
    const tasks = (await this.describeTasks(instanceIds)).filter((t) => belongsTo(t, env) && t.desiredStatus !== 'STOPPED');
    const byService = new Map<string, Task[]>();
    for (const task of tasks) {
      const service = task.group?.startsWith('service:') ? task.group.slice('service:'.length) : undefined;
      if (service) byService.set(service, [...(byService.get(service) ?? []), task]);
    }
    for (const [service, stopping] of byService) await stopServiceTasks(this.ecs, this.config.clusterArn, service, stopping, await this.describeService(service));
    const ids = tasks.map((t) => taskId(t.taskArn ?? ''));
    const gone = await pollUntil(this.stopTiming, this.clock, async () => ((await this.describeTasks(ids)).every((t) => t.lastStatus === 'DEPROVISIONING' || t.lastStatus === 'STOPPED') ? true : undefined));
    if (!gone) {
      throw new ConflictError('instances-still-stopping', `instances ${ids.join(', ')} were told to stop but are still running after ${this.stopTiming.timeoutMs / 1000}s; ECS keeps stopping them — check again with berth status`, {
        details: { instances: ids },
        next: ['berth status'],
      });
    }
  }

  async list(env: EnvRef): Promise<InstanceStatus[]> {
    const arns: string[] = [];
    for (const service of await this.serviceNames(env)) arns.push(...(await this.taskArns(service)));
    const tasks = await this.describeTasks(arns.map(taskId));
    return tasks.filter((t) => belongsTo(t, env)).map(instanceStatus).sort((a, b) => a.startedAt.localeCompare(b.startedAt) || a.id.localeCompare(b.id));
  }

  /**
   * Env destroy, after every instance stopped: a service still listed (left at zero by a stop that
   * crashed before its delete) is deleted, and so are the Secrets Manager copies of the env's
   * secret bundles. Task definitions stay (a release's record; INACTIVE ones cost nothing), and so
   * does the log group (history, expiring by its retention).
   */
  async destroyEnv(env: EnvRef): Promise<void> {
    for (const service of await this.serviceNames(env)) {
      const current = await this.describeService(service);
      if (current?.status !== 'ACTIVE') continue;
      await attempt(
        `delete ECS service ${service}`,
        () => this.ecs.send(new DeleteServiceCommand({ cluster: this.config.clusterArn, service, force: true })),
        (err) => {
          if (isAwsError(err, 'ServiceNotFoundException', 'ServiceNotActiveException')) return undefined;
          throw err;
        },
      );
    }
    await deleteSecretBundles(this.clients.secrets, env);
  }

  onEvent(listener: (event: ComputeEvent) => void): () => void {
    this.listeners.add(listener);
    return () => {
      this.listeners.delete(listener);
    };
  }

  /**
   * Turns an ECS "Task State Change" (EventBridge) into a ComputeEvent for the listeners; the
   * ECS-event Lambda calls it with the event's task ARN. Resolves with the event, if any.
   */
  async reportTaskChange(taskArn: string): Promise<ComputeEvent | undefined> {
    const [task] = await this.describeTasks([taskId(taskArn)]);
    const event = task ? taskEvent(task) : undefined;
    if (event) for (const listener of [...this.listeners]) listener(event);
    return event;
  }

  /** Nothing to stop: on AWS the services outlive the platform's Lambdas by design. */
  async shutdown(): Promise<void> {}

  private serviceSettings(spec: InstanceSpec) {
    return {
      cluster: this.config.clusterArn,
      deploymentConfiguration: {
        // Rollback is Berth's (a state machine's compensation), so ECS only stops relaunching failing tasks.
        deploymentCircuitBreaker: { enable: true, rollback: false },
        // A single-writer volume's task is never doubled, not even while ECS replaces it: the old
        // one stops first (https://docs.aws.amazon.com/AmazonECS/latest/developerguide/service_definition_parameters.html#sd-deploymentconfiguration).
        ...(spec.singleWriter ? { maximumPercent: 100, minimumHealthyPercent: 0 } : { maximumPercent: 200, minimumHealthyPercent: 100 }),
      },
      enableExecuteCommand: true,
      propagateTags: 'SERVICE' as const,
      enableECSManagedTags: true,
      // Berth decides which task stops; ECS moving tasks between zones would change instance ids under it.
      availabilityZoneRebalancing: 'DISABLED' as const,
      tags: ecsTags(spec.env, workloadTags(spec)),
    };
  }

  private network(subnets: string[]) {
    return {
      awsvpcConfiguration: {
        subnets,
        securityGroups: [this.config.taskSecurityGroupId],
        // See AwsRuntimeConfig.assignPublicIp: IPv6 egress by default, no public IPv4 charge.
        assignPublicIp: this.config.assignPublicIp ? ('ENABLED' as const) : ('DISABLED' as const),
      },
    };
  }

  /** All the configured subnets, or only the zone of the One Zone volumes the workload mounts. */
  private subnetsFor(spec: InstanceSpec, volumes: Record<string, EfsVolumeRef>): string[] {
    const zones = [...new Set(Object.values(volumes).flatMap((v) => (v.zone ? [v.zone] : [])))];
    if (zones.length > 1) {
      throw new InvalidInputError('volumes-in-different-zones', `workload "${spec.workloadName}" mounts One Zone volumes in ${zones.join(' and ')}; a task runs in one zone, so mount volumes of one zone (or regional ones)`, {
        details: { workload: spec.workloadName, zones },
      });
    }
    const subnets = this.config.taskSubnets.filter((s) => !zones.length || s.az === zones[0]).map((s) => s.id);
    if (!subnets.length) {
      throw new InvalidInputError('zone-without-subnet', `workload "${spec.workloadName}" mounts a volume in ${zones[0]}, but the Berth VPC has no subnet there (zones: ${this.config.taskSubnets.map((s) => s.az).join(', ')}); recreate the volume in one of those zones`, {
        details: { zone: zones[0], subnets: this.config.taskSubnets },
      });
    }
    return subnets;
  }

  /** The revision's task definition: reused when registered before (re-registering adds revisions). */
  private async ensureTaskDefinition(spec: InstanceSpec, family: string, volumes: Record<string, EfsVolumeRef>): Promise<string> {
    const existing = await attempt(
      `describe task definition ${family}`,
      async () => (await this.ecs.send(new DescribeTaskDefinitionCommand({ taskDefinition: family }))).taskDefinition,
      (err) => {
        // ECS answers a family it has never seen with a ClientException.
        if (err instanceof ClientException) return undefined;
        throw err;
      },
    );
    if (existing?.status === 'ACTIVE' && existing.taskDefinitionArn) return existing.taskDefinitionArn;
    const secretValueFrom = await ensureSecretBundles(this.clients.secrets, this.config, spec.env, spec.secretBundles);
    const input = taskDefinitionInput(spec, this.config, { family, secretValueFrom, volumes, createLogGroup: !this.clients.logs });
    const registered = await attempt(`register task definition ${family}`, () => this.ecs.send(new RegisterTaskDefinitionCommand(input)));
    return registered.taskDefinition!.taskDefinitionArn!;
  }

  private async describeService(name: string): Promise<Service | undefined> {
    const out = await attempt(`describe ECS service ${name}`, () => this.ecs.send(new DescribeServicesCommand({ cluster: this.config.clusterArn, services: [name] })));
    return out.services?.[0];
  }

  /**
   * The service if it is ACTIVE, `undefined` if it must be created. A service scaled to zero is
   * deleted; starting its revision again right after waits until ECS has finished deleting it.
   */
  private async activeService(name: string): Promise<Service | undefined> {
    const settled = await pollUntil(this.startTiming, this.clock, async () => {
      const service = await this.describeService(name);
      return service?.status === 'DRAINING' ? undefined : { service };
    });
    if (!settled) {
      throw new ConflictError('service-draining', `ECS service ${name} of an earlier stop is still being deleted; retry in a minute`, { details: { service: name }, next: ['berth status'] });
    }
    return settled.service?.status === 'ACTIVE' ? settled.service : undefined;
  }

  /** The env's ECS services, by the name prefix every one of them carries. */
  private async serviceNames(env: EnvRef): Promise<string[]> {
    const prefix = servicePrefix(env);
    const services: string[] = [];
    let nextToken: string | undefined;
    do {
      const page = await attempt('list ECS services', () => this.ecs.send(new ListServicesCommand({ cluster: this.config.clusterArn, maxResults: 100, nextToken })));
      services.push(...(page.serviceArns ?? []).map(taskId).filter((n) => n.startsWith(prefix)));
      nextToken = page.nextToken;
    } while (nextToken);
    return services;
  }

  private async taskArns(service: string): Promise<string[]> {
    const arns: string[] = [];
    let nextToken: string | undefined;
    do {
      const page = await attempt(`list tasks of ${service}`, () => this.ecs.send(new ListTasksCommand({ cluster: this.config.clusterArn, serviceName: service, desiredStatus: 'RUNNING', nextToken })));
      arns.push(...(page.taskArns ?? []));
      nextToken = page.nextToken;
    } while (nextToken);
    return arns;
  }

  private async describeTasks(ids: string[]): Promise<Task[]> {
    const tasks: Task[] = [];
    for (const batch of chunks(ids, 100)) {
      const out = await attempt('describe ECS tasks', () => this.ecs.send(new DescribeTasksCommand({ cluster: this.config.clusterArn, tasks: batch, include: ['TAGS'] })));
      tasks.push(...(out.tasks ?? []));
    }
    return tasks;
  }
}

function volumeRefs(spec: InstanceSpec): Record<string, EfsVolumeRef> {
  const refs: Record<string, EfsVolumeRef> = {};
  for (const mount of spec.workload.volumes ?? []) {
    const dir = spec.volumeDirs[mount.volume];
    if (dir === undefined) {
      throw new NotFoundError('volume-not-found', `workload "${spec.workloadName}" mounts volume "${mount.volume}", which does not exist; create it or remove the mount`, {
        details: { volume: mount.volume, known: Object.keys(spec.volumeDirs) },
        next: ['berth volumes list'],
      });
    }
    refs[mount.volume] = parseVolumeRef(dir, mount.volume);
  }
  return refs;
}

function notInEnv(env: EnvRef, id: string): NotFoundError {
  const where = `${env.org}/${env.project}/${env.app}/${env.env}`;
  return new NotFoundError('instance-not-found', `instance ${id} is not running in ${where}; list the env's instances to pick one`, { details: { instance: id, env }, next: ['berth status'] });
}

function singleWriterRefusal(spec: InstanceSpec, count: number): InvalidInputError {
  return new InvalidInputError('single-writer-volume', `workload "${spec.workloadName}" would run ${count} tasks on single-writer volume "${spec.singleWriter}"; one task at a time may mount it: set \`volumes.${spec.singleWriter}.access: shared\` if the app handles concurrent writers`, {
    details: { workload: spec.workloadName, volume: spec.singleWriter, count },
  });
}
