// `VolumeDriver.ensure` answers with a `dir`: embedded, a directory; on AWS, this reference to the
// EFS file system and access point, which the ECS driver turns into a task-definition volume. The
// zone travels with it because a One Zone file system pins the workload's tasks to that zone.
import { InvalidInputError } from '../../core/errors.ts';

export interface EfsVolumeRef {
  fileSystemId: string;
  accessPointId: string;
  /** Availability zone of a One Zone file system; absent for a regional one. */
  zone?: string;
}

export function formatVolumeRef(ref: EfsVolumeRef): string {
  return `efs://${ref.fileSystemId}/${ref.accessPointId}${ref.zone ? `?zone=${ref.zone}` : ''}`;
}

export function parseVolumeRef(dir: string, volume: string): EfsVolumeRef {
  const match = /^efs:\/\/(fs-[0-9a-f]+)\/(fsap-[0-9a-f]+)(?:\?zone=([a-z0-9-]+))?$/.exec(dir);
  if (!match) {
    throw new InvalidInputError('not-an-efs-volume', `volume "${volume}" resolved to "${dir}", which is not an EFS volume reference (efs://fs-…/fsap-…); on AWS the volume driver must be the EFS one`, {
      details: { volume, dir },
    });
  }
  return { fileSystemId: match[1], accessPointId: match[2], ...(match[3] ? { zone: match[3] } : {}) };
}
