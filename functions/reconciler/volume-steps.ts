// The Task handlers of statemachines/volume.asl.json: create, resize, snapshot, restore, delete.
// A restore is one step embedded (a directory copy); on AWS it is staged (VolumeDriver.stagedRestore):
// ApplyVolumeChange starts the AWS Backup job while the writers still run, WaitForVolumeRestore
// waits for it, and SwapInRestoredVolume stops the writers, swaps the data and starts them again.
import { NotFoundError } from '../core/errors.ts';
import type { Env, VolumeRecord } from '../core/model.ts';
import type { EnvRef } from '../core/ports.ts';
import type { StateStore } from '../core/state-store.ts';
import { startWriters, stopWriters } from './volume-writers.ts';
import { endStatus, envOf, failureOf, patchEnv, recordingFailures, releaseEnv, type OperationInput, type Step, type StepDeps } from './step-kit.ts';

async function changeOf(store: StateStore, op: OperationInput) {
  const change = (await store.getOperation(envOf(op), op.operationId))?.volumeChange;
  if (!change) throw new NotFoundError('operation-change-missing', `operation ${op.operationId} has no volume change recorded`);
  return change;
}

const withVolume = (env: Env, name: string, record: VolumeRecord | undefined) => {
  const volumes = { ...(env.volumes ?? {}) };
  if (record) volumes[name] = record;
  else delete volumes[name];
  return volumes;
};

export function createVolumeSteps(deps: StepDeps): Record<string, Step> {
  const { store, events, volumes } = deps;
  // Read when a step runs (the deps are bound lazily in some tests' step tables).
  const staged = () => deps.volumes.stagedRestore;

  /** With the writers stopped: the current data aside (compensation puts it back), the snapshot's in place. */
  const swapIn = async (ref: EnvRef, name: string, snapshotId: string, operationId: string, step: string) => {
    await stopWriters(deps, ref, name, operationId, step, `restoring volume ${name} from ${snapshotId}: nothing may write it meanwhile`);
    await volumes.setAside(ref, name, operationId, 'data');
    await volumes.restoreSnapshot(ref, name, snapshotId);
    await startWriters(deps, ref, name, operationId, step);
  };

  return recordingFailures(deps, {
    async SetDesiredVolume({ operation: op }) {
      const c = await changeOf(store, op);
      const now = new Date().toISOString();
      await patchEnv(store, envOf(op), (env) => {
        const current = env.volumes?.[c.name];
        switch (c.action) {
          case 'create':
            return { volumes: withVolume(env, c.name, { ...c.volume!, createdAt: now, snapshots: [], ...(c.fromVolume ? { source: { volume: c.fromVolume, snapshot: c.snapshotId! } } : {}) }) };
          case 'resize':
            return { volumes: withVolume(env, c.name, { ...current!, sizeGiB: c.volume!.sizeGiB }) };
          case 'snapshot': {
            const consistency = c.stopWriters ? ('stopped' as const) : ('crash-consistent' as const);
            return { volumes: withVolume(env, c.name, { ...current!, snapshots: [...(current?.snapshots ?? []).filter((s) => s.id !== c.snapshotId), { id: c.snapshotId!, at: now, sizeBytes: 0, consistency }] }) };
          }
          case 'restore':
            // The volume's record stays; its data is what changes.
            return {};
          case 'delete':
            return { volumes: withVolume(env, c.name, undefined) };
        }
      });
      return {};
    },
    async ApplyVolumeChange({ operation: op }) {
      const c = await changeOf(store, op);
      const ref = envOf(op);
      // A staged restore starts here and goes on in WaitForVolumeRestore (the ASL Choice reads restoreJobId).
      const stager = staged();
      if (stager && (c.action === 'restore' || (c.action === 'create' && c.fromVolume))) {
        const { jobId } = await stager.start(ref, c.name, c.snapshotId!, op.operationId, c.fromVolume);
        await events.record(ref, { type: 'volume.restoring', operationId: op.operationId, step: 'ApplyVolumeChange', message: `AWS Backup restore job ${jobId} copies snapshot ${c.snapshotId} beside the data of volume ${c.name}; its writers keep running until the copy is done` });
        return { restoreJobId: jobId };
      }
      // From a snapshot, the copy makes the volume (renamed into place whole, so a retry finds it done).
      if (c.action === 'create' && c.fromVolume) await volumes.restoreSnapshot(ref, c.name, c.snapshotId!, c.fromVolume);
      if (c.action === 'create') await volumes.ensure(ref, c.name, c.volume!);
      if (c.action === 'resize') await volumes.resize(ref, c.name, c.volume!);
      if (c.action === 'delete') await volumes.setAside(ref, c.name, op.operationId);
      if (c.action === 'restore') await swapIn(ref, c.name, c.snapshotId!, op.operationId, 'ApplyVolumeChange');
      if (c.action === 'snapshot') {
        if (c.stopWriters) await stopWriters(deps, ref, c.name, op.operationId, 'ApplyVolumeChange', `a consistent snapshot ${c.snapshotId} of volume ${c.name}`);
        const { sizeBytes } = await volumes.snapshot(ref, c.name, c.snapshotId!);
        if (c.stopWriters) await startWriters(deps, ref, c.name, op.operationId, 'ApplyVolumeChange');
        await patchEnv(store, ref, (env) => {
          const v = env.volumes?.[c.name];
          return v ? { volumes: withVolume(env, c.name, { ...v, snapshots: (v.snapshots ?? []).map((s) => (s.id === c.snapshotId ? { ...s, sizeBytes } : s)) }) } : {};
        });
      }
      return {};
    },
    /** Embedded never gets here (nothing is staged); on AWS this Task waits on a token (aws/restore-waiters.ts). */
    async WaitForVolumeRestore() {
      return {};
    },
    async SwapInRestoredVolume({ operation: op }) {
      const c = await changeOf(store, op);
      const ref = envOf(op);
      if (c.action === 'create') {
        // The restored file system is the volume's (its creation token): mount targets and an access point, then the data into place.
        await volumes.ensure(ref, c.name, c.volume!);
        await volumes.restoreSnapshot(ref, c.name, c.snapshotId!, c.fromVolume);
      }
      if (c.action === 'restore') await swapIn(ref, c.name, c.snapshotId!, op.operationId, 'SwapInRestoredVolume');
      return {};
    },
    async RecordVolumeApplied({ operation: op }) {
      const c = await changeOf(store, op);
      const ref = envOf(op);
      if (c.action === 'delete') await volumes.purge(ref, c.name, op.operationId);
      if (c.action === 'restore') await volumes.discardAside(ref, c.name, op.operationId);
      await releaseEnv(store, ref, op.operationId);
      await events.record(ref, { type: 'operation.succeeded', operationId: op.operationId, message: `volume ${op.operationId} succeeded: ${c.name} ${c.action === 'snapshot' ? `snapshot ${c.snapshotId} taken` : c.action === 'restore' ? `restored from ${c.snapshotId}` : `${c.action}d`}` });
      await store.updateOperation(ref, op.operationId, { status: 'succeeded', step: 'RecordVolumeApplied', finishedAt: new Date().toISOString() });
      return {};
    },
    async CompensateUndoVolumeChange({ operation: op }) {
      const c = await changeOf(store, op);
      const ref = envOf(op);
      if (c.action === 'create') await volumes.remove(ref, c.name);
      if (c.action === 'resize' && c.previous) await volumes.resize(ref, c.name, c.previous);
      if (c.action === 'snapshot') await volumes.deleteSnapshot(ref, c.name, c.snapshotId!);
      if (c.action === 'delete') await volumes.restore(ref, c.name, op.operationId);
      if (c.action === 'restore') {
        // A staged restore that failed before its swap changed nothing the writers use: only the recovery directory goes.
        const swapping = !staged() || (await store.getOperation(ref, op.operationId))?.step === 'SwapInRestoredVolume';
        // Whatever the restore got to: the writers stop, the data from before goes back, they start again.
        if (swapping) await stopWriters(deps, ref, c.name, op.operationId, 'CompensateUndoVolumeChange', `undoing the restore of volume ${c.name}`);
        await volumes.restore(ref, c.name, op.operationId, 'data');
        if (swapping) await startWriters(deps, ref, c.name, op.operationId, 'CompensateUndoVolumeChange');
      }
      if (c.action === 'snapshot' && c.stopWriters) await startWriters(deps, ref, c.name, op.operationId, 'CompensateUndoVolumeChange');
      return {};
    },
    async CompensateRestorePreviousVolume({ operation: op }) {
      const c = await changeOf(store, op);
      await patchEnv(store, envOf(op), (env) => ({ volumes: withVolume(env, c.name, c.previous) }));
      return {};
    },
    async RecordVolumeFailed({ operation: op, failure }) {
      const ref = envOf(op);
      const record = await store.getOperation(ref, op.operationId);
      const error = failureOf(record, failure, op.operationId);
      const status = endStatus(record);
      await releaseEnv(store, ref, op.operationId);
      await events.record(ref, { type: `operation.${status}`, operationId: op.operationId, step: error.step, message: `volume ${op.operationId} ${status === 'cancelled' ? 'was cancelled' : 'failed'} at ${error.step} (${error.category}): ${error.message}; the volume is as it was` });
      await store.updateOperation(ref, op.operationId, { status, error, finishedAt: new Date().toISOString() });
      return {};
    },
  });
}
