// Restoring a volume snapshot on AWS. AWS Backup never restores EFS destructively: a full restore,
// into the same file system or a new one, lands in a recovery directory `aws-backup-restore_<datetime>/`
// off the root (https://docs.aws.amazon.com/aws-backup/latest/devguide/restoring-efs.html). So a restore
// is a restore job (minutes to hours, awaited through its EventBridge event), then a one-off Fargate
// "swap" task that mounts the file system's root and moves directories: the current `data` aside,
// the restored `data` into place; compensation moves the aside one back.
import { DescribeRestoreJobCommand, ListRecoveryPointsByBackupVaultCommand, ListTagsCommand, StartRestoreJobCommand, type BackupClient } from '@aws-sdk/client-backup';
import { DescribeTasksCommand, RegisterTaskDefinitionCommand, RunTaskCommand, type ECSClient } from '@aws-sdk/client-ecs';
import { BerthError, ConflictError, NotFoundError, TimeoutError } from '../../core/errors.ts';
import type { EnvRef } from '../../core/ports.ts';
import { attempt } from './aws-errors.ts';
import type { AwsRuntimeConfig } from './config.ts';
import { pollUntil, type Clock, type PollTiming } from './poll.ts';
import { berthTagMap, berthTags, contentToken, fileSystemToken, logGroupName } from './tags.ts';

type RestoreConfig = Pick<AwsRuntimeConfig, 'backupVaultName' | 'backupRoleArn' | 'kmsKeyId' | 'clusterArn' | 'taskSubnets' | 'taskSecurityGroupId' | 'taskExecutionRoleArn' | 'assignPublicIp' | 'initImage' | 'volumeSwapRoleArn'> & Partial<Pick<AwsRuntimeConfig, 'logGroupPrefix' | 'region'>>;

export type RestoreJobStatus = { status: 'running' } | { status: 'completed' } | { status: 'failed'; message: string };

/** What the swap task does, by ACTION; each is idempotent, so a retried step redoes nothing harmful. */
export type SwapAction = 'aside' | 'place' | 'back' | 'discard';

// busybox sh in the platform's helper image. The file system's root is at /mnt/efs; the volume's
// data is the access point's root, /data. `.berth-aside/<token>` holds the data a restore replaced.
const SWAP_SCRIPT = [
  'set -eu',
  'cd /mnt/efs',
  'A=".berth-aside/$TOKEN"',
  'case "$ACTION" in',
  '  aside) if [ ! -e "$A" ]; then mkdir -p .berth-aside; if [ -e data ]; then mv data "$A"; else mkdir "$A"; fi; fi ;;',
  '  place) if [ ! -e data ]; then R=$(ls -1d aws-backup-restore_* 2>/dev/null | sort | tail -n 1); [ -n "$R" ] || { echo "no aws-backup-restore_* directory" >&2; exit 3; }; if [ -e "$R/data" ]; then mv "$R/data" data; else mkdir data; fi; rm -rf "$R"; fi ;;',
  '  back) if [ -e "$A" ]; then rm -rf data; mv "$A" data; fi; rm -rf aws-backup-restore_* ;;',
  '  discard) rm -rf "$A" ;;',
  'esac',
].join('\n');

const SWAP_CONTAINER = 'swap';

export class EfsRestores {
  constructor(
    private readonly clients: { backup: BackupClient; ecs: ECSClient },
    private readonly config: RestoreConfig,
    private readonly clock: Clock,
    /** The swap task's wait: Fargate start plus a `mv`. @default 5 s polls for 15 minutes */
    private readonly timing: PollTiming = { intervalMs: 5000, timeoutMs: 900_000 },
  ) {}

  /**
   * Starts the restore job of snapshot `snapshotId` of volume `from`: into `target` (the volume's
   * own file system), or, without one, into a new file system that takes the volume's creation
   * token, so `ensure` finds it as the volume's. Idempotent per operation token.
   */
  async start(env: EnvRef, volume: string, from: string, snapshotId: string, token: string, target?: { fileSystemId: string }): Promise<string> {
    const point = await this.recoveryPoint(env, from, snapshotId);
    const metadata: Record<string, string> = {
      'file-system-id': point.fileSystemId,
      newFileSystem: String(!target),
      Encrypted: 'true',
      KmsKeyId: this.config.kmsKeyId,
      PerformanceMode: 'generalPurpose',
      ...(target ? {} : { CreationToken: fileSystemToken(env, volume) }),
    };
    const out = await attempt(`start restoring snapshot ${snapshotId} into volume "${volume}"`, () =>
      this.clients.backup.send(
        new StartRestoreJobCommand({
          RecoveryPointArn: point.arn,
          IamRoleArn: this.config.backupRoleArn,
          ResourceType: 'EFS',
          Metadata: metadata,
          // A retried step starts no second job.
          IdempotencyToken: contentToken(point.arn, token),
        }),
      ),
    );
    return out.RestoreJobId!;
  }

  async status(jobId: string): Promise<RestoreJobStatus> {
    const job = await attempt(`read restore job ${jobId}`, () => this.clients.backup.send(new DescribeRestoreJobCommand({ RestoreJobId: jobId })));
    if (job.Status === 'COMPLETED') return { status: 'completed' };
    if (job.Status === 'FAILED' || job.Status === 'ABORTED') return { status: 'failed', message: `AWS Backup restore job ${jobId} ${job.Status.toLowerCase()}${job.StatusMessage ? `: ${job.StatusMessage}` : ''}` };
    return { status: 'running' };
  }

  /** Runs the swap task with `action` on the file system's root; resolves when it exited 0. */
  async swap(env: EnvRef, volume: string, fs: { fileSystemId: string; zone?: string }, action: SwapAction, token: string): Promise<void> {
    const family = `berth-volume-swap-${fs.fileSystemId}`;
    const def = await attempt(`register the swap task of volume "${volume}"`, () =>
      this.clients.ecs.send(
        new RegisterTaskDefinitionCommand({
          family,
          networkMode: 'awsvpc',
          requiresCompatibilities: ['FARGATE'],
          cpu: '256',
          memory: '512',
          executionRoleArn: this.config.taskExecutionRoleArn,
          // Mounting the root (no access point) as uid 0 needs elasticfilesystem:ClientRootAccess, which app tasks do not have.
          taskRoleArn: this.config.volumeSwapRoleArn,
          containerDefinitions: [{ name: SWAP_CONTAINER, image: this.config.initImage, essential: true, user: '0', command: ['sh', '-c', SWAP_SCRIPT], mountPoints: [{ sourceVolume: 'volume', containerPath: '/mnt/efs' }], ...this.logs(env) }],
          volumes: [{ name: 'volume', efsVolumeConfiguration: { fileSystemId: fs.fileSystemId, rootDirectory: '/', transitEncryption: 'ENABLED', authorizationConfig: { iam: 'ENABLED' } } }],
          tags: berthTags(env, { 'berth:volume': volume }).map(({ Key, Value }) => ({ key: Key, value: Value })),
        }),
      ),
    );
    const subnets = this.config.taskSubnets.filter((s) => !fs.zone || s.az === fs.zone).map((s) => s.id);
    const run = await attempt(`start the swap task (${action}) of volume "${volume}"`, () =>
      this.clients.ecs.send(
        new RunTaskCommand({
          cluster: this.config.clusterArn,
          taskDefinition: def.taskDefinition!.taskDefinitionArn,
          launchType: 'FARGATE',
          count: 1,
          startedBy: 'berth-volume-swap',
          networkConfiguration: { awsvpcConfiguration: { subnets, securityGroups: [this.config.taskSecurityGroupId], assignPublicIp: this.config.assignPublicIp ? 'ENABLED' : 'DISABLED' } },
          overrides: { containerOverrides: [{ name: SWAP_CONTAINER, environment: [{ name: 'ACTION', value: action }, { name: 'TOKEN', value: token }] }] },
          tags: berthTags(env, { 'berth:volume': volume }).map(({ Key, Value }) => ({ key: Key, value: Value })),
        }),
      ),
    );
    const taskArn = run.tasks?.[0]?.taskArn;
    if (!taskArn) throw new BerthError('capacity', 'swap-task-not-started', `ECS did not start the swap task of volume "${volume}": ${run.failures?.map((f) => f.reason).join(', ') || 'no reason given'}; retry the operation`, { next: ['berth events'] });
    const stopped = await pollUntil(this.timing, this.clock, async () => {
      const task = (await attempt('read the swap task', () => this.clients.ecs.send(new DescribeTasksCommand({ cluster: this.config.clusterArn, tasks: [taskArn] })))).tasks?.[0];
      return task?.lastStatus === 'STOPPED' ? task : undefined;
    });
    if (!stopped) throw new TimeoutError('swap-task-timeout', `the swap task (${action}) of volume "${volume}" did not finish in ${this.timing.timeoutMs / 60_000} minutes; it may still be running (task ${taskArn})`, { next: ['berth events'] });
    const exitCode = stopped.containers?.find((c) => c.name === SWAP_CONTAINER)?.exitCode;
    if (exitCode !== 0) {
      throw new BerthError('internal', 'swap-task-failed', `the swap task (${action}) of volume "${volume}" exited with ${exitCode ?? 'no exit code'} (${stopped.stoppedReason ?? 'no reason'}); its output is in the env's logs (berth logs --workload volume-swap); compensation puts the data from before back`, {
        details: { volume, action, task: taskArn, exitCode },
        next: ['berth events', 'berth logs --workload volume-swap'],
      });
    }
  }

  /** The swap task's output goes to the env's log group (stream `volume-swap/swap/<task>`), where `berth logs --workload volume-swap` reads it. */
  private logs(env: EnvRef) {
    const { logGroupPrefix, region } = this.config;
    if (!logGroupPrefix || !region) return {};
    return { logConfiguration: { logDriver: 'awslogs' as const, options: { 'awslogs-group': logGroupName(logGroupPrefix, env), 'awslogs-region': region, 'awslogs-stream-prefix': 'volume-swap' } } };
  }

  /** The recovery point of snapshot `snapshotId` of volume `from`, found by its tags in the vault. */
  private async recoveryPoint(env: EnvRef, from: string, snapshotId: string): Promise<{ arn: string; fileSystemId: string }> {
    const want = berthTagMap(env, { 'berth:volume': from, 'berth:snapshot': snapshotId });
    let NextToken: string | undefined;
    do {
      const page = await attempt('list volume snapshots', () => this.clients.backup.send(new ListRecoveryPointsByBackupVaultCommand({ BackupVaultName: this.config.backupVaultName, ByResourceType: 'EFS', NextToken })));
      for (const point of page.RecoveryPoints ?? []) {
        const tags = (await attempt('read snapshot tags', () => this.clients.backup.send(new ListTagsCommand({ ResourceArn: point.RecoveryPointArn })))).Tags ?? {};
        if (!Object.entries(want).every(([k, v]) => tags[k] === v)) continue;
        if (point.Status !== 'COMPLETED') {
          throw new ConflictError('snapshot-not-ready', `snapshot ${snapshotId} of volume "${from}" is still being taken by AWS Backup (${point.Status}); restore it once \`berth volumes snapshots ${from}\` lists it as complete`, { details: { volume: from, snapshot: snapshotId, status: point.Status } });
        }
        return { arn: point.RecoveryPointArn!, fileSystemId: point.ResourceArn!.split('/').pop()! };
      }
      NextToken = page.NextToken;
    } while (NextToken);
    throw new NotFoundError('snapshot-not-found', `volume "${from}" has no snapshot ${snapshotId} in vault ${this.config.backupVaultName}`, { details: { volume: from, snapshot: snapshotId }, next: [`berth volumes snapshots ${from}`] });
  }
}
