// One task definition per (workload, revision): the app container, an init container that writes
// the secret bundles as files, and a probe sidecar that carries the health check.
//
// Secrets as files: ECS can only inject secrets as environment variables, so the init container
// (busybox, essential: false) receives each bundle's JSON through ECS `secrets` and writes it to
// /berth/secrets/<bundle>.json on a task-local volume; the app container mounts that volume
// read-only and starts only after the init container exited 0 (`dependsOn` SUCCESS). The files
// are 0444: the app's uid is unknown, and the volume is visible to this task's containers only.
//
// Health: ECS runs a container health check inside the container, and an app image need not ship
// wget or nc. The probe sidecar (the init image again) shares the task's network namespace
// (awsvpc), so `nc -z 127.0.0.1:<port>` or `wget http://127.0.0.1:<port><path>` reaches the app;
// it is essential, so an unhealthy probe makes the task unhealthy and the service replaces it.
import type { ContainerDefinition, RegisterTaskDefinitionCommandInput, Volume as TaskVolume } from '@aws-sdk/client-ecs';
import { HEALTH_DEFAULTS, WORKLOAD_DEFAULTS, type Workload } from '../../contract/manifest.ts';
import { InvalidInputError } from '../../core/errors.ts';
import type { InstanceSpec } from '../../core/ports.ts';
import type { AwsRuntimeConfig } from './config.ts';
import { ecsTags, logGroupName } from './tags.ts';
import { TARGET_LOOPBACK } from './target-family.ts';
import type { EfsVolumeRef } from './volume-ref.ts';

export const APP_CONTAINER = 'app';
export const INIT_CONTAINER = 'berth-init';
export const PROBE_CONTAINER = 'berth-probe';
export const SECRETS_VOLUME = 'berth-secrets';
export const SECRETS_DIR = '/berth/secrets';

/** Tags on the service (propagated to its tasks) that `list` and `waitHealthy` read back. */
export const TAG = { workload: 'berth:workload', release: 'berth:release', revision: 'berth:revision', ports: 'berth:ports', deadline: 'berth:health-deadline' } as const;

export interface TaskDefinitionParts {
  family: string;
  /** Bundle name → `valueFrom` (secret ARN pinned to a version). */
  secretValueFrom: Record<string, string>;
  /** Volume name → EFS file system and access point. */
  volumes: Record<string, EfsVolumeRef>;
  /**
   * Let the awslogs driver create a missing log group (needs logs:CreateLogGroup on the execution
   * role, and the group comes out untagged); used when the driver has no CloudWatch Logs client.
   */
  createLogGroup?: boolean;
}

export function secretEnvName(bundle: string): string {
  return `BERTH_SECRET_${bundle.toUpperCase().replace(/[^A-Z0-9]/g, '_')}`;
}

const volumeName = (volume: string): string => `vol-${volume}`;
const clamp = (v: number, min: number, max: number): number => Math.min(max, Math.max(min, Math.round(v)));

/** The tags a workload's service carries beyond the four berth:* ones. */
export function workloadTags(spec: InstanceSpec): Record<string, string> {
  return {
    [TAG.workload]: spec.workloadName,
    [TAG.release]: spec.releaseId,
    [TAG.revision]: spec.revision,
    [TAG.ports]: (spec.workload.ports ?? []).join(' '),
    [TAG.deadline]: String(spec.workload.healthCheck?.deadlineSeconds ?? HEALTH_DEFAULTS.deadlineSeconds),
  };
}

export function taskDefinitionInput(spec: InstanceSpec, config: AwsRuntimeConfig, parts: TaskDefinitionParts): RegisterTaskDefinitionCommandInput {
  const { workload, workloadName } = spec;
  if (!workload.image) {
    throw new InvalidInputError('image-required', `workload "${workloadName}" has no \`image\`; on AWS every workload runs an OCI image — set workloads.${workloadName}.image in berth.yaml or deploy with --image`, {
      details: { workload: workloadName },
    });
  }
  // The same for every container: awslogs adds the container name to the stream itself.
  const logConfiguration: ContainerDefinition['logConfiguration'] = {
    logDriver: 'awslogs',
    options: {
      'awslogs-group': logGroupName(config.logGroupPrefix, spec.env),
      'awslogs-region': config.region,
      // Streams are `<workload>/<container>/<task id>`: the log store reads workload and instance from them.
      'awslogs-stream-prefix': workloadName,
      // A slow CloudWatch must not block the app's writes to stdout; lines beyond the buffer are dropped.
      mode: 'non-blocking',
      'max-buffer-size': '4m',
      ...(parts.createLogGroup ? { 'awslogs-create-group': 'true' } : {}),
    },
  };
  const bundles = Object.keys(parts.secretValueFrom).sort();
  const containers: ContainerDefinition[] = [appContainer(spec, workload.image, parts, bundles.length > 0, logConfiguration)];
  if (bundles.length) containers.push(initContainer(config.initImage, parts.secretValueFrom, bundles, logConfiguration));
  const probe = probeContainer(config.initImage, workload, logConfiguration);
  if (probe) containers.push(probe);
  const volumes: TaskVolume[] = [{ name: SECRETS_VOLUME }];
  for (const [name, ref] of Object.entries(parts.volumes).sort(([a], [b]) => a.localeCompare(b))) {
    volumes.push({
      name: volumeName(name),
      efsVolumeConfiguration: {
        fileSystemId: ref.fileSystemId,
        // TLS to the mount target, and the task role authorises the mount (EFS IAM authorization).
        transitEncryption: 'ENABLED',
        authorizationConfig: { accessPointId: ref.accessPointId, iam: 'ENABLED' },
      },
    });
  }
  return {
    family: parts.family,
    taskRoleArn: config.taskRoleArn,
    executionRoleArn: config.taskExecutionRoleArn,
    networkMode: 'awsvpc',
    requiresCompatibilities: ['FARGATE'],
    cpu: String(workload.cpu ?? WORKLOAD_DEFAULTS.cpu),
    memory: String(workload.memory ?? WORKLOAD_DEFAULTS.memory),
    containerDefinitions: containers,
    volumes,
    tags: ecsTags(spec.env, workloadTags(spec)),
  };
}

function appContainer(spec: InstanceSpec, image: string, parts: TaskDefinitionParts, hasInit: boolean, logConfiguration: ContainerDefinition['logConfiguration']): ContainerDefinition {
  const { workload } = spec;
  const ports = workload.ports ?? [];
  // A string command runs through /bin/sh, a list runs as is (the manifest's contract); both
  // replace the image's ENTRYPOINT so the command means the same as in embedded mode.
  const entryPoint = typeof workload.command === 'string' ? ['/bin/sh', '-c', workload.command] : workload.command;
  return {
    name: APP_CONTAINER,
    image,
    essential: true,
    entryPoint,
    // Docker's USER semantics: a name resolves against the image's /etc/passwd.
    ...(workload.user !== undefined ? { user: workload.user } : {}),
    portMappings: ports.map((containerPort) => ({ containerPort, protocol: 'tcp' })),
    environment: Object.entries(appEnvironment(spec))
      .sort(([a], [b]) => a.localeCompare(b))
      .map(([name, value]) => ({ name, value })),
    mountPoints: [
      { sourceVolume: SECRETS_VOLUME, containerPath: SECRETS_DIR, readOnly: true },
      ...(workload.volumes ?? []).filter((m) => parts.volumes[m.volume]).map((m) => ({ sourceVolume: volumeName(m.volume), containerPath: m.path, readOnly: false })),
    ],
    ...(hasInit ? { dependsOn: [{ containerName: INIT_CONTAINER, condition: 'SUCCESS' as const }] } : {}),
    // An init process reaps zombies of `berth exec` sessions (ECS Exec recommends it).
    linuxParameters: { initProcessEnabled: true },
    logConfiguration,
  };
}

/** The app's environment, as embedded mode builds it (instance-spec.ts), with container ports as they are. */
export function appEnvironment(spec: InstanceSpec): Record<string, string> {
  const env: Record<string, string> = { ...spec.environment };
  const ports = spec.workload.ports ?? [];
  // awsvpc: the task has its own addresses, so the container port is the port it is reached on.
  if (ports.length > 0) env.PORT = String(ports[0]);
  for (const port of ports) env[`BERTH_PORT_${port}`] = String(port);
  for (const mount of spec.workload.volumes ?? []) env[`BERTH_VOLUME_${mount.volume.toUpperCase().replace(/-/g, '_')}`] = mount.path;
  // BERTH_INSTANCE_ID is not set: the task id exists only once the task does; the app reads it
  // from $ECS_CONTAINER_METADATA_URI_V4/task (TaskARN) if it needs it.
  Object.assign(env, {
    BERTH_RELEASE: spec.releaseId,
    BERTH_REVISION: spec.revision,
    BERTH_APP: spec.env.app,
    BERTH_ENV: spec.env.env,
    BERTH_WORKLOAD: spec.workloadName,
    BERTH_SECRETS_DIR: SECRETS_DIR,
  });
  return env;
}

function initContainer(image: string, valueFrom: Record<string, string>, bundles: string[], logConfiguration: ContainerDefinition['logConfiguration']): ContainerDefinition {
  const writes = bundles.map((b) => `printf '%s\\n' "$${secretEnvName(b)}" > ${SECRETS_DIR}/${b}.json && chmod 0444 ${SECRETS_DIR}/${b}.json`);
  return {
    name: INIT_CONTAINER,
    image,
    essential: false,
    entryPoint: ['/bin/sh', '-c'],
    command: [['set -e', ...writes, `echo "wrote ${bundles.length} secret bundle file(s) to ${SECRETS_DIR}"`].join('; ')],
    secrets: bundles.map((b) => ({ name: secretEnvName(b), valueFrom: valueFrom[b] })),
    mountPoints: [{ sourceVolume: SECRETS_VOLUME, containerPath: SECRETS_DIR, readOnly: false }],
    logConfiguration,
  };
}

/** The health-check sidecar, or none when the workload has no port to probe (healthy once RUNNING). */
export function probeContainer(image: string, workload: Workload, logConfiguration: ContainerDefinition['logConfiguration']): ContainerDefinition | undefined {
  const check = workload.healthCheck;
  const port = check?.port ?? workload.ports?.[0];
  if (port === undefined) return undefined;
  // ECS bounds: interval 5–300 s, timeout 2–60 s, start period 0–300 s.
  const timeout = clamp(check?.timeoutSeconds ?? HEALTH_DEFAULTS.timeoutSeconds, 2, 60);
  // The probe shares the task's network namespace (awsvpc) and checks the app over the family the
  // target group uses, so Berth's gate and the NLB's health check agree (target-family.ts).
  const probe =
    check?.type === 'http'
      ? `wget -q -T ${timeout} -O /dev/null ${shellQuote(`http://${TARGET_LOOPBACK.url}:${port}${check.path ?? HEALTH_DEFAULTS.path}`)}`
      : `nc -z -w ${timeout} ${TARGET_LOOPBACK.address} ${port}`;
  return {
    name: PROBE_CONTAINER,
    image,
    essential: true,
    entryPoint: ['/bin/sh', '-c'],
    // Sleeps until stopped; exits 0 on SIGTERM so a stopping task is not reported as a crash.
    command: ['trap "exit 0" TERM INT; while :; do sleep 3600 & wait $!; done'],
    healthCheck: {
      command: ['CMD-SHELL', probe],
      interval: clamp(check?.intervalSeconds ?? 10, 5, 300),
      timeout,
      retries: 3,
      startPeriod: clamp(check?.deadlineSeconds ?? HEALTH_DEFAULTS.deadlineSeconds, 0, 300),
    },
    logConfiguration,
  };
}

function shellQuote(s: string): string {
  return `'${s.replace(/'/g, `'\\''`)}'`;
}
