// Volume snapshots are AWS Backup recovery points of the file system, taken on demand into the
// stack's vault and tagged with the snapshot id, which is how a later call finds them again.
import { DeleteRecoveryPointCommand, ListRecoveryPointsByBackupVaultCommand, ListTagsCommand, StartBackupJobCommand, type BackupClient } from '@aws-sdk/client-backup';
import type { EnvRef } from '../../core/ports.ts';
import { attempt } from './aws-errors.ts';
import type { AwsRuntimeConfig } from './config.ts';
import { berthTagMap, contentToken } from './tags.ts';

type BackupConfig = Pick<AwsRuntimeConfig, 'backupVaultName' | 'backupRoleArn'>;

export async function startSnapshot(backup: BackupClient, config: BackupConfig, env: EnvRef, volume: string, resourceArn: string, snapshotId: string): Promise<void> {
  await attempt(`start a backup of volume "${volume}"`, () =>
    backup.send(
      new StartBackupJobCommand({
        BackupVaultName: config.backupVaultName,
        ResourceArn: resourceArn,
        IamRoleArn: config.backupRoleArn,
        // A retried snapshot step starts no second job.
        IdempotencyToken: contentToken(resourceArn, snapshotId),
        RecoveryPointTags: berthTagMap(env, { 'berth:volume': volume, 'berth:snapshot': snapshotId }),
      }),
    ),
  );
}

/** Deletes the recovery points (of the file system, when known) whose tags `match`. */
export async function deleteRecoveryPoints(backup: BackupClient, config: BackupConfig, resourceArn: string | undefined, match: (tags: Record<string, string>) => boolean): Promise<void> {
  let NextToken: string | undefined;
  do {
    const page = await attempt('list volume snapshots', () =>
      backup.send(new ListRecoveryPointsByBackupVaultCommand({ BackupVaultName: config.backupVaultName, ...(resourceArn ? { ByResourceArn: resourceArn } : { ByResourceType: 'EFS' }), NextToken })),
    );
    for (const point of page.RecoveryPoints ?? []) {
      const tags = await attempt('read snapshot tags', () => backup.send(new ListTagsCommand({ ResourceArn: point.RecoveryPointArn })));
      if (!match(tags.Tags ?? {})) continue;
      await attempt('delete a volume snapshot', () => backup.send(new DeleteRecoveryPointCommand({ BackupVaultName: config.backupVaultName, RecoveryPointArn: point.RecoveryPointArn })));
    }
    NextToken = page.NextToken;
  } while (NextToken);
}
