// ECS Exec in the twin: ExecuteCommand opens a Session Manager session in a running task's container
// once the task's SSM agent is connected, for services created with enableExecuteCommand, and
// answers the session's stream URL and token (what the CLI's SSM client joins).
// https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_ExecuteCommand.html
// https://docs.aws.amazon.com/AmazonECS/latest/developerguide/ecs-exec.html
import { InvalidParameterException, TargetNotConnectedException } from '@aws-sdk/client-ecs';
import type { EcsState } from './ecs.ts';
import { TWIN_REGION, type AwsTwin } from './twin.ts';

export interface EcsExecState {
  /** Simulated ms after a task is RUNNING until its managed SSM agent is connected. AWS gives no figure; a guess. */
  agentConnectMs: number;
  sessions: { sessionId: string; taskArn: string; container: string; command: string }[];
}

export function install(twin: AwsTwin, ecs: EcsState): EcsExecState {
  let seq = 0;
  const state: EcsExecState = { agentConnectMs: 10_000, sessions: [] };
  // Whether the service the task belongs to was created (or last updated) with enableExecuteCommand:
  // "you can't turn it on for an existing task" (ecs-exec.html); the twin reads the calls it answered.
  const execEnabled = (service: string) => {
    const set = twin.calls.filter((c) => (c.action === 'ecs:CreateService' && c.input.serviceName === service) || (c.action === 'ecs:UpdateService' && String(c.input.service).split('/').pop() === service && c.input.enableExecuteCommand !== undefined));
    return Boolean(set.at(-1)?.input.enableExecuteCommand);
  };
  twin.handler('ecs', 'ExecuteCommand', (input) => {
    const task = [...ecs.tasks.values()].find((t) => t.taskArn === input.task || t.taskArn.endsWith(`/${input.task}`));
    if (!task) throw new InvalidParameterException({ message: 'The specified task was not found.', $metadata: {} });
    // ECS Exec supports interactive sessions only (API_ExecuteCommand.html: "interactive ... Required: Yes").
    if (input.interactive !== true) throw new InvalidParameterException({ message: 'Interactive is the only mode supported currently.', $metadata: {} });
    if (!execEnabled(task.service)) throw new InvalidParameterException({ message: 'The execute command failed because execute command was not enabled when the task was run or the execute command agent isn’t running.', $metadata: {} });
    const connected = task.lastStatus === 'RUNNING' && task.desiredStatus === 'RUNNING' && task.startedAt && twin.clock.now() - task.startedAt.getTime() >= state.agentConnectMs;
    if (!connected) throw new TargetNotConnectedException({ message: 'The execute command failed due to an internal error. Try again later.', $metadata: {} });
    const sessionId = `ecs-execute-command-${(++seq).toString(16).padStart(17, '0')}`;
    state.sessions.push({ sessionId, taskArn: task.taskArn, container: input.container, command: input.command });
    return {
      clusterArn: input.cluster,
      containerName: input.container,
      interactive: true,
      taskArn: task.taskArn,
      session: { sessionId, streamUrl: `wss://ssmmessages.${TWIN_REGION}.amazonaws.com/v1/data-channel/${sessionId}?role=publish_subscribe&cell-number=AAEAAQ`, tokenValue: `twin-session-token-${seq}` },
    };
  });
  return state;
}
