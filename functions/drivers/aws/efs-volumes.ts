// AWS volumes: one encrypted EFS file system per volume (One Zone when the volume names a zone),
// a mount target in each task subnet (the zone's only, for One Zone), and an access point that roots the mount and fixes its
// owner. EFS grows and shrinks by itself, so `resize` only records; snapshots are AWS Backup
// recovery points, restored by a restore job and a swap task (efs-restore.ts); a deleted volume is
// first tagged aside, so the delete can still be undone.
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
  FileSystemAlreadyExists,
  MountTargetConflict,
  TagResourceCommand,
  UntagResourceCommand,
  type EFSClient,
  type FileSystemDescription,
} from '@aws-sdk/client-efs';
import type { BackupClient } from '@aws-sdk/client-backup';
import type { ECSClient } from '@aws-sdk/client-ecs';
import type { Volume } from '../../contract/manifest.ts';
import { ConflictError, InvalidInputError, NotFoundError, TimeoutError } from '../../core/errors.ts';
import type { AsideScope, EnvRef, StagedRestore, VolumeDriver } from '../../core/ports.ts';
import { attempt } from './aws-errors.ts';
import type { AwsRuntimeConfig } from './config.ts';
import { EfsRestores, type SwapAction } from './efs-restore.ts';
import { deleteRecoveryPoints, startSnapshot } from './efs-snapshots.ts';
import { pollUntil, realClock, type Clock, type PollTiming } from './poll.ts';
import { berthTagMap, berthTags, fileSystemToken } from './tags.ts';
import { formatVolumeRef } from './volume-ref.ts';

export const DELETING_TAG = 'berth:deleting';
// Files written through the access point belong to its POSIX user whatever uid the app runs as:
// the workload's numeric `user` when it has one, else this uid/gid.
const POSIX_ID = 1000;
const POSIX_TAG = 'berth:posix-user';

export interface EfsVolumeOptions {
  clock?: Clock;
  /** How long to wait for a file system or mount target to become available / go away. @default 5 s, 300 s */
  timing?: PollTiming;
}

type EfsConfig = Pick<AwsRuntimeConfig, 'taskSubnets' | 'volumeSecurityGroupId' | 'kmsKeyId' | 'backupVaultName' | 'backupRoleArn'> &
  Partial<Pick<AwsRuntimeConfig, 'clusterArn' | 'taskSecurityGroupId' | 'taskExecutionRoleArn' | 'assignPublicIp' | 'initImage' | 'volumeSwapRoleArn' | 'logGroupPrefix' | 'region'>>;

export class EfsVolumeDriver implements VolumeDriver {
  private readonly efs: EFSClient;
  private readonly backup: BackupClient;
  private readonly clock: Clock;
  private readonly timing: PollTiming;
  private readonly restores?: EfsRestores;
  /** With an ECS client (the swap task) snapshots restore; without one (driver unit tests) they are refused up front. */
  readonly restoresSnapshots: boolean;
  readonly stagedRestore?: StagedRestore;

  constructor(
    clients: { efs: EFSClient; backup: BackupClient; ecs?: ECSClient },
    private readonly config: EfsConfig,
    options: EfsVolumeOptions & { swapTiming?: PollTiming } = {},
  ) {
    this.efs = clients.efs;
    this.backup = clients.backup;
    this.clock = options.clock ?? realClock;
    this.timing = options.timing ?? { intervalMs: 5000, timeoutMs: 300_000 };
    const { clusterArn, taskSecurityGroupId, taskExecutionRoleArn, initImage, volumeSwapRoleArn } = config;
    if (clients.ecs && clusterArn && taskSecurityGroupId && taskExecutionRoleArn && initImage && volumeSwapRoleArn) {
      const restores = new EfsRestores({ backup: clients.backup, ecs: clients.ecs }, { ...config, clusterArn, taskSecurityGroupId, taskExecutionRoleArn, initImage, volumeSwapRoleArn, assignPublicIp: config.assignPublicIp ?? false }, this.clock, options.swapTiming);
      this.restores = restores;
      this.stagedRestore = {
        start: async (env, name, snapshotId, token, from = name) => {
          // Into the volume's own file system (a restore), or a new one that becomes the volume (create --from-snapshot).
          const fs = await this.find(env, name);
          return { jobId: await restores.start(env, name, from, snapshotId, token, fs ? { fileSystemId: fs.FileSystemId! } : undefined) };
        },
        status: (jobId) => restores.status(jobId),
      };
    }
    this.restoresSnapshots = Boolean(this.restores);
  }

  async ensure(env: EnvRef, name: string, volume: Volume, options: { user?: string } = {}): Promise<{ dir: string }> {
    const subnets = this.config.taskSubnets.filter((s) => !volume.zone || s.az === volume.zone);
    if (!subnets.length) {
      throw new InvalidInputError('zone-without-subnet', `volume "${name}" asks for zone ${volume.zone}, where the Berth VPC has no subnet; use one of ${this.config.taskSubnets.map((s) => s.az).join(', ')} or leave out \`zone\``, {
        details: { volume: name, zone: volume.zone },
      });
    }
    const existing = await this.find(env, name);
    if (existing?.LifeCycleState === 'deleting') {
      throw new ConflictError('volume-being-deleted', `volume "${name}" is still being deleted by AWS; retry in a minute`, { details: { volume: name, fileSystemId: existing.FileSystemId } });
    }
    if (existing && tagOf(existing, DELETING_TAG)) {
      throw new ConflictError('volume-set-aside', `volume "${name}" is being deleted by operation ${tagOf(existing, DELETING_TAG)}; wait for it to finish (or fail and restore the volume)`, {
        details: { volume: name, operation: tagOf(existing, DELETING_TAG) },
        next: ['berth events'],
      });
    }
    if (existing && existing.AvailabilityZoneName !== volume.zone) {
      throw new InvalidInputError('volume-zone-fixed', `volume "${name}" exists in ${existing.AvailabilityZoneName ?? 'every zone (regional)'}; its zone cannot change to ${volume.zone ?? 'regional'} — create a new volume instead`, {
        details: { volume: name, zone: existing.AvailabilityZoneName, requested: volume.zone },
      });
    }
    const fileSystemId = existing?.FileSystemId ?? (await this.create(env, name, volume));
    // A file system AWS Backup restored (create --from-snapshot) carries no tags: give it the volume's,
    // which the platform's IAM conditions and cost allocation read.
    if (existing && !tagOf(existing, 'berth:volume')) {
      await attempt(`tag the restored file system of volume "${name}"`, () => this.efs.send(new TagResourceCommand({ ResourceId: fileSystemId, Tags: berthTags(env, { Name: `berth ${env.app}/${env.env}/${name}`, 'berth:volume': name }) })));
    }
    await this.waitFor(`file system of volume "${name}" to become available`, async () => (await this.describe(fileSystemId))?.LifeCycleState === 'available');
    const mounted = await this.mountTargets(fileSystemId);
    for (const subnet of subnets.filter((s) => !mounted.some((m) => m.SubnetId === s.id))) {
      await attempt(
        `create a mount target for volume "${name}" in ${subnet.az}`,
        () => this.efs.send(new CreateMountTargetCommand({ FileSystemId: fileSystemId, SubnetId: subnet.id, SecurityGroups: [this.config.volumeSecurityGroupId], IpAddressType: 'DUAL_STACK' })),
        (err) => {
          // One already serves that zone (created by an earlier, interrupted ensure).
          if (err instanceof MountTargetConflict) return undefined;
          throw err;
        },
      );
    }
    // A task that starts before its zone's mount target is available fails to mount.
    await this.waitFor(`mount targets of volume "${name}"`, async () => (await this.mountTargets(fileSystemId)).every((m) => m.LifeCycleState === 'available'));
    const accessPointId = await this.ensureAccessPoint(env, name, fileSystemId, posixUserOf(options.user));
    return { dir: formatVolumeRef({ fileSystemId, accessPointId, ...(volume.zone ? { zone: volume.zone } : {}) }) };
  }

  async exists(env: EnvRef, name: string): Promise<boolean> {
    const fs = await this.find(env, name);
    return Boolean(fs && fs.LifeCycleState !== 'deleting' && !tagOf(fs, DELETING_TAG));
  }

  /** EFS is elastic: it has no size to apply. The size stays desired state (and a billing hint). */
  async resize(): Promise<void> {}

  async snapshot(env: EnvRef, name: string, snapshotId: string): Promise<{ sizeBytes: number }> {
    const fs = await this.require(env, name);
    await startSnapshot(this.backup, this.config, env, name, fs.FileSystemArn!, snapshotId);
    // The backup job runs on for minutes; the size is the file system's metered size now.
    return { sizeBytes: fs.SizeInBytes?.Value ?? 0 };
  }

  async deleteSnapshot(env: EnvRef, name: string, snapshotId: string): Promise<void> {
    const fs = await this.find(env, name);
    await deleteRecoveryPoints(this.backup, this.config, fs?.FileSystemArn, (tags) => tags['berth:snapshot'] === snapshotId && isVolume(tags, env, name));
  }

  async setAside(env: EnvRef, name: string, token: string, scope: AsideScope = 'volume'): Promise<void> {
    if (scope === 'data') return this.swap(env, name, 'aside', token);
    const fs = await this.find(env, name);
    if (!fs || fs.LifeCycleState === 'deleting' || tagOf(fs, DELETING_TAG) === token) return;
    await attempt(`set volume "${name}" aside`, () => this.efs.send(new TagResourceCommand({ ResourceId: fs.FileSystemId, Tags: [{ Key: DELETING_TAG, Value: token }] })));
  }

  async restore(env: EnvRef, name: string, token: string, scope: AsideScope = 'volume'): Promise<void> {
    if (scope === 'data') return this.swap(env, name, 'back', token);
    const fs = await this.find(env, name);
    if (!fs || tagOf(fs, DELETING_TAG) !== token) return;
    await attempt(`restore volume "${name}"`, () => this.efs.send(new UntagResourceCommand({ ResourceId: fs.FileSystemId, TagKeys: [DELETING_TAG] })));
  }

  /**
   * The last stage of a restore (`stagedRestore` ran the job; the writers are stopped, the data set
   * aside): the swap task moves the restored `data` from the recovery directory into place.
   */
  async restoreSnapshot(env: EnvRef, name: string, snapshotId: string): Promise<void> {
    if (!this.restores) {
      throw new InvalidInputError('restore-not-configured', `restoring snapshot ${snapshotId} of volume "${name}" needs the swap task's settings (CLUSTER_ARN, TASK_SECURITY_GROUP_ID, VOLUME_SWAP_ROLE_ARN), which this platform was built without`, {
        details: { volume: name, snapshot: snapshotId },
      });
    }
    await this.swap(env, name, 'place', snapshotId);
  }

  /** The data a restore replaced (`.berth-aside/<token>` on the file system) is deleted; snapshots stay. */
  async discardAside(env: EnvRef, name: string, token: string): Promise<void> {
    await this.swap(env, name, 'discard', token);
  }

  async purge(env: EnvRef, name: string, token: string): Promise<void> {
    const fs = await this.find(env, name);
    if (!fs || tagOf(fs, DELETING_TAG) !== token) return;
    if (fs.LifeCycleState !== 'deleting') await this.destroy(name, fs);
    // Embedded purge removes the volume's snapshots too; so does this.
    await deleteRecoveryPoints(this.backup, this.config, fs.FileSystemArn, (tags) => isVolume(tags, env, name));
  }

  /**
   * Env destroy without `--purge-volumes`: the mount targets go (each is a network interface in a
   * Berth subnet, which keeps the VPC from being deleted), the file system, its access point and
   * its data stay. `ensure` creates the mount targets again.
   */
  async detach(env: EnvRef, name: string): Promise<void> {
    const fs = await this.find(env, name);
    if (!fs || fs.LifeCycleState === 'deleting') return;
    const id = fs.FileSystemId!;
    for (const mt of await this.mountTargets(id)) {
      if (mt.LifeCycleState !== 'deleting') await attempt(`delete a mount target of volume "${name}"`, () => this.efs.send(new DeleteMountTargetCommand({ MountTargetId: mt.MountTargetId })));
    }
    await this.waitFor(`mount targets of volume "${name}" to be deleted`, async () => (await this.mountTargets(id)).length === 0);
  }

  async remove(env: EnvRef, name: string): Promise<void> {
    const fs = await this.find(env, name);
    if (fs && fs.LifeCycleState !== 'deleting') await this.destroy(name, fs);
  }

  private async create(env: EnvRef, name: string, volume: Volume): Promise<string> {
    return attempt(
      `create the file system of volume "${name}"`,
      async () =>
        (
          await this.efs.send(
            new CreateFileSystemCommand({
              // The same token for the same volume: a retried create returns the first file system.
              CreationToken: fileSystemToken(env, name),
              Encrypted: true,
              KmsKeyId: this.config.kmsKeyId,
              PerformanceMode: 'generalPurpose',
              ThroughputMode: 'elastic',
              ...(volume.zone ? { AvailabilityZoneName: volume.zone } : {}),
              Tags: berthTags(env, { Name: `berth ${env.app}/${env.env}/${name}`, 'berth:volume': name }),
            }),
          )
        ).FileSystemId!,
      (err) => {
        if (err instanceof FileSystemAlreadyExists && err.FileSystemId) return err.FileSystemId;
        throw err;
      },
    );
  }

  /**
   * The access point for `posix` (uid:gid). Access points cannot change (there is no UpdateAccessPoint:
   * https://docs.aws.amazon.com/efs/latest/ug/API_Operations.html), so another user gets another
   * access point on the same `/data`; the old one stays until the volume is deleted. An existing
   * `/data` keeps its owner: CreationInfo applies only when EFS creates the directory.
   */
  private async ensureAccessPoint(env: EnvRef, name: string, fileSystemId: string, posix: { uid: number; gid: number }): Promise<string> {
    const found = await attempt(`read access points of volume "${name}"`, () => this.efs.send(new DescribeAccessPointsCommand({ FileSystemId: fileSystemId })));
    const existing = found.AccessPoints?.find((a) => a.LifeCycleState !== 'deleting' && a.LifeCycleState !== 'deleted' && (a.PosixUser?.Uid ?? POSIX_ID) === posix.uid && (a.PosixUser?.Gid ?? POSIX_ID) === posix.gid);
    if (existing?.AccessPointId) return existing.AccessPointId;
    const isDefault = posix.uid === POSIX_ID && posix.gid === POSIX_ID;
    const created = await attempt(`create the access point of volume "${name}"`, () =>
      this.efs.send(
        new CreateAccessPointCommand({
          // The first access point keeps the token it always had; another user's gets its own.
          ClientToken: isDefault ? `${fileSystemToken(env, name)}-ap` : `${fileSystemToken(env, name)}-ap-${posix.uid}-${posix.gid}`,
          FileSystemId: fileSystemId,
          PosixUser: { Uid: posix.uid, Gid: posix.gid },
          // EFS creates the directory with this owner and mode on first use.
          RootDirectory: { Path: '/data', CreationInfo: { OwnerUid: posix.uid, OwnerGid: posix.gid, Permissions: '0750' } },
          Tags: berthTags(env, { 'berth:volume': name, [POSIX_TAG]: `${posix.uid}:${posix.gid}` }),
        }),
      ),
    );
    return created.AccessPointId!;
  }

  /** Access points, then mount targets (EFS refuses to delete a file system that still has them), then the file system. */
  private async destroy(name: string, fs: FileSystemDescription): Promise<void> {
    const id = fs.FileSystemId!;
    const points = await attempt(`read access points of volume "${name}"`, () => this.efs.send(new DescribeAccessPointsCommand({ FileSystemId: id })));
    for (const ap of points.AccessPoints ?? []) {
      await attempt(`delete an access point of volume "${name}"`, () => this.efs.send(new DeleteAccessPointCommand({ AccessPointId: ap.AccessPointId })));
    }
    for (const mt of await this.mountTargets(id)) {
      if (mt.LifeCycleState !== 'deleting') await attempt(`delete a mount target of volume "${name}"`, () => this.efs.send(new DeleteMountTargetCommand({ MountTargetId: mt.MountTargetId })));
    }
    await this.waitFor(`mount targets of volume "${name}" to be deleted`, async () => (await this.mountTargets(id)).length === 0);
    await attempt(`delete the file system of volume "${name}"`, () => this.efs.send(new DeleteFileSystemCommand({ FileSystemId: id })));
  }

  private async swap(env: EnvRef, name: string, action: SwapAction, token: string): Promise<void> {
    if (!this.restores) throw new InvalidInputError('restore-not-configured', `moving the data of volume "${name}" needs the swap task's settings, which this platform was built without`, { details: { volume: name } });
    const fs = await this.require(env, name);
    await this.restores.swap(env, name, { fileSystemId: fs.FileSystemId!, ...(fs.AvailabilityZoneName ? { zone: fs.AvailabilityZoneName } : {}) }, action, token);
  }

  private async find(env: EnvRef, name: string): Promise<FileSystemDescription | undefined> {
    const out = await attempt(`look up volume "${name}"`, () => this.efs.send(new DescribeFileSystemsCommand({ CreationToken: fileSystemToken(env, name) })));
    return out.FileSystems?.find((f) => f.LifeCycleState !== 'deleted');
  }

  private async require(env: EnvRef, name: string): Promise<FileSystemDescription> {
    const fs = await this.find(env, name);
    if (!fs) throw new NotFoundError('volume-not-found', `volume "${name}" has no file system`, { details: { volume: name }, next: ['berth volumes list'] });
    return fs;
  }

  private async describe(fileSystemId: string): Promise<FileSystemDescription | undefined> {
    const out = await attempt('describe a file system', () => this.efs.send(new DescribeFileSystemsCommand({ FileSystemId: fileSystemId })));
    return out.FileSystems?.[0];
  }

  private async mountTargets(fileSystemId: string) {
    const out = await attempt('read mount targets', () => this.efs.send(new DescribeMountTargetsCommand({ FileSystemId: fileSystemId })));
    return out.MountTargets ?? [];
  }

  private async waitFor(what: string, done: () => Promise<boolean>): Promise<void> {
    const ok = await pollUntil(this.timing, this.clock, async () => ((await done()) ? true : undefined));
    if (!ok) throw new TimeoutError('volume-not-ready', `timed out after ${this.timing.timeoutMs / 1000}s waiting for the ${what}; EFS may still finish — retry the operation`, { next: ['berth volumes list'] });
  }
}

/** A numeric `user` (uid or uid:gid) as the access point's POSIX user; a name cannot be resolved outside the image, so it keeps the default. */
export function posixUserOf(user: string | undefined): { uid: number; gid: number } {
  const m = user ? /^(\d+)(?::(\d+))?$/.exec(user) : null;
  if (!m) return { uid: POSIX_ID, gid: POSIX_ID };
  return { uid: Number(m[1]), gid: Number(m[2] ?? m[1]) };
}

function tagOf(fs: FileSystemDescription, key: string): string | undefined {
  return fs.Tags?.find((t) => t.Key === key)?.Value;
}

/** Whether recovery-point tags name this env's volume (a vault holds every env's snapshots). */
function isVolume(tags: Record<string, string>, env: EnvRef, name: string): boolean {
  const want = berthTagMap(env, { 'berth:volume': name });
  return Object.entries(want).every(([k, v]) => tags[k] === v);
}
