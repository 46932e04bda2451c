// The EFS and AWS Backup twins behave as their AWS pages say (each behaviour cites its page in
// efs.ts / backup.ts): lifecycle states on the twin clock, the errors of a wrong order, and
// restores that never overwrite. Called at the twin's command boundary, as the SDK middleware would.
import { FileSystemInUse, IncorrectFileSystemLifeCycleState, MountTargetConflict } from '@aws-sdk/client-efs';
import { InvalidRequestException } from '@aws-sdk/client-backup';
import { describe, expect, it } from 'vitest';
import { BACKUP_TIMING, install as installBackup } from './support/aws-twin/backup.ts';
import { EFS_TIMING, install as installEfs } from './support/aws-twin/efs.ts';
import { AwsTwin } from './support/aws-twin/twin.ts';

function twin() {
  const t = new AwsTwin();
  const efs = installEfs(t, { subnets: { 'subnet-a': 'eu-west-1a', 'subnet-a2': 'eu-west-1a', 'subnet-b': 'eu-west-1b' } });
  const backup = installBackup(t, { efs, vaults: ['vault'] });
  const events: any[] = [];
  backup.deliver = async (e) => void events.push(e);
  const call = (service: 'efs' | 'backup', name: string, input: unknown) => t.call(service, name, input, 'steps') as Promise<any>;
  return { t, efs, backup, events, call };
}

describe('EFS twin', () => {
  it('a file system is creating, then available; a mount target on it before then is IncorrectFileSystemLifeCycleState', async () => {
    const { t, call } = twin();
    const fs = await call('efs', 'CreateFileSystem', { CreationToken: 'tok', Encrypted: true });
    expect(fs.LifeCycleState).toBe('creating');
    await expect(call('efs', 'CreateMountTarget', { FileSystemId: fs.FileSystemId, SubnetId: 'subnet-a' })).rejects.toBeInstanceOf(IncorrectFileSystemLifeCycleState);
    await t.clock.advance(EFS_TIMING.fileSystemMs);
    expect((await call('efs', 'DescribeFileSystems', { FileSystemId: fs.FileSystemId })).FileSystems[0].LifeCycleState).toBe('available');
    const mt = await call('efs', 'CreateMountTarget', { FileSystemId: fs.FileSystemId, SubnetId: 'subnet-a' });
    expect(mt.LifeCycleState).toBe('creating');
    await t.clock.advance(EFS_TIMING.mountTargetMs);
    expect((await call('efs', 'DescribeMountTargets', { FileSystemId: fs.FileSystemId })).MountTargets.map((m: any) => m.LifeCycleState)).toEqual(['available']);
  });

  it('a second mount target in the same zone is MountTargetConflict, and a second create with the same token answers the first file system', async () => {
    const { t, call } = twin();
    const fs = await call('efs', 'CreateFileSystem', { CreationToken: 'tok' });
    await t.clock.advance(EFS_TIMING.fileSystemMs);
    await call('efs', 'CreateMountTarget', { FileSystemId: fs.FileSystemId, SubnetId: 'subnet-a' });
    await expect(call('efs', 'CreateMountTarget', { FileSystemId: fs.FileSystemId, SubnetId: 'subnet-a2' })).rejects.toBeInstanceOf(MountTargetConflict);
    await expect(call('efs', 'CreateFileSystem', { CreationToken: 'tok' })).rejects.toMatchObject({ name: 'FileSystemAlreadyExists', FileSystemId: fs.FileSystemId });
  });

  it('DeleteFileSystem is FileSystemInUse while a mount target exists, then deleting → deleted once they are gone', async () => {
    const { t, efs, call } = twin();
    const fs = await call('efs', 'CreateFileSystem', { CreationToken: 'tok' });
    await t.clock.advance(EFS_TIMING.fileSystemMs);
    const mt = await call('efs', 'CreateMountTarget', { FileSystemId: fs.FileSystemId, SubnetId: 'subnet-b' });
    await t.clock.advance(EFS_TIMING.mountTargetMs);
    await expect(call('efs', 'DeleteFileSystem', { FileSystemId: fs.FileSystemId })).rejects.toBeInstanceOf(FileSystemInUse);
    await call('efs', 'DeleteMountTarget', { MountTargetId: mt.MountTargetId });
    await expect(call('efs', 'DeleteFileSystem', { FileSystemId: fs.FileSystemId })).rejects.toBeInstanceOf(FileSystemInUse);
    await t.clock.advance(EFS_TIMING.mountTargetDeleteMs);
    await call('efs', 'DeleteFileSystem', { FileSystemId: fs.FileSystemId });
    expect(efs.fileSystems.get(fs.FileSystemId)?.LifeCycleState).toBe('deleting');
    await t.clock.advance(EFS_TIMING.fileSystemDeleteMs);
    expect((await call('efs', 'DescribeFileSystems', { CreationToken: 'tok' })).FileSystems).toEqual([]);
  });
});

describe('AWS Backup twin', () => {
  async function backedUp() {
    const w = twin();
    const fs = await w.call('efs', 'CreateFileSystem', { CreationToken: 'tok' });
    await w.t.clock.advance(EFS_TIMING.fileSystemMs);
    w.efs.find(fs.FileSystemId)!.files.set('/data/a', 'one');
    const job = await w.call('backup', 'StartBackupJob', { BackupVaultName: 'vault', ResourceArn: fs.FileSystemArn, IamRoleArn: 'role', IdempotencyToken: 'snap-1', RecoveryPointTags: { 'berth:snapshot': 'snap-1' } });
    return { ...w, fs, job };
  }

  it('a backup job is CREATED → RUNNING → COMPLETED on the clock; its recovery point cannot be restored before, and a retried start with the same token starts no second job', async () => {
    const { t, backup, job, fs, call } = await backedUp();
    expect(backup.backupJobs.get(job.BackupJobId)?.State).toBe('CREATED');
    expect((await call('backup', 'StartBackupJob', { BackupVaultName: 'vault', ResourceArn: fs.FileSystemArn, IamRoleArn: 'role', IdempotencyToken: 'snap-1' })).BackupJobId).toBe(job.BackupJobId);
    await expect(call('backup', 'StartRestoreJob', { RecoveryPointArn: job.RecoveryPointArn, IamRoleArn: 'role', Metadata: { 'file-system-id': fs.FileSystemId, newFileSystem: 'false', Encrypted: 'true', PerformanceMode: 'generalPurpose' } })).rejects.toBeInstanceOf(InvalidRequestException);
    await t.clock.advance(BACKUP_TIMING.startMs);
    expect(backup.backupJobs.get(job.BackupJobId)?.State).toBe('RUNNING');
    await t.clock.advance(BACKUP_TIMING.backupMs);
    expect(backup.backupJobs.get(job.BackupJobId)?.State).toBe('COMPLETED');
    expect(backup.recoveryPoints.get(job.RecoveryPointArn)?.files.get('/data/a')).toBe('one');
  });

  it('a restore into the same file system lands in aws-backup-restore_<datetime>/ and leaves the data in place; its state changes are delivered as Restore Job State Change events', async () => {
    const { t, efs, events, job, fs, call } = await backedUp();
    await t.clock.advance(BACKUP_TIMING.startMs + BACKUP_TIMING.backupMs);
    efs.find(fs.FileSystemId)!.files.set('/data/a', 'two');
    const { RestoreJobId } = await call('backup', 'StartRestoreJob', { RecoveryPointArn: job.RecoveryPointArn, IamRoleArn: 'role', Metadata: { 'file-system-id': fs.FileSystemId, newFileSystem: 'false', Encrypted: 'true', PerformanceMode: 'generalPurpose' } });
    await t.clock.advance(BACKUP_TIMING.startMs + BACKUP_TIMING.restoreMs);
    const files = efs.find(fs.FileSystemId)!.files;
    expect(files.get('/data/a')).toBe('two');
    expect([...files].filter(([p]) => /^\/aws-backup-restore_[\dT-]+Z\/data\/a$/.test(p)).map(([, c]) => c)).toEqual(['one']);
    expect(events.map((e) => `${e.source} ${e['detail-type']} ${e.detail.restoreJobId === RestoreJobId} ${e.detail.status}`)).toEqual(['aws.backup Restore Job State Change true RUNNING', 'aws.backup Restore Job State Change true COMPLETED']);
    expect((await call('backup', 'DescribeRestoreJob', { RestoreJobId })).Status).toBe('COMPLETED');
  });

  it('a restore with newFileSystem=true creates a file system with the given creation token, the data also in a recovery directory', async () => {
    const { t, efs, job, fs, call } = await backedUp();
    await t.clock.advance(BACKUP_TIMING.startMs + BACKUP_TIMING.backupMs);
    const { RestoreJobId } = await call('backup', 'StartRestoreJob', { RecoveryPointArn: job.RecoveryPointArn, IamRoleArn: 'role', Metadata: { 'file-system-id': fs.FileSystemId, newFileSystem: 'true', Encrypted: 'true', PerformanceMode: 'generalPurpose', CreationToken: 'copy-tok' } });
    await t.clock.advance(BACKUP_TIMING.startMs + BACKUP_TIMING.restoreMs);
    const created = efs.find((await call('backup', 'DescribeRestoreJob', { RestoreJobId })).CreatedResourceArn)!;
    expect(created.CreationToken).toBe('copy-tok');
    expect(created.Tags).toEqual([]);
    expect([...created.files.keys()]).toEqual([expect.stringMatching(/^\/aws-backup-restore_.*\/data\/a$/)]);
  });
});
