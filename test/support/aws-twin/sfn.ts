// Step Functions in the twin: StartExecution runs the real ASL file with the local interpreter
// (aws-local-stepfunctions, as functions/reconciler/local-orchestrator.ts does), its Tasks invoking
// the Lambda the definition names, with the lambda:invoke integration's shapes; `.waitForTaskToken`
// Tasks wait, on the twin's clock, for SendTaskSuccess/Failure with heartbeat and timeout.
import { ExecutionAlreadyExists, InvalidToken, TaskTimedOut } from '@aws-sdk/client-sfn';
import { StateMachine } from 'aws-local-stepfunctions';
import type { StateMachineName } from '../../../functions/core/ports.ts';
import { loadDefinition } from '../../../functions/reconciler/state-machine-files.ts';
import { arn, type AwsTwin } from './twin.ts';

export type LambdaInvoke = (functionArn: string, payload: Record<string, unknown>) => Promise<unknown>;

export const STEPS_FUNCTION_ARN = arn('lambda', 'function:berth-steps');
export const stateMachineArn = (name: StateMachineName): string => arn('states', `stateMachine:berth-${name}`);

interface TaskWait {
  token: string;
  execution: string;
  state: string;
  resolve: (output: unknown) => void;
  reject: (err: Error) => void;
  cancelTimers: () => void;
  armHeartbeat: () => void;
}

interface Execution {
  name: string;
  machine: StateMachineName;
  status: 'RUNNING' | 'SUCCEEDED' | 'FAILED';
  error?: { error: string; cause: string };
  done: Promise<void>;
  /** Task states entered, in order (what the console's graph shows). */
  states: string[];
  /** States entered of any type: what a Standard workflow bills (https://aws.amazon.com/step-functions/pricing/). */
  transitions: number;
}

export interface SfnState {
  executions: Map<string, Execution>;
  /** Tokens of Tasks waiting now. */
  waits: Map<string, TaskWait>;
  /** Every SendTask* that answered TaskTimedOut or InvalidToken (a duplicate or late completion). */
  rejectedCompletions: { action: string; token: string; error: string }[];
  /** Resolves when no execution is running. */
  idle(): Promise<void>;
}

const stateError = (name: string, cause: string): Error => Object.assign(new Error(cause), { name });

/** `arns`: the state machines' ARNs as the stack names them (default: `stateMachineArn`). */
export function install(twin: AwsTwin, options: { invoke: LambdaInvoke; machines?: StateMachineName[]; arns?: Partial<Record<StateMachineName, string>> }): SfnState {
  const names = options.machines ?? ['deploy', 'scale', 'endpoint', 'volume', 'env'];
  const definitions = new Map(names.map((n) => [options.arns?.[n] ?? stateMachineArn(n), { name: n, definition: loadDefinition(n, { StepFunctionArn: STEPS_FUNCTION_ARN }) as { States: Record<string, any> } }]));
  const state: SfnState = {
    executions: new Map(),
    waits: new Map(),
    rejectedCompletions: [],
    idle: async () => {
      while ([...state.executions.values()].some((e) => e.status === 'RUNNING')) await Promise.allSettled([...state.executions.values()].map((e) => e.done));
    },
  };
  let tokens = 0;

  // Each Task gets a fresh token, as Step Functions issues one per task attempt
  // (https://docs.aws.amazon.com/step-functions/latest/dg/connect-to-resource.html#connect-wait-token).
  const waitForToken = (execution: string, stateName: string, def: { TimeoutSeconds?: number; HeartbeatSeconds?: number }): { token: string; result: Promise<unknown> } => {
    const token = `twin-token-${++tokens}-${execution}`;
    const result = new Promise<unknown>((resolve, reject) => {
      let heartbeat = () => {};
      let timeout = () => {};
      const wait: TaskWait = {
        token,
        execution,
        state: stateName,
        resolve,
        reject,
        cancelTimers: () => {
          heartbeat();
          timeout();
        },
        armHeartbeat: () => {
          heartbeat();
          // HeartbeatSeconds: no SendTaskHeartbeat for that long fails the Task with States.HeartbeatTimeout
          // (https://docs.aws.amazon.com/step-functions/latest/dg/state-task.html#task-state-fields).
          if (def.HeartbeatSeconds) heartbeat = twin.clock.after(def.HeartbeatSeconds * 1000, () => expire('States.HeartbeatTimeout'));
        },
      };
      const expire = (error: string) => {
        wait.cancelTimers();
        state.waits.delete(token);
        reject(stateError(error, `the task ${stateName} of ${execution} timed out (${error})`));
      };
      // TimeoutSeconds counts from the Task's start (same page); the default for a callback Task is 99999999 s.
      if (def.TimeoutSeconds) timeout = twin.clock.after(def.TimeoutSeconds * 1000, () => expire('States.Timeout'));
      wait.armHeartbeat();
      state.waits.set(token, wait);
    });
    return { token, result };
  };

  twin.handler('sfn', 'StartExecution', (input: { stateMachineArn: string; name: string; input: string }) => {
    const entry = definitions.get(input.stateMachineArn);
    if (!entry) throw stateError('StateMachineDoesNotExist', `State Machine Does Not Exist: '${input.stateMachineArn}'`);
    // Execution names are unique per state machine for 90 days: a second start of the same name
    // with another input is ExecutionAlreadyExists (https://docs.aws.amazon.com/step-functions/latest/apireference/API_StartExecution.html).
    if (state.executions.has(input.name)) throw new ExecutionAlreadyExists({ message: `Execution Already Exists: '${input.name}'`, $metadata: {} });
    const machine = new StateMachine(entry.definition as never, { validationOptions: { checkArn: false } });
    const execution: Execution = { name: input.name, machine: entry.name, status: 'RUNNING', done: Promise.resolve(), states: [], transitions: 0 };
    const handlers = Object.fromEntries(
      Object.entries(entry.definition.States)
        .filter(([, s]) => s.Type === 'Task')
        .map(([stateName, s]) => [
          stateName,
          async (processed: { FunctionName: string; Payload: Record<string, unknown> }) => {
            execution.states.push(stateName);
            const payload = { ...processed.Payload };
            if ((s.Resource as string).endsWith('.waitForTaskToken')) {
              const { token, result } = waitForToken(input.name, stateName, s);
              payload.taskToken = token;
              await options.invoke(processed.FunctionName, payload);
              // The Task's output is what SendTaskSuccess sent, not the Lambda's answer.
              return twin.clock.wait(result);
            }
            // lambda:invoke answers { StatusCode, Payload } (https://docs.aws.amazon.com/step-functions/latest/dg/connect-lambda.html).
            return { StatusCode: 200, Payload: await options.invoke(processed.FunctionName, payload) };
          },
        ]),
    );
    // Retry intervals are real seconds in the interpreter; simulated time has no use for them.
    const retryIntervalOverrides = Object.fromEntries(Object.keys(handlers).map((n) => [n, 0]));
    execution.done = twin.clock.run(`execution ${input.name}`, async () => {
      const run = machine.run(JSON.parse(input.input), {
        overrides: { taskResourceLocalHandlers: handlers as never, retryIntervalOverrides },
        // `$$.Task.Token` must resolve; each waiting Task's payload gets a fresh token in place of this one.
        context: { Execution: { Name: input.name, Id: arn('states', `execution:berth-${entry.name}:${input.name}`) }, Task: { Token: 'replaced-per-task' } },
      });
      void (async () => {
        for await (const event of run.eventLogs) if (event.type === 'StateEntered') execution.transitions++;
      })();
      try {
        await run.result;
        execution.status = 'SUCCEEDED';
      } catch (err) {
        execution.status = 'FAILED';
        execution.error = { error: (err as Error).name, cause: (err as Error).message };
      }
    });
    state.executions.set(input.name, execution);
    return { executionArn: arn('states', `execution:berth-${entry.name}:${input.name}`), startDate: twin.clock.date() };
  });

  // A token that completed, timed out or never existed answers TaskTimedOut (a well-formed token
  // no longer waiting) or InvalidToken (https://docs.aws.amazon.com/step-functions/latest/apireference/API_SendTaskSuccess.html#API_SendTaskSuccess_Errors).
  const waiting = (action: string, token: string): TaskWait => {
    const wait = state.waits.get(token);
    if (wait) return wait;
    const known = /^twin-token-\d+-/.test(token);
    state.rejectedCompletions.push({ action, token, error: known ? 'TaskTimedOut' : 'InvalidToken' });
    if (known) throw new TaskTimedOut({ message: 'Task Timed Out: Provided task does not exist anymore', $metadata: {} });
    throw new InvalidToken({ message: `Invalid Token: ${token}`, $metadata: {} });
  };
  twin.handler('sfn', 'SendTaskSuccess', (input: { taskToken: string; output: string }) => {
    const wait = waiting('SendTaskSuccess', input.taskToken);
    wait.cancelTimers();
    state.waits.delete(input.taskToken);
    wait.resolve(JSON.parse(input.output));
    return {};
  });
  twin.handler('sfn', 'SendTaskFailure', (input: { taskToken: string; error?: string; cause?: string }) => {
    const wait = waiting('SendTaskFailure', input.taskToken);
    wait.cancelTimers();
    state.waits.delete(input.taskToken);
    wait.reject(stateError(input.error ?? 'States.TaskFailed', input.cause ?? ''));
    return {};
  });
  twin.handler('sfn', 'SendTaskHeartbeat', (input: { taskToken: string }) => {
    waiting('SendTaskHeartbeat', input.taskToken).armHeartbeat();
    return {};
  });
  return state;
}
