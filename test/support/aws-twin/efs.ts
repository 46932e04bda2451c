// Amazon EFS in the twin: file systems, mount targets and access points with their lifecycle
// states on the twin's clock, and the errors EFS answers when the order is wrong (a mount target on
// a file system that is not available, a file system deleted while mount targets remain). Each file
// system also holds a small file tree (path → content), so backups, restores and the swap task can
// be checked by the data they move.
import {
  AccessPointAlreadyExists,
  AccessPointNotFound,
  FileSystemAlreadyExists,
  FileSystemInUse,
  FileSystemNotFound,
  IncorrectFileSystemLifeCycleState,
  MountTargetConflict,
  MountTargetNotFound,
} from '@aws-sdk/client-efs';
import { arn, type AwsTwin } from './twin.ts';

type Tag = { Key: string; Value: string };
type LifeCycle = 'creating' | 'available' | 'updating' | 'deleting' | 'deleted';

export interface TwinFileSystem {
  FileSystemId: string;
  FileSystemArn: string;
  CreationToken: string;
  LifeCycleState: LifeCycle;
  Encrypted: boolean;
  KmsKeyId?: string;
  PerformanceMode: string;
  ThroughputMode: string;
  AvailabilityZoneName?: string;
  Tags: Tag[];
  /** The data, by absolute path from the file system's root (`/data/pg/PG_VERSION`). */
  files: Map<string, string>;
}

export interface TwinMountTarget {
  MountTargetId: string;
  FileSystemId: string;
  SubnetId: string;
  LifeCycleState: LifeCycle;
}

export interface TwinAccessPoint {
  AccessPointId: string;
  AccessPointArn: string;
  FileSystemId: string;
  ClientToken: string;
  PosixUser?: { Uid: number; Gid: number };
  RootDirectory?: { Path: string; CreationInfo?: { OwnerUid: number; OwnerGid: number; Permissions: string } };
  Tags: Tag[];
  LifeCycleState: LifeCycle;
}

export interface EfsState {
  fileSystems: Map<string, TwinFileSystem>;
  mountTargets: Map<string, TwinMountTarget>;
  accessPoints: Map<string, TwinAccessPoint>;
  /** Creates a file system as CreateFileSystem would (AWS Backup's restore into a new one uses it). */
  createFileSystem(input: { CreationToken: string; Encrypted?: boolean; KmsKeyId?: string; PerformanceMode?: string; Tags?: Tag[] }): TwinFileSystem;
  /** The file system by id or ARN, unless deleted. */
  find(ref: string): TwinFileSystem | undefined;
}

// EFS documents the states (https://docs.aws.amazon.com/efs/latest/ug/API_FileSystemDescription.html,
// API_MountTargetDescription.html), not how long each takes; typical figures, compressible.
export const EFS_TIMING = { fileSystemMs: 10_000, mountTargetMs: 90_000, mountTargetDeleteMs: 60_000, accessPointMs: 1_000, fileSystemDeleteMs: 30_000 };

const hex = (n: number, width: number) => n.toString(16).padStart(width, '0');

export function install(twin: AwsTwin, options: { subnets?: Record<string, string> } = {}): EfsState {
  // Subnet → zone, for the one-mount-target-per-zone rule.
  const zoneOf = (subnet: string) => options.subnets?.[subnet] ?? subnet;
  let seq = 0;
  const fail = <E>(Err: new (o: { message: string; $metadata: object; ErrorCode: string }) => E, code: string, message: string): never => {
    throw new Err({ message, $metadata: {}, ErrorCode: code });
  };
  const later = (ms: number, change: () => void) => twin.clock.after(ms, change);

  const state: EfsState = {
    fileSystems: new Map(),
    mountTargets: new Map(),
    accessPoints: new Map(),
    createFileSystem: (input) => {
      const id = `fs-${hex(++seq, 17)}`;
      const fs: TwinFileSystem = {
        FileSystemId: id,
        FileSystemArn: arn('elasticfilesystem', `file-system/${id}`),
        CreationToken: input.CreationToken,
        // creating → available (https://docs.aws.amazon.com/efs/latest/ug/API_CreateFileSystem.html:
        // "the file system's lifecycle state is creating … after the file system is fully created, EFS sets it to available").
        LifeCycleState: 'creating',
        Encrypted: Boolean(input.Encrypted),
        ...(input.KmsKeyId ? { KmsKeyId: input.KmsKeyId } : {}),
        PerformanceMode: input.PerformanceMode ?? 'generalPurpose',
        ThroughputMode: 'elastic',
        Tags: [...(input.Tags ?? [])],
        files: new Map(),
      };
      state.fileSystems.set(id, fs);
      later(EFS_TIMING.fileSystemMs, () => {
        if (fs.LifeCycleState === 'creating') fs.LifeCycleState = 'available';
      });
      return fs;
    },
    find: (ref) => {
      const fs = state.fileSystems.get(ref.split('/').pop()!);
      return fs && fs.LifeCycleState !== 'deleted' ? fs : undefined;
    },
  };

  const describeFs = (fs: TwinFileSystem) => {
    const { files, ...rest } = fs;
    const size = [...files.values()].reduce((n, c) => n + Buffer.byteLength(c), 0);
    return { ...rest, OwnerId: '123456789012', Name: fs.Tags.find((t) => t.Key === 'Name')?.Value, NumberOfMountTargets: mountTargetsOf(fs.FileSystemId).length, SizeInBytes: { Value: size }, CreationTime: twin.clock.date() };
  };
  const mountTargetsOf = (id: string) => [...state.mountTargets.values()].filter((m) => m.FileSystemId === id && m.LifeCycleState !== 'deleted');
  const available = (id: string): TwinFileSystem => {
    const fs = state.find(id) ?? fail(FileSystemNotFound, 'FileSystemNotFound', `File system '${id}' does not exist.`);
    // "IncorrectFileSystemLifeCycleState: returned if the file system's lifecycle state is not available"
    // (https://docs.aws.amazon.com/efs/latest/ug/API_CreateMountTarget.html#API_CreateMountTarget_Errors, API_CreateAccessPoint.html).
    if (fs.LifeCycleState !== 'available') fail(IncorrectFileSystemLifeCycleState, 'IncorrectFileSystemLifeCycleState', `File system '${id}' is ${fs.LifeCycleState}, not available.`);
    return fs;
  };

  twin.handler('efs', 'CreateFileSystem', (input) => {
    // The creation token makes the call idempotent: a second call with it answers FileSystemAlreadyExists
    // with the existing id (https://docs.aws.amazon.com/efs/latest/ug/API_CreateFileSystem.html).
    const existing = [...state.fileSystems.values()].find((f) => f.CreationToken === input.CreationToken && f.LifeCycleState !== 'deleted');
    if (existing) throw new FileSystemAlreadyExists({ message: 'File system already exists with creation token', $metadata: {}, ErrorCode: 'FileSystemAlreadyExists', FileSystemId: existing.FileSystemId });
    const fs = state.createFileSystem(input);
    if (input.AvailabilityZoneName) fs.AvailabilityZoneName = input.AvailabilityZoneName;
    if (input.ThroughputMode) fs.ThroughputMode = input.ThroughputMode;
    return describeFs(fs);
  });
  twin.handler('efs', 'DescribeFileSystems', (input) => {
    if (input.FileSystemId) {
      const fs = state.find(input.FileSystemId) ?? fail(FileSystemNotFound, 'FileSystemNotFound', `File system '${input.FileSystemId}' does not exist.`);
      return { FileSystems: [describeFs(fs)] };
    }
    return { FileSystems: [...state.fileSystems.values()].filter((f) => f.LifeCycleState !== 'deleted' && (!input.CreationToken || f.CreationToken === input.CreationToken)).map(describeFs) };
  });
  twin.handler('efs', 'DeleteFileSystem', (input) => {
    const fs = state.find(input.FileSystemId) ?? fail(FileSystemNotFound, 'FileSystemNotFound', `File system '${input.FileSystemId}' does not exist.`);
    // "You can't delete a file system that is in use. That is, if the file system has any mount
    // targets, you must first delete them" → FileSystemInUse (https://docs.aws.amazon.com/efs/latest/ug/API_DeleteFileSystem.html).
    if (mountTargetsOf(fs.FileSystemId).length) fail(FileSystemInUse, 'FileSystemInUse', `File system '${fs.FileSystemId}' has mount targets.`);
    fs.LifeCycleState = 'deleting';
    later(EFS_TIMING.fileSystemDeleteMs, () => {
      fs.LifeCycleState = 'deleted';
    });
    return {};
  });

  twin.handler('efs', 'CreateMountTarget', (input) => {
    const fs = available(input.FileSystemId);
    // One mount target per availability zone: a second answers MountTargetConflict
    // (https://docs.aws.amazon.com/efs/latest/ug/API_CreateMountTarget.html).
    if (mountTargetsOf(fs.FileSystemId).some((m) => zoneOf(m.SubnetId) === zoneOf(input.SubnetId))) fail(MountTargetConflict, 'MountTargetConflict', `mount target already exists in this AZ`);
    const mt: TwinMountTarget = { MountTargetId: `fsmt-${hex(++seq, 17)}`, FileSystemId: fs.FileSystemId, SubnetId: input.SubnetId, LifeCycleState: 'creating' };
    state.mountTargets.set(mt.MountTargetId, mt);
    later(EFS_TIMING.mountTargetMs, () => {
      if (mt.LifeCycleState === 'creating') mt.LifeCycleState = 'available';
    });
    return { ...mt, AvailabilityZoneName: zoneOf(mt.SubnetId) };
  });
  twin.handler('efs', 'DescribeMountTargets', (input) => ({ MountTargets: mountTargetsOf(input.FileSystemId).map((m) => ({ ...m, AvailabilityZoneName: zoneOf(m.SubnetId) })) }));
  twin.handler('efs', 'DeleteMountTarget', (input) => {
    const mt = state.mountTargets.get(input.MountTargetId);
    if (!mt || mt.LifeCycleState === 'deleted') fail(MountTargetNotFound, 'MountTargetNotFound', `Mount target '${input.MountTargetId}' does not exist.`);
    // deleting → gone (https://docs.aws.amazon.com/efs/latest/ug/API_DeleteMountTarget.html).
    mt!.LifeCycleState = 'deleting';
    later(EFS_TIMING.mountTargetDeleteMs, () => {
      mt!.LifeCycleState = 'deleted';
    });
    return {};
  });

  twin.handler('efs', 'CreateAccessPoint', (input) => {
    // ClientToken makes it idempotent; the same token with other settings is AccessPointAlreadyExists
    // (https://docs.aws.amazon.com/efs/latest/ug/API_CreateAccessPoint.html).
    const same = [...state.accessPoints.values()].find((a) => a.ClientToken === input.ClientToken && a.LifeCycleState !== 'deleted');
    if (same) {
      if (same.FileSystemId !== input.FileSystemId || JSON.stringify(same.PosixUser) !== JSON.stringify(input.PosixUser)) {
        throw new AccessPointAlreadyExists({ message: 'Access point already exists with the client token and different parameters', $metadata: {}, ErrorCode: 'AccessPointAlreadyExists', AccessPointId: same.AccessPointId });
      }
      return same;
    }
    const fs = available(input.FileSystemId);
    const id = `fsap-${hex(++seq, 17)}`;
    const ap: TwinAccessPoint = { AccessPointId: id, AccessPointArn: arn('elasticfilesystem', `access-point/${id}`), FileSystemId: fs.FileSystemId, ClientToken: input.ClientToken, PosixUser: input.PosixUser, RootDirectory: input.RootDirectory, Tags: [...(input.Tags ?? [])], LifeCycleState: 'creating' };
    state.accessPoints.set(id, ap);
    later(EFS_TIMING.accessPointMs, () => {
      if (ap.LifeCycleState === 'creating') ap.LifeCycleState = 'available';
    });
    return ap;
  });
  twin.handler('efs', 'DescribeAccessPoints', (input) => ({ AccessPoints: [...state.accessPoints.values()].filter((a) => a.LifeCycleState !== 'deleted' && (!input.FileSystemId || a.FileSystemId === input.FileSystemId) && (!input.AccessPointId || a.AccessPointId === input.AccessPointId)) }));
  twin.handler('efs', 'DeleteAccessPoint', (input) => {
    const ap = state.accessPoints.get(input.AccessPointId);
    if (!ap || ap.LifeCycleState === 'deleted') fail(AccessPointNotFound, 'AccessPointNotFound', `Access point '${input.AccessPointId}' does not exist.`);
    // Deleting an access point takes effect at once for new mounts (https://docs.aws.amazon.com/efs/latest/ug/API_DeleteAccessPoint.html).
    ap!.LifeCycleState = 'deleted';
    return {};
  });

  // Tags on file systems and access points (https://docs.aws.amazon.com/efs/latest/ug/API_TagResource.html).
  const tagged = (id: string): { Tags: Tag[] } => (id.startsWith('fsap-') ? state.accessPoints.get(id) : state.find(id)) ?? fail(FileSystemNotFound, 'FileSystemNotFound', `Resource '${id}' does not exist.`);
  twin.handler('efs', 'TagResource', (input) => {
    const r = tagged(input.ResourceId);
    r.Tags = [...r.Tags.filter((t) => !(input.Tags as Tag[]).some((n) => n.Key === t.Key)), ...input.Tags];
    return {};
  });
  twin.handler('efs', 'UntagResource', (input) => {
    const r = tagged(input.ResourceId);
    r.Tags = r.Tags.filter((t) => !(input.TagKeys as string[]).includes(t.Key));
    return {};
  });
  return state;
}
