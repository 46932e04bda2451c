// Crash safety: operations are persisted, executions are not (embedded). On start, every operation
// still marked running lost its execution; start the same state machine in recovery mode, which
// goes straight to compensation and ends with the operation failed, the env on its previous state.
import type { EventLog } from '../core/event-log.ts';
import type { Orchestrator } from '../core/ports.ts';
import { machineOf, operationInput } from '../core/services/operations.ts';
import type { StateStore } from '../core/state-store.ts';

export async function recoverInterruptedOperations(store: StateStore, events: EventLog, orchestrator: Orchestrator): Promise<string[]> {
  const running = await store.listRunningOperations();
  for (const op of running) {
    const step = op.step ?? 'starting';
    const message = `the platform stopped during step ${step}; on restart the operation was compensated and the env returned to ${op.previousReleaseId ?? 'its previous state'}`;
    await store.updateOperation(op.env, op.id, {
      error: { category: 'internal', code: 'platform-restarted', message, step, next: [`berth events --operation ${op.id}`, op.kind === 'deploy' ? 'berth deploy (to try again)' : 'retry the command'] },
    });
    await events.record(op.env, { type: 'operation.recovering', operationId: op.id, step, message: `${op.kind} ${op.id} was interrupted at ${step}; compensating` });
    await orchestrator.start(machineOf(op.kind), `${op.id}-recovery`, { operation: operationInput(op), recover: true, failure: { Error: 'internal', Cause: message } });
  }
  return running.map((op) => op.id);
}
