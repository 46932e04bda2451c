// The embedded Step Functions: aws-local-stepfunctions runs the very files in statemachines/, with
// every Task bound to the in-process step handler that the AWS Lambda would run. The interpreter's
// event history becomes Berth events, the way Step Functions history does on AWS.
import '../core/polyfills.ts';
import { StateMachine } from 'aws-local-stepfunctions';
import type { BerthError } from '../core/errors.ts';
import type { EventLog } from '../core/event-log.ts';
import type { EnvRef, Orchestrator, StateMachineName } from '../core/ports.ts';
import type { StateStore } from '../core/state-store.ts';
import { ExecutionHistory, type Definition } from './execution-history.ts';
import { loadDefinition, taskStateNames, waitStateNames } from './state-machine-files.ts';
import type { StepInput } from './step-kit.ts';
import { failUnrecorded } from './unrecorded-failure.ts';

type StepHandler = (input: StepInput) => Promise<Record<string, unknown>>;

/**
 * Runs before every Task's handler; throwing from it fails that Task exactly as a failing handler
 * would. Used by the fault-injection tests (and by nothing in production).
 */
export type FaultInjector = (machine: StateMachineName, state: string, input: StepInput) => void | Promise<void>;

/** What CDK substitutes on AWS; embedded, the ARNs only have to be well-formed. */
export const LOCAL_SUBSTITUTIONS = {
  StepFunctionArn: 'arn:aws:lambda:local:000000000000:function:berth-steps',
};

interface StateEvent {
  type: string;
  state?: { name: string };
  Error?: string;
  Cause?: unknown;
  retry?: { attempt: number };
}

export class LocalOrchestrator implements Orchestrator {
  private readonly machines = new Map<StateMachineName, { machine: StateMachine; definition: Definition }>();
  private readonly running = new Set<Promise<void>>();
  /** Per execution: aborted to end the wait it is in (interruptWaits). */
  private readonly waits = new Map<string, AbortController>();
  private readonly endListeners = new Set<(machine: StateMachineName) => void>();

  constructor(
    private readonly handlers: Record<StateMachineName, Record<string, StepHandler>>,
    private readonly store: StateStore,
    private readonly events: EventLog,
    private readonly faultInjector?: FaultInjector,
  ) {
    for (const name of Object.keys(handlers) as StateMachineName[]) {
      const definition = loadDefinition(name, LOCAL_SUBSTITUTIONS);
      const missing = taskStateNames(definition).filter((task) => !(task in handlers[name]));
      if (missing.length) throw new Error(`${name}.asl.json has Task states without a handler: ${missing.join(', ')}`);
      // checkArn off: the embedded substitutions are not real ARNs; the definition is validated otherwise.
      const machine = new StateMachine(definition as never, { validationOptions: { checkArn: false } });
      this.machines.set(name, { machine, definition: definition as unknown as Definition });
    }
  }

  async start(name: StateMachineName, executionName: string, input: Record<string, unknown>): Promise<void> {
    const entry = this.machines.get(name);
    if (!entry) throw new Error(`no state machine named ${name}`);
    const op = input.operation as EnvRef & { operationId: string };
    const history = new ExecutionHistory(entry.definition, op, this.store, this.events);
    const waiting = new Set(waitStateNames(entry.definition as unknown as Record<string, unknown>));
    const taskResourceLocalHandlers = Object.fromEntries(
      Object.entries(this.handlers[name]).map(([state, handler]) => [
        state,
        // The lambda:invoke integration hands the function its `Payload` and returns `{ Payload }`.
        async (processed: unknown) => {
          await history.taskStarting(state);
          const payload = (processed as { Payload: StepInput }).Payload;
          try {
            await this.faultInjector?.(name, state, payload);
            const result = waiting.has(state) ? await this.interruptible(executionName, handler(payload)) : await handler(payload);
            return { StatusCode: 200, Payload: result } as never;
          } catch (err) {
            await history.taskFailed(state, err);
            throw err;
          }
        },
      ]),
    );
    const execution = entry.machine.run(input as never, {
      overrides: { taskResourceLocalHandlers },
      // `$$.Task.Token` feeds the .waitForTaskToken states; embedded, their handler awaits the driver instead.
      context: { Execution: { Name: executionName, Id: `arn:aws:states:local:000000000000:execution:berth-${name}:${executionName}` }, Task: { Token: `local:${executionName}` } },
    });
    // Attach to the result at once: a Fail state rejects it before the history has been read.
    const outcome = execution.result.then(
      () => undefined,
      (err: unknown) => err ?? new Error('execution failed'),
    );
    const done = this.follow(entry.definition, op, executionName, history, execution.eventLogs, outcome);
    this.running.add(done);
    void done.finally(() => {
      this.running.delete(done);
      for (const listener of this.endListeners) listener(name);
    });
  }

  /** Called after each execution ends, however it ended (the embedded artifact GC runs after deploys). */
  onExecutionEnd(listener: (machine: StateMachineName) => void): () => void {
    this.endListeners.add(listener);
    return () => this.endListeners.delete(listener);
  }

  async interruptWaits(executionName: string, error: BerthError): Promise<void> {
    this.waits.get(executionName)?.abort(error);
  }

  /** A wait that `interruptWaits` ends with its error, as SendTaskFailure ends one on AWS. */
  private interruptible<T>(executionName: string, work: Promise<T>): Promise<T> {
    const controller = new AbortController();
    this.waits.set(executionName, controller);
    // The abandoned wait settles later (a timeout, or health): nobody needs its outcome then.
    work.catch(() => undefined);
    const interrupted = new Promise<never>((_, reject) => controller.signal.addEventListener('abort', () => reject(controller.signal.reason), { once: true }));
    return Promise.race([work, interrupted]).finally(() => {
      if (this.waits.get(executionName) === controller) this.waits.delete(executionName);
    });
  }

  /** Resolves when no execution is running (tests and shutdown). */
  async idle(): Promise<void> {
    while (this.running.size) await Promise.allSettled([...this.running]);
  }

  private async follow(definition: Definition, op: EnvRef & { operationId: string }, executionName: string, history: ExecutionHistory, events: AsyncGenerator<unknown>, outcome: Promise<unknown>): Promise<void> {
    const ref: EnvRef = { org: op.org, project: op.project, app: op.app, env: op.env };
    try {
      for await (const raw of events) {
        const e = raw as StateEvent;
        const type = e.state ? definition.States[e.state.name]?.Type : undefined;
        // Only the end is taken from the interpreter's stream: it comes after every Task has run.
        if (e.type === 'StateEntered' && (type === 'Fail' || type === 'Succeed')) await history.terminalEntered(e.state!.name);
      }
      const failure = await outcome;
      // A failed operation has normally recorded itself (its Record*Failed step); this catches the rest.
      if (failure) await this.failUnrecorded(ref, op.operationId, executionName, failure);
    } catch (err) {
      await this.failUnrecorded(ref, op.operationId, executionName, err).catch((e) => console.error(`could not record the failure of ${executionName}:`, e));
    }
  }

  /** A failed execution normally recorded its outcome in its Record*Failed step; make sure of it. */
  private async failUnrecorded(ref: EnvRef, operationId: string, executionName: string, err: unknown): Promise<void> {
    await failUnrecorded({ store: this.store, events: this.events }, ref, operationId, { executionName, status: 'FAILED', cause: (err as Error)?.message ?? String(err) });
  }
}
