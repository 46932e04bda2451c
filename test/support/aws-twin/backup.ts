// AWS Backup in the twin, for EFS: on-demand backup jobs and restore jobs moving CREATED → RUNNING
// → COMPLETED on the twin's clock, recovery points in the vault (a copy of the file system's tree),
// and the "Restore Job State Change" event delivered to the backup-events Lambda as the EventBridge
// rule would. A restore never overwrites: it lands in `aws-backup-restore_<datetime>/` at the root.
import { randomUUID } from 'node:crypto';
import { InvalidRequestException, ResourceNotFoundException } from '@aws-sdk/client-backup';
import type { EfsState } from './efs.ts';
import { arn, TWIN_ACCOUNT, TWIN_REGION, type AwsTwin } from './twin.ts';

type JobState = 'CREATED' | 'RUNNING' | 'COMPLETED' | 'FAILED' | 'ABORTED';

export interface TwinRecoveryPoint {
  RecoveryPointArn: string;
  BackupVaultName: string;
  ResourceArn: string;
  Status: 'CREATING' | 'COMPLETED' | 'DELETING';
  tags: Record<string, string>;
  /** The file system's tree when the backup ran. */
  files: Map<string, string>;
}

export interface TwinRestoreJob {
  RestoreJobId: string;
  RecoveryPointArn: string;
  Metadata: Record<string, string>;
  IamRoleArn: string;
  Status: JobState;
  StatusMessage?: string;
  CreatedResourceArn?: string;
  /** The recovery directory the data landed in (`aws-backup-restore_<datetime>`). */
  directory?: string;
}

export interface BackupState {
  recoveryPoints: Map<string, TwinRecoveryPoint>;
  backupJobs: Map<string, { BackupJobId: string; State: JobState; RecoveryPointArn: string }>;
  restoreJobs: Map<string, TwinRestoreJob>;
  /** Where the EventBridge rule sends Backup events (the backup-events Lambda). */
  deliver?: (event: Record<string, unknown>) => Promise<unknown>;
  deliveryErrors: Error[];
  /** Makes the next restore job fail (a test of compensation). */
  failNextRestore?: string;
}

// AWS Backup documents the job states (https://docs.aws.amazon.com/aws-backup/latest/devguide/API_DescribeRestoreJob.html,
// API_DescribeBackupJob.html), not their durations; a small EFS takes minutes. Compressible.
export const BACKUP_TIMING = { startMs: 60_000, backupMs: 240_000, restoreMs: 300_000 };

export function install(twin: AwsTwin, options: { efs: EfsState; vaults: string[] }): BackupState {
  const state: BackupState = { recoveryPoints: new Map(), backupJobs: new Map(), restoreJobs: new Map(), deliveryErrors: [] };
  const byToken = new Map<string, string>();
  let deliveries: Promise<unknown> = Promise.resolve();
  const vault = (name: string) => {
    if (!options.vaults.includes(name)) throw new ResourceNotFoundException({ message: `Backup vault ${name} does not exist`, $metadata: {} });
  };

  // Restore job events go to EventBridge as "Restore Job State Change", source aws.backup
  // (https://docs.aws.amazon.com/aws-backup/latest/devguide/eventbridge.html).
  const emit = (job: TwinRestoreJob) => {
    const event = {
      version: '0',
      id: randomUUID(),
      'detail-type': 'Restore Job State Change',
      source: 'aws.backup',
      account: TWIN_ACCOUNT,
      time: twin.clock.date().toISOString(),
      region: TWIN_REGION,
      resources: [job.RecoveryPointArn],
      detail: { restoreJobId: job.RestoreJobId, status: job.Status, resourceType: 'EFS', iamRoleArn: job.IamRoleArn, ...(job.CreatedResourceArn ? { createdResourceArn: job.CreatedResourceArn } : {}), ...(job.StatusMessage ? { statusMessage: job.StatusMessage } : {}) },
    };
    if (!state.deliver) return;
    const deliver = state.deliver;
    deliveries = deliveries.then(() => twin.clock.run(`backup event ${event.id}`, () => deliver(event)).catch((err: Error) => void state.deliveryErrors.push(err)));
  };

  twin.handler('backup', 'StartBackupJob', (input) => {
    vault(input.BackupVaultName);
    const fs = options.efs.find(input.ResourceArn);
    if (!fs) throw new InvalidRequestException({ message: `Resource ${input.ResourceArn} not found`, $metadata: {} });
    // "Retrying a successful request with the same idempotency token results in a success message with no action taken"
    // (https://docs.aws.amazon.com/aws-backup/latest/devguide/API_StartBackupJob.html).
    const known = input.IdempotencyToken && byToken.get(`backup:${input.IdempotencyToken}`);
    if (known) {
      const job = state.backupJobs.get(known)!;
      return { BackupJobId: job.BackupJobId, RecoveryPointArn: job.RecoveryPointArn, CreationDate: twin.clock.date() };
    }
    const point: TwinRecoveryPoint = { RecoveryPointArn: arn('backup', `recovery-point:${randomUUID()}`), BackupVaultName: input.BackupVaultName, ResourceArn: fs.FileSystemArn, Status: 'CREATING', tags: { ...(input.RecoveryPointTags ?? {}) }, files: new Map() };
    const job = { BackupJobId: randomUUID(), State: 'CREATED' as JobState, RecoveryPointArn: point.RecoveryPointArn };
    state.backupJobs.set(job.BackupJobId, job);
    state.recoveryPoints.set(point.RecoveryPointArn, point);
    if (input.IdempotencyToken) byToken.set(`backup:${input.IdempotencyToken}`, job.BackupJobId);
    twin.clock.after(BACKUP_TIMING.startMs, () => {
      job.State = 'RUNNING';
      // EFS backups are of the file system as it is while the job runs (not atomic:
      // https://docs.aws.amazon.com/efs/latest/ug/awsbackup.html#backup-consistency); the twin copies it at once.
      point.files = new Map(fs.files);
      twin.clock.after(BACKUP_TIMING.backupMs, () => {
        job.State = 'COMPLETED';
        point.Status = 'COMPLETED';
      });
    });
    return { BackupJobId: job.BackupJobId, RecoveryPointArn: point.RecoveryPointArn, CreationDate: twin.clock.date() };
  });

  const describePoint = (p: TwinRecoveryPoint) => ({ RecoveryPointArn: p.RecoveryPointArn, BackupVaultName: p.BackupVaultName, ResourceArn: p.ResourceArn, ResourceType: 'EFS', Status: p.Status });
  twin.handler('backup', 'ListRecoveryPointsByBackupVault', (input) => {
    vault(input.BackupVaultName);
    const points = [...state.recoveryPoints.values()].filter((p) => p.BackupVaultName === input.BackupVaultName && p.Status !== 'DELETING' && (!input.ByResourceArn || p.ResourceArn === input.ByResourceArn) && (!input.ByResourceType || input.ByResourceType === 'EFS'));
    return { RecoveryPoints: points.map(describePoint) };
  });
  twin.handler('backup', 'ListTags', (input) => {
    const point = state.recoveryPoints.get(input.ResourceArn);
    if (!point) throw new ResourceNotFoundException({ message: `${input.ResourceArn} not found`, $metadata: {} });
    return { Tags: point.tags };
  });
  twin.handler('backup', 'DeleteRecoveryPoint', (input) => {
    const point = state.recoveryPoints.get(input.RecoveryPointArn);
    if (!point) throw new ResourceNotFoundException({ message: `${input.RecoveryPointArn} not found`, $metadata: {} });
    state.recoveryPoints.delete(input.RecoveryPointArn);
    return {};
  });

  twin.handler('backup', 'StartRestoreJob', (input) => {
    const point = state.recoveryPoints.get(input.RecoveryPointArn);
    if (!point) throw new ResourceNotFoundException({ message: `Recovery point ${input.RecoveryPointArn} not found`, $metadata: {} });
    if (point.Status !== 'COMPLETED') throw new InvalidRequestException({ message: `Recovery point ${input.RecoveryPointArn} is ${point.Status}, not COMPLETED`, $metadata: {} });
    const known = input.IdempotencyToken && byToken.get(`restore:${input.IdempotencyToken}`);
    if (known) return { RestoreJobId: known };
    const metadata = input.Metadata as Record<string, string>;
    // EFS restore metadata: file-system-id, newFileSystem, Encrypted, KmsKeyId, PerformanceMode,
    // CreationToken, ItemsToRestore (https://docs.aws.amazon.com/aws-backup/latest/devguide/API_StartRestoreJob.html).
    for (const key of ['file-system-id', 'newFileSystem', 'Encrypted', 'PerformanceMode']) {
      if (metadata[key] === undefined) throw new InvalidRequestException({ message: `Metadata ${key} is required to restore an EFS recovery point`, $metadata: {} });
    }
    const newFileSystem = metadata.newFileSystem === 'true';
    if (!newFileSystem && !options.efs.find(metadata['file-system-id'])) throw new InvalidRequestException({ message: `file system ${metadata['file-system-id']} does not exist`, $metadata: {} });
    const job: TwinRestoreJob = { RestoreJobId: randomUUID(), RecoveryPointArn: point.RecoveryPointArn, Metadata: metadata, IamRoleArn: input.IamRoleArn, Status: 'CREATED' };
    state.restoreJobs.set(job.RestoreJobId, job);
    if (input.IdempotencyToken) byToken.set(`restore:${input.IdempotencyToken}`, job.RestoreJobId);
    const failure = state.failNextRestore;
    state.failNextRestore = undefined;
    twin.clock.after(BACKUP_TIMING.startMs, () => {
      job.Status = 'RUNNING';
      emit(job);
      twin.clock.after(BACKUP_TIMING.restoreMs, () => {
        if (failure) {
          job.Status = 'FAILED';
          job.StatusMessage = failure;
          emit(job);
          return;
        }
        const target = newFileSystem
          ? options.efs.createFileSystem({ CreationToken: metadata.CreationToken ?? randomUUID(), Encrypted: metadata.Encrypted === 'true', KmsKeyId: metadata.KmsKeyId, PerformanceMode: metadata.PerformanceMode })
          : options.efs.find(metadata['file-system-id'])!;
        // "AWS Backup restores your file system to a recovery directory off of the root directory",
        // `aws-backup-restore_datetime`, in a new file system as in an existing one
        // (https://docs.aws.amazon.com/aws-backup/latest/devguide/restoring-efs.html). The datetime's exact format is not documented.
        job.directory = `aws-backup-restore_${twin.clock.date().toISOString().replace(/[:.]/g, '-')}`;
        for (const [path, content] of point.files) target.files.set(`/${job.directory}${path}`, content);
        job.Status = 'COMPLETED';
        job.CreatedResourceArn = target.FileSystemArn;
        emit(job);
      });
    });
    return { RestoreJobId: job.RestoreJobId };
  });
  twin.handler('backup', 'DescribeRestoreJob', (input) => {
    const job = state.restoreJobs.get(input.RestoreJobId);
    if (!job) throw new ResourceNotFoundException({ message: `Restore job ${input.RestoreJobId} not found`, $metadata: {} });
    return { RestoreJobId: job.RestoreJobId, RecoveryPointArn: job.RecoveryPointArn, Status: job.Status, StatusMessage: job.StatusMessage, CreatedResourceArn: job.CreatedResourceArn, ResourceType: 'EFS', IamRoleArn: job.IamRoleArn };
  });
  return state;
}
