// What the compute driver sees on its own (a crash, a restart, a failed health check) becomes a
// Berth event of the env, so `berth events` explains instances that changed outside an operation.
import type { EventLog } from '../core/event-log.ts';
import type { ComputeDriver } from '../core/ports.ts';

export function recordComputeEvents(compute: ComputeDriver, events: EventLog): () => void {
  return compute.onEvent((e) => {
    events
      .record(e.env, { type: e.type, workload: e.workload, instance: e.instance, message: e.message, data: { releaseId: e.releaseId } })
      .catch((err) => console.error(`could not record ${e.type} for ${e.instance}:`, err));
  });
}
