// Turns one execution's progress into Berth events, in the order it happened. Task states are
// recorded by their handler binding as they run (so a step's own events follow its start); the
// Choice states passed on the way to a Task are inferred from the definition's graph, because the
// interpreter's event stream lags behind the handlers and would record them out of order.
import type { EventLog } from '../core/event-log.ts';
import type { EnvRef } from '../core/ports.ts';
import type { StateStore } from '../core/state-store.ts';
import { stepStartedMessage } from './step-summaries.ts';

interface StateDef {
  Type: string;
  Comment?: string;
  Next?: string;
  Default?: string;
  Choices?: { Next: string }[];
  Catch?: { Next: string }[];
}

export interface Definition {
  StartAt: string;
  States: Record<string, StateDef>;
}

/** The states a state can hand over to (Next, Choice branches, Catch targets). */
function successors(s: StateDef): string[] {
  return [s.Next, s.Default, ...(s.Choices ?? []).map((c) => c.Next), ...(s.Catch ?? []).map((c) => c.Next)].filter((n): n is string => Boolean(n));
}

/** The non-Task states on the shortest path from `from` (or the start) to the Task `to`. */
export function statesBetween(definition: Definition, from: string | undefined, to: string): string[] {
  const starts = from ? successors(definition.States[from]) : [definition.StartAt];
  const queue: { state: string; path: string[] }[] = starts.map((state) => ({ state, path: [] }));
  const seen = new Set<string>();
  while (queue.length) {
    const { state, path } = queue.shift()!;
    if (state === to) return path;
    if (seen.has(state)) continue;
    seen.add(state);
    const def = definition.States[state];
    if (!def || def.Type === 'Task') continue;
    for (const next of successors(def)) queue.push({ state: next, path: [...path, state] });
  }
  return [];
}

/** `step` on the operation names the forward step reached: Tasks that catch into compensation. */
export function forwardTasks(definition: Definition): Set<string> {
  return new Set(
    Object.entries(definition.States)
      .filter(([name, s]) => s.Type === 'Task' && !name.startsWith('Compensate') && (s.Catch ?? []).some((c) => c.Next.startsWith('Compensate')))
      .map(([name]) => name),
  );
}

export class ExecutionHistory {
  private last: string | undefined;
  private lastFailed = false;
  private readonly forward: Set<string>;
  private readonly ref: EnvRef;

  constructor(
    private readonly definition: Definition,
    private readonly op: EnvRef & { operationId: string },
    private readonly store: StateStore,
    private readonly events: EventLog,
  ) {
    this.forward = forwardTasks(definition);
    this.ref = { org: op.org, project: op.project, app: op.app, env: op.env };
  }

  /** Called by a Task's binding before its handler runs. */
  async taskStarting(state: string): Promise<void> {
    if (this.last === state && this.lastFailed) {
      await this.record('step.retried', state, `${state} retried`);
    } else {
      for (const passed of statesBetween(this.definition, this.last, state)) await this.started(passed);
      await this.started(state);
      // Recorded before the handler runs, so a fault before it still names the step; the step
      // wrapper (step-kit.ts runStep) then finds it recorded and does not announce it again.
      if (this.forward.has(state)) await this.store.updateOperation(this.ref, this.op.operationId, { step: state });
    }
    this.last = state;
    this.lastFailed = false;
  }

  async taskFailed(state: string, err: unknown): Promise<void> {
    this.lastFailed = true;
    const e = err as { name?: string; message?: string };
    await this.record('step.failed', state, `${state} failed (${e.name ?? 'Error'}): ${e.message ?? String(err)}`);
  }

  /** Terminal Fail/Succeed states, reported by the interpreter after every Task has run. */
  async terminalEntered(state: string): Promise<void> {
    for (const passed of statesBetween(this.definition, this.last, state).filter((s) => s !== state)) await this.started(passed);
    await this.started(state);
    this.last = state;
  }

  private started(state: string): Promise<void> {
    return this.record('step.started', state, stepStartedMessage(state, this.definition.States[state]?.Comment));
  }

  private async record(type: string, step: string, message: string): Promise<void> {
    await this.events.record(this.ref, { type, operationId: this.op.operationId, step, message });
  }
}
