import { BackupClient, DeleteRecoveryPointCommand, ListRecoveryPointsByBackupVaultCommand, ListTagsCommand, StartBackupJobCommand } from '@aws-sdk/client-backup';
import {
  CreateAccessPointCommand,
  CreateFileSystemCommand,
  CreateMountTargetCommand,
  DeleteAccessPointCommand,
  DeleteFileSystemCommand,
  DeleteMountTargetCommand,
  DescribeAccessPointsCommand,
  DescribeFileSystemsCommand,
  DescribeMountTargetsCommand,
  EFSClient,
  FileSystemAlreadyExists,
  TagResourceCommand,
  UntagResourceCommand,
  type FileSystemDescription,
  type MountTargetDescription,
} from '@aws-sdk/client-efs';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import type { EnvRef } from '../functions/core/ports.ts';
import { EfsVolumeDriver } from '../functions/drivers/aws/efs-volumes.ts';
import { fileSystemToken } from '../functions/drivers/aws/tags.ts';
import { parseVolumeRef } from '../functions/drivers/aws/volume-ref.ts';

const env: EnvRef = { org: 'acme', project: 'shop', app: 'api', env: 'prod' };
const config = {
  taskSubnets: [{ az: 'eu-west-1a', id: 'subnet-a' }, { az: 'eu-west-1b', id: 'subnet-b' }],
  volumeSecurityGroupId: 'sg-efs',
  kmsKeyId: 'alias/berth',
  backupVaultName: 'berth-vault',
  backupRoleArn: 'arn:aws:iam::123456789012:role/backup',
};
const FS = { FileSystemId: 'fs-0123abcd', FileSystemArn: 'arn:aws:elasticfilesystem:eu-west-1:1:file-system/fs-0123abcd', LifeCycleState: 'available', SizeInBytes: { Value: 6144 } } as FileSystemDescription;
// The fields a test sets; the SDK types demand every field AWS always returns.
const mt = (o: Partial<MountTargetDescription>) => o as MountTargetDescription;
const TAGS = [
  { Key: 'berth:org', Value: 'acme' },
  { Key: 'berth:project', Value: 'shop' },
  { Key: 'berth:app', Value: 'api' },
  { Key: 'berth:env', Value: 'prod' },
];

const efs = mockClient(EFSClient);
const backup = mockClient(BackupClient);
let now = 0;
const clock = { now: () => now, sleep: async (ms: number) => void (now += ms) };
const driver = () => new EfsVolumeDriver({ efs: new EFSClient({ region: 'eu-west-1' }), backup: new BackupClient({ region: 'eu-west-1' }) }, config, { clock, timing: { intervalMs: 10, timeoutMs: 100 } });

beforeEach(() => {
  efs.reset();
  backup.reset();
});

function newVolume(zone?: string): void {
  efs.on(DescribeFileSystemsCommand, { CreationToken: fileSystemToken(env, 'data') }).resolves({ FileSystems: [] });
  efs.on(CreateFileSystemCommand).resolves({ FileSystemId: FS.FileSystemId });
  efs.on(DescribeFileSystemsCommand, { FileSystemId: FS.FileSystemId }).resolvesOnce({ FileSystems: [{ ...FS, LifeCycleState: 'creating', AvailabilityZoneName: zone }] }).resolves({ FileSystems: [{ ...FS, AvailabilityZoneName: zone }] });
  efs.on(DescribeMountTargetsCommand).resolvesOnce({ MountTargets: [] }).resolves({ MountTargets: [mt({ MountTargetId: 'fsmt-1', FileSystemId: FS.FileSystemId, SubnetId: 'subnet-b', LifeCycleState: 'available' })] });
  efs.on(DescribeAccessPointsCommand).resolves({ AccessPoints: [] });
  efs.on(CreateAccessPointCommand).resolves({ AccessPointId: 'fsap-0456cdef' });
}

describe('EfsVolumeDriver.ensure', () => {
  it('creates an encrypted, elastic One Zone file system with a deterministic token and the env tags', async () => {
    newVolume('eu-west-1b');
    const { dir } = await driver().ensure(env, 'data', { sizeGiB: 10, zone: 'eu-west-1b' });
    expect(efs.commandCalls(CreateFileSystemCommand)[0].args[0].input).toEqual({
      CreationToken: fileSystemToken(env, 'data'),
      Encrypted: true,
      KmsKeyId: 'alias/berth',
      PerformanceMode: 'generalPurpose',
      ThroughputMode: 'elastic',
      AvailabilityZoneName: 'eu-west-1b',
      Tags: [...TAGS, { Key: 'Name', Value: 'berth api/prod/data' }, { Key: 'berth:volume', Value: 'data' }],
    });
    // One Zone: a mount target only in that zone's subnet.
    expect(efs.commandCalls(CreateMountTargetCommand).map((c) => c.args[0].input)).toEqual([{ FileSystemId: FS.FileSystemId, SubnetId: 'subnet-b', SecurityGroups: ['sg-efs'], IpAddressType: 'DUAL_STACK' }]);
    expect(efs.commandCalls(CreateAccessPointCommand)[0].args[0].input).toMatchObject({
      FileSystemId: FS.FileSystemId,
      PosixUser: { Uid: 1000, Gid: 1000 },
      RootDirectory: { Path: '/data', CreationInfo: { OwnerUid: 1000, OwnerGid: 1000, Permissions: '0750' } },
      Tags: [...TAGS, { Key: 'berth:volume', Value: 'data' }, { Key: 'berth:posix-user', Value: '1000:1000' }],
    });
    expect(parseVolumeRef(dir, 'data')).toEqual({ fileSystemId: FS.FileSystemId, accessPointId: 'fsap-0456cdef', zone: 'eu-west-1b' });
  });

  it('a regional volume gets a mount target in every subnet and no zone', async () => {
    newVolume();
    await driver().ensure(env, 'data', { sizeGiB: 10 });
    expect(efs.commandCalls(CreateFileSystemCommand)[0].args[0].input.AvailabilityZoneName).toBeUndefined();
    expect(efs.commandCalls(CreateMountTargetCommand).map((c) => c.args[0].input.SubnetId)).toEqual(['subnet-a', 'subnet-b']);
  });

  it('a retried create finds the file system by its creation token', async () => {
    newVolume();
    efs.on(CreateFileSystemCommand).rejects(new FileSystemAlreadyExists({ message: 'exists', ErrorCode: 'FileSystemAlreadyExists', FileSystemId: FS.FileSystemId, $metadata: {} }));
    const { dir } = await driver().ensure(env, 'data', { sizeGiB: 10 });
    expect(dir).toBe(`efs://${FS.FileSystemId}/fsap-0456cdef`);
  });

  it('refuses a zone without a Berth subnet', async () => {
    await expect(driver().ensure(env, 'data', { sizeGiB: 1, zone: 'eu-west-1c' })).rejects.toMatchObject({ category: 'invalid-input', code: 'zone-without-subnet' });
  });

  it('times out with a timeout error when the file system never becomes available', async () => {
    newVolume();
    efs.on(DescribeFileSystemsCommand, { FileSystemId: FS.FileSystemId }).resolves({ FileSystems: [{ ...FS, LifeCycleState: 'creating' }] });
    await expect(driver().ensure(env, 'data', { sizeGiB: 1 })).rejects.toMatchObject({ category: 'timeout' });
  });
});

describe('EfsVolumeDriver snapshots and deletes', () => {
  beforeEach(() => {
    efs.on(DescribeFileSystemsCommand).resolves({ FileSystems: [{ ...FS, Tags: [{ Key: 'berth:deleting', Value: 'op-1' }] }] });
  });

  it('snapshot starts an on-demand AWS Backup job into the vault, tagged with the snapshot id', async () => {
    expect(await driver().snapshot(env, 'data', 'snap-1')).toEqual({ sizeBytes: 6144 });
    const job = backup.commandCalls(StartBackupJobCommand)[0].args[0].input;
    expect(job).toMatchObject({ BackupVaultName: 'berth-vault', ResourceArn: FS.FileSystemArn, IamRoleArn: config.backupRoleArn });
    expect(job.IdempotencyToken).toMatch(/^[0-9a-f]{64}$/);
    expect(job.RecoveryPointTags).toEqual({ 'berth:org': 'acme', 'berth:project': 'shop', 'berth:app': 'api', 'berth:env': 'prod', 'berth:volume': 'data', 'berth:snapshot': 'snap-1' });
  });

  it('deleteSnapshot deletes the recovery point tagged with the snapshot id', async () => {
    backup.on(ListRecoveryPointsByBackupVaultCommand).resolves({ RecoveryPoints: [{ RecoveryPointArn: 'rp-1' }, { RecoveryPointArn: 'rp-2' }] });
    const tags = { 'berth:org': 'acme', 'berth:project': 'shop', 'berth:app': 'api', 'berth:env': 'prod', 'berth:volume': 'data' };
    backup.on(ListTagsCommand, { ResourceArn: 'rp-1' }).resolves({ Tags: { ...tags, 'berth:snapshot': 'snap-0' } });
    backup.on(ListTagsCommand, { ResourceArn: 'rp-2' }).resolves({ Tags: { ...tags, 'berth:snapshot': 'snap-1' } });
    await driver().deleteSnapshot(env, 'data', 'snap-1');
    expect(backup.commandCalls(ListRecoveryPointsByBackupVaultCommand)[0].args[0].input).toMatchObject({ BackupVaultName: 'berth-vault', ByResourceArn: FS.FileSystemArn });
    expect(backup.commandCalls(DeleteRecoveryPointCommand).map((c) => c.args[0].input)).toEqual([{ BackupVaultName: 'berth-vault', RecoveryPointArn: 'rp-2' }]);
  });

  it('setAside tags the file system with the operation token, restore untags it, and an aside volume does not exist', async () => {
    efs.on(DescribeFileSystemsCommand).resolves({ FileSystems: [FS] });
    await driver().setAside(env, 'data', 'op-2');
    expect(efs.commandCalls(TagResourceCommand)[0].args[0].input).toEqual({ ResourceId: FS.FileSystemId, Tags: [{ Key: 'berth:deleting', Value: 'op-2' }] });
    efs.on(DescribeFileSystemsCommand).resolves({ FileSystems: [{ ...FS, Tags: [{ Key: 'berth:deleting', Value: 'op-2' }] }] });
    expect(await driver().exists(env, 'data')).toBe(false);
    await driver().restore(env, 'data', 'op-2');
    expect(efs.commandCalls(UntagResourceCommand)[0].args[0].input).toEqual({ ResourceId: FS.FileSystemId, TagKeys: ['berth:deleting'] });
  });

  it('purge deletes access points, then mount targets, waits for them, then the file system', async () => {
    efs.on(DescribeAccessPointsCommand).resolves({ AccessPoints: [{ AccessPointId: 'fsap-1' }] });
    efs.on(DescribeMountTargetsCommand).resolvesOnce({ MountTargets: [mt({ MountTargetId: 'fsmt-1', LifeCycleState: 'available' })] }).resolvesOnce({ MountTargets: [mt({ MountTargetId: 'fsmt-1', LifeCycleState: 'deleting' })] }).resolves({ MountTargets: [] });
    backup.on(ListRecoveryPointsByBackupVaultCommand).resolves({ RecoveryPoints: [] });
    await driver().purge(env, 'data', 'op-1');
    const order = efs.calls().map((c) => (c.args[0] as object).constructor.name).filter((n) => n.startsWith('Delete'));
    expect(order).toEqual(['DeleteAccessPointCommand', 'DeleteMountTargetCommand', 'DeleteFileSystemCommand']);
    expect(efs.commandCalls(DeleteFileSystemCommand)[0].args[0].input).toEqual({ FileSystemId: FS.FileSystemId });
  });

  it('purge with another token leaves the volume alone', async () => {
    await driver().purge(env, 'data', 'op-other');
    expect(efs.commandCalls(DeleteAccessPointCommand)).toHaveLength(0);
    expect(efs.commandCalls(DeleteMountTargetCommand)).toHaveLength(0);
  });
});

describe('EfsVolumeDriver: workload user and restores', () => {
  it('a numeric user (uid or uid:gid) becomes the access point user; a user name, which only the image can resolve, keeps uid/gid 1000', async () => {
    const { posixUserOf } = await import('../functions/drivers/aws/efs-volumes.ts');
    expect(posixUserOf('999:998')).toEqual({ uid: 999, gid: 998 });
    expect(posixUserOf('999')).toEqual({ uid: 999, gid: 999 });
    expect(posixUserOf('postgres')).toEqual({ uid: 1000, gid: 1000 });
    expect(posixUserOf(undefined)).toEqual({ uid: 1000, gid: 1000 });
  });

  it('without the swap task settings (no ECS client) the driver says it restores no snapshots, so the API refuses before anything stops', async () => {
    expect(driver().restoresSnapshots).toBe(false);
    expect(driver().stagedRestore).toBeUndefined();
    await expect(driver().restoreSnapshot(env, 'data', 'snap-1')).rejects.toMatchObject({ category: 'invalid-input', code: 'restore-not-configured' });
  });
});
