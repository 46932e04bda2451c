// ECS on Fargate in the twin: task definitions, services whose scheduler keeps `desiredCount` tasks,
// tasks moving through their lifecycle on the twin's clock, container health from the probe
// sidecar's health check, scale-in protection, and the EventBridge events of each change.
import { ClientException, InvalidParameterException, ServiceNotActiveException, ServiceNotFoundException } from '@aws-sdk/client-ecs';
import { arn, TWIN_ACCOUNT, TWIN_REGION, type AwsTwin } from './twin.ts';

export interface TwinTask {
  taskArn: string;
  group: string;
  service: string;
  taskDefinitionArn: string;
  lastStatus: string;
  desiredStatus: 'RUNNING' | 'STOPPED';
  healthStatus: 'UNKNOWN' | 'HEALTHY' | 'UNHEALTHY';
  createdAt: Date;
  startedAt?: Date;
  stoppingAt?: Date;
  stoppedAt?: Date;
  stopCode?: string;
  stoppedReason?: string;
  ipv6: string;
  ipv4: string;
  tags: { key: string; value: string }[];
  protected: boolean;
  hasProbe: boolean;
  /** A one-off task (RunTask): its essential container's name and, once it exited, its exit code. */
  container?: string;
  exitCode?: number;
}

interface TwinService {
  serviceName: string;
  serviceArn: string;
  status: 'ACTIVE' | 'DRAINING' | 'INACTIVE';
  desiredCount: number;
  taskDefinition: string;
  tags: { key: string; value: string }[];
  events: { message: string; createdAt: Date }[];
}

export interface EcsState {
  tasks: Map<string, TwinTask>;
  services: Map<string, TwinService>;
  /** Decides whether a task's app answers its health check (default: yes). */
  appHealthy: (task: TwinTask) => boolean;
  /** Where the EventBridge rule sends the events (the ecs-events Lambda). */
  deliver?: (event: Record<string, unknown>) => Promise<unknown>;
  /** Errors the event Lambda threw (a test asserts there are none). */
  deliveryErrors: Error[];
  /**
   * Account settings, effective values: dualStackIPv6 decides whether awsvpc tasks get an IPv6
   * address (https://docs.aws.amazon.com/AmazonECS/latest/developerguide/ecs-account-settings.html#dual-stack-setting).
   */
  accountSettings: Record<string, 'enabled' | 'disabled'>;
  /** Whether the task's app accepts connections now (RUNNING and not told to stop). */
  serving(ip: string): boolean;
  /**
   * What a one-off task's (RunTask) container does once RUNNING: its exit code. The twin cannot run
   * images; a test gives the behaviour of the ones it starts (the volume swap task). @default exits 0
   */
  runContainer?: (task: TwinTask, definition: any, environment: Record<string, string>) => number;
  /** A registered task definition by ARN or family[:revision]. */
  taskDefinition(ref: string): any | undefined;
}

// Lifecycle durations on the compressible clock. ECS documents the order of the states, not their
// durations (https://docs.aws.amazon.com/AmazonECS/latest/developerguide/task-lifecycle-explanation.html);
// these are typical Fargate figures: ENI attachment, image pull, SIGTERM to exit, ENI detachment.
export const ECS_TIMING = { provisioningMs: 15_000, pendingMs: 25_000, stoppingMs: 5_000, deprovisioningMs: 20_000, serviceDeleteMs: 30_000 };

const idOf = (s: string): string => s.split('/').pop()!;

/** `clusterArn`: the cluster the stack creates (the IAM journeys use the synthesized one). */
export function install(twin: AwsTwin, options: { clusterArn?: string } = {}): EcsState {
  const CLUSTER = options.clusterArn ?? arn('ecs', 'cluster/berth');
  const clusterName = idOf(CLUSTER);
  const definitions = new Map<string, any[]>();
  let taskSeq = 0;
  let eventSeq = 0;
  let deliveries: Promise<unknown> = Promise.resolve();
  const state: EcsState = {
    tasks: new Map(),
    services: new Map(),
    appHealthy: () => true,
    deliveryErrors: [],
    accountSettings: { dualStackIPv6: 'enabled' },
    taskDefinition: (ref) => definitionOf(ref),
    serving: (ip) => [...state.tasks.values()].some((t) => t.ipv6 === ip && t.lastStatus === 'RUNNING' && t.desiredStatus === 'RUNNING'),
  };

  const describeTask = (t: TwinTask) => ({
    taskArn: t.taskArn,
    clusterArn: CLUSTER,
    group: t.group,
    taskDefinitionArn: t.taskDefinitionArn,
    lastStatus: t.lastStatus,
    desiredStatus: t.desiredStatus,
    healthStatus: t.healthStatus,
    launchType: 'FARGATE',
    availabilityZone: `${TWIN_REGION}a`,
    createdAt: t.createdAt,
    startedAt: t.startedAt,
    stoppingAt: t.stoppingAt,
    stoppedAt: t.stoppedAt,
    stopCode: t.stopCode,
    stoppedReason: t.stoppedReason,
    tags: t.tags,
    containers: [
      { name: t.container ?? 'app', lastStatus: t.lastStatus, healthStatus: 'UNKNOWN', ...(t.exitCode === undefined ? {} : { exitCode: t.exitCode }) },
      ...(t.hasProbe ? [{ name: 'berth-probe', lastStatus: t.lastStatus, healthStatus: t.healthStatus }] : []),
    ],
    attachments: [
      {
        type: 'ElasticNetworkInterface',
        status: t.lastStatus === 'STOPPED' ? 'DELETED' : 'ATTACHED',
        details: [
          { name: 'subnetId', value: 'subnet-twin-a' },
          { name: 'privateIPv4Address', value: t.ipv4 },
          { name: 'ipv6Address', value: t.ipv6 },
        ],
      },
    ],
  });

  // EventBridge delivers each state change as an "ECS Task State Change" event
  // (https://docs.aws.amazon.com/AmazonECS/latest/developerguide/ecs_task_events.html); one at a time here.
  const emit = (detailType: string, resource: string, detail: Record<string, unknown>) => {
    const event = { version: '0', id: `twin-event-${++eventSeq}`, 'detail-type': detailType, source: 'aws.ecs', account: TWIN_ACCOUNT, time: twin.clock.date().toISOString(), region: TWIN_REGION, resources: [resource], detail };
    if (!state.deliver) return;
    const deliver = state.deliver;
    deliveries = deliveries.then(() => twin.clock.run(`ecs event ${event.id}`, () => deliver(event)).catch((err: Error) => void state.deliveryErrors.push(err)));
  };
  const taskChanged = (t: TwinTask) => emit('ECS Task State Change', t.taskArn, JSON.parse(JSON.stringify(describeTask(t))));

  const definitionOf = (ref: string): any | undefined => {
    const [family, rev] = idOf(ref).split(':');
    const revisions = definitions.get(family) ?? [];
    return rev ? revisions[Number(rev) - 1] : revisions[revisions.length - 1];
  };

  const probeOf = (t: TwinTask) => definitionOf(t.taskDefinitionArn)?.containerDefinitions?.find((c: any) => c.name === 'berth-probe')?.healthCheck;

  const launch = (service: TwinService) => {
    const n = ++taskSeq;
    const id = `${(n * 2654435761).toString(16).padStart(8, '0')}${n.toString(16).padStart(24, '0')}`;
    const task: TwinTask = {
      taskArn: arn('ecs', `task/${clusterName}/${id}`),
      group: `service:${service.serviceName}`,
      service: service.serviceName,
      taskDefinitionArn: service.taskDefinition,
      lastStatus: 'PROVISIONING',
      desiredStatus: 'RUNNING',
      healthStatus: 'UNKNOWN',
      createdAt: twin.clock.date(),
      ipv6: `2a05:d018:abc:100::${n.toString(16)}`,
      ipv4: `10.0.${Math.floor(n / 250)}.${(n % 250) + 4}`,
      // propagateTags SERVICE copies the service's tags to its tasks
      // (https://docs.aws.amazon.com/AmazonECS/latest/developerguide/ecs-using-tags.html#tag-resources).
      tags: [...service.tags],
      protected: false,
      hasProbe: false,
    };
    task.hasProbe = Boolean(probeOf(task));
    state.tasks.set(task.taskArn, task);
    taskChanged(task);
    // PROVISIONING → PENDING → RUNNING (https://docs.aws.amazon.com/AmazonECS/latest/developerguide/task-lifecycle-explanation.html).
    twin.clock.after(ECS_TIMING.provisioningMs, () => {
      if (task.desiredStatus !== 'RUNNING') return;
      task.lastStatus = 'PENDING';
      taskChanged(task);
      twin.clock.after(ECS_TIMING.pendingMs, () => {
        if (task.desiredStatus !== 'RUNNING') return;
        task.lastStatus = 'RUNNING';
        task.startedAt = twin.clock.date();
        taskChanged(task);
        checkHealth(task);
      });
    });
  };

  // Container health checks: failures in the start period do not count; HEALTHY on the first pass,
  // UNHEALTHY after `retries` consecutive failures (https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_HealthCheck.html).
  const checkHealth = (task: TwinTask) => {
    const check = probeOf(task);
    if (!check) return;
    let failures = 0;
    const started = twin.clock.now();
    const tick = () => {
      if (task.lastStatus !== 'RUNNING' || task.desiredStatus !== 'RUNNING') return;
      const passed = state.appHealthy(task);
      const before = task.healthStatus;
      if (passed) {
        failures = 0;
        task.healthStatus = 'HEALTHY';
      } else if (twin.clock.now() - started >= (check.startPeriod ?? 0) * 1000 && ++failures >= (check.retries ?? 3)) task.healthStatus = 'UNHEALTHY';
      if (task.healthStatus !== before) taskChanged(task);
      twin.clock.after((check.interval ?? 30) * 1000, tick);
    };
    twin.clock.after((check.interval ?? 30) * 1000, tick);
  };

  const stopTask = (task: TwinTask, stopCode: string, reason: string) => {
    if (task.desiredStatus === 'STOPPED') return;
    task.desiredStatus = 'STOPPED';
    task.stopCode = stopCode;
    task.stoppedReason = reason;
    task.stoppingAt = twin.clock.date();
    // The app gets SIGTERM now and stops accepting connections; the ENI goes in DEPROVISIONING
    // (https://docs.aws.amazon.com/AmazonECS/latest/developerguide/task-lifecycle-explanation.html).
    task.lastStatus = task.lastStatus === 'RUNNING' ? 'STOPPING' : 'DEPROVISIONING';
    taskChanged(task);
    twin.clock.after(ECS_TIMING.stoppingMs, () => {
      task.lastStatus = 'DEPROVISIONING';
      taskChanged(task);
      twin.clock.after(ECS_TIMING.deprovisioningMs, () => {
        task.lastStatus = 'STOPPED';
        task.stoppedAt = twin.clock.date();
        taskChanged(task);
        const service = state.services.get(task.service);
        if (service) schedule(service);
      });
    });
  };

  // The service scheduler keeps desiredCount tasks; on scale-in it stops tasks not protected from
  // it (https://docs.aws.amazon.com/AmazonECS/latest/developerguide/task-scale-in-protection.html).
  const schedule = (service: TwinService) => {
    if (service.status !== 'ACTIVE') return;
    const running = [...state.tasks.values()].filter((t) => t.service === service.serviceName && t.desiredStatus === 'RUNNING');
    for (let i = running.length; i < service.desiredCount; i++) launch(service);
    const extra = running.length - service.desiredCount;
    if (extra > 0) {
      for (const t of running.filter((t) => !t.protected).slice(0, extra)) stopTask(t, 'ServiceSchedulerInitiated', 'Scaling activity initiated by (deployment ecs-svc)');
    }
    if (running.length !== service.desiredCount) emit('ECS Service Action', service.serviceArn, { eventType: 'INFO', eventName: 'SERVICE_STEADY_STATE', clusterArn: CLUSTER });
  };

  const serviceOf = (name: string): TwinService => {
    const service = state.services.get(idOf(name));
    if (!service || service.status === 'INACTIVE') throw new ServiceNotFoundException({ message: 'Service not found.', $metadata: {} });
    if (service.status !== 'ACTIVE') throw new ServiceNotActiveException({ message: 'Service was not ACTIVE.', $metadata: {} });
    return service;
  };
  const describeService = (s: TwinService) => ({ serviceName: s.serviceName, serviceArn: s.serviceArn, clusterArn: CLUSTER, status: s.status, desiredCount: s.desiredCount, runningCount: [...state.tasks.values()].filter((t) => t.service === s.serviceName && t.lastStatus === 'RUNNING').length, taskDefinition: s.taskDefinition, deployments: [{ id: `ecs-svc/${s.serviceName}`, status: 'PRIMARY', rolloutState: 'COMPLETED' }], events: s.events, tags: s.tags });

  // ListAccountSettings with effectiveSettings answers the value in force for the caller
  // (https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_ListAccountSettings.html).
  twin.handler('ecs', 'ListAccountSettings', (input) => ({
    settings: Object.entries(state.accountSettings)
      .filter(([name]) => !input.name || name === input.name)
      .map(([name, value]) => ({ name, value, principalArn: arn('iam', 'root').replace(`:${'eu-west-1'}:`, '::') })),
  }));
  twin.handler('ecs', 'RegisterTaskDefinition', (input) => {
    const revisions = definitions.get(input.family) ?? [];
    const def = { ...input, revision: revisions.length + 1, status: 'ACTIVE', taskDefinitionArn: arn('ecs', `task-definition/${input.family}:${revisions.length + 1}`) };
    revisions.push(def);
    definitions.set(input.family, revisions);
    return { taskDefinition: def };
  });
  twin.handler('ecs', 'DescribeTaskDefinition', (input) => {
    const def = definitionOf(input.taskDefinition);
    // An unknown family is a ClientException (https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_DescribeTaskDefinition.html#API_DescribeTaskDefinition_Errors).
    if (!def) throw new ClientException({ message: 'Unable to describe task definition.', $metadata: {} });
    return { taskDefinition: def };
  });
  twin.handler('ecs', 'CreateService', (input) => {
    const existing = state.services.get(input.serviceName);
    if (existing && existing.status !== 'INACTIVE') throw new InvalidParameterException({ message: 'Creation of service was not idempotent.', $metadata: {} });
    const def = definitionOf(input.taskDefinition);
    if (!def) throw new ClientException({ message: 'TaskDefinition not found.', $metadata: {} });
    const service: TwinService = { serviceName: input.serviceName, serviceArn: arn('ecs', `service/${clusterName}/${input.serviceName}`), status: 'ACTIVE', desiredCount: input.desiredCount ?? 0, taskDefinition: def.taskDefinitionArn, tags: input.tags ?? [], events: [] };
    state.services.set(service.serviceName, service);
    schedule(service);
    return { service: describeService(service) };
  });
  twin.handler('ecs', 'UpdateService', (input) => {
    const service = serviceOf(input.service);
    if (input.desiredCount !== undefined) service.desiredCount = input.desiredCount;
    if (input.taskDefinition) service.taskDefinition = definitionOf(input.taskDefinition).taskDefinitionArn;
    schedule(service);
    return { service: describeService(service) };
  });
  twin.handler('ecs', 'DeleteService', (input) => {
    const service = state.services.get(idOf(input.service));
    if (!service || service.status === 'INACTIVE') throw new ServiceNotFoundException({ message: 'Service not found.', $metadata: {} });
    if (service.desiredCount > 0 && !input.force) throw new InvalidParameterException({ message: 'The service cannot be stopped while it is scaled above 0.', $metadata: {} });
    // DRAINING while its tasks stop, then INACTIVE (https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_DeleteService.html).
    service.status = 'DRAINING';
    for (const t of state.tasks.values()) if (t.service === service.serviceName) stopTask(t, 'ServiceSchedulerInitiated', 'Service deleted');
    twin.clock.after(ECS_TIMING.serviceDeleteMs, () => {
      service.status = 'INACTIVE';
    });
    return { service: describeService(service) };
  });
  twin.handler('ecs', 'DescribeServices', (input) => {
    const found = (input.services as string[]).map((n) => state.services.get(idOf(n)));
    return { services: found.filter(Boolean).map((s) => describeService(s!)), failures: (input.services as string[]).filter((_, i) => !found[i]).map((n) => ({ arn: n, reason: 'MISSING' })) };
  });
  twin.handler('ecs', 'ListServices', () => ({ serviceArns: [...state.services.values()].filter((s) => s.status !== 'INACTIVE').map((s) => s.serviceArn) }));
  // ListTasks with desiredStatus RUNNING lists tasks whose desired status is RUNNING
  // (https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_ListTasks.html).
  twin.handler('ecs', 'ListTasks', (input) => ({
    taskArns: [...state.tasks.values()].filter((t) => (!input.serviceName || t.service === input.serviceName) && t.desiredStatus === (input.desiredStatus ?? 'RUNNING')).map((t) => t.taskArn),
  }));
  twin.handler('ecs', 'DescribeTasks', (input) => {
    const found = (input.tasks as string[]).map((ref) => [...state.tasks.values()].find((t) => t.taskArn === ref || idOf(t.taskArn) === ref));
    return { tasks: found.filter(Boolean).map((t) => describeTask(t!)), failures: (input.tasks as string[]).filter((_, i) => !found[i]).map((ref) => ({ arn: ref, reason: 'MISSING' })) };
  });
  twin.handler('ecs', 'StopTask', (input) => {
    const task = [...state.tasks.values()].find((t) => t.taskArn === input.task || idOf(t.taskArn) === input.task);
    if (!task) throw new InvalidParameterException({ message: 'The referenced task was not found.', $metadata: {} });
    stopTask(task, 'UserInitiated', input.reason ?? 'Task stopped by user');
    return { task: describeTask(task) };
  });
  // RunTask starts a standalone task (group `family:<family>`) that runs until its essential container
  // exits; ECS then stops it with stopCode EssentialContainerExited and the container's exitCode
  // (https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_RunTask.html, API_Container.html).
  twin.handler('ecs', 'RunTask', (input) => {
    const def = definitionOf(input.taskDefinition);
    if (!def) throw new ClientException({ message: 'TaskDefinition not found.', $metadata: {} });
    const n = ++taskSeq;
    const container = def.containerDefinitions?.find((c: any) => c.essential !== false)?.name ?? 'app';
    const override = (input.overrides?.containerOverrides ?? []).find((o: any) => o.name === container);
    const environment = Object.fromEntries([...(def.containerDefinitions?.find((c: any) => c.name === container)?.environment ?? []), ...(override?.environment ?? [])].map((e: any) => [e.name, e.value]));
    const task: TwinTask = {
      taskArn: arn('ecs', `task/${clusterName}/${n.toString(16).padStart(32, '0')}`),
      group: `family:${def.family}`,
      service: '',
      taskDefinitionArn: def.taskDefinitionArn,
      lastStatus: 'PROVISIONING',
      desiredStatus: 'RUNNING',
      healthStatus: 'UNKNOWN',
      createdAt: twin.clock.date(),
      ipv6: `2a05:d018:abc:200::${n.toString(16)}`,
      ipv4: `10.0.200.${(n % 250) + 4}`,
      tags: input.tags ?? [],
      protected: false,
      hasProbe: false,
      container,
    };
    state.tasks.set(task.taskArn, task);
    taskChanged(task);
    twin.clock.after(ECS_TIMING.provisioningMs, () => {
      if (task.desiredStatus !== 'RUNNING') return;
      task.lastStatus = 'PENDING';
      twin.clock.after(ECS_TIMING.pendingMs, () => {
        if (task.desiredStatus !== 'RUNNING') return;
        task.lastStatus = 'RUNNING';
        task.startedAt = twin.clock.date();
        taskChanged(task);
        task.exitCode = state.runContainer?.(task, def, environment) ?? 0;
        stopTask(task, 'EssentialContainerExited', 'Essential container in task exited');
      });
    });
    return { tasks: [describeTask(task)], failures: [] };
  });
  twin.handler('ecs', 'UpdateTaskProtection', (input) => {
    for (const ref of input.tasks as string[]) {
      const task = [...state.tasks.values()].find((t) => t.taskArn === ref || idOf(t.taskArn) === ref);
      if (task) task.protected = Boolean(input.protectionEnabled);
    }
    return { protectedTasks: [], failures: [] };
  });
  return state;
}
