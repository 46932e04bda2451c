// `berth exec` on AWS: ECS Exec. The API starts the session with ExecuteCommand (services run with
// enableExecuteCommand and the task role may open SSM message channels, see infra/cluster.ts) and
// hands the client the Session Manager stream URL and token; the CLI speaks that protocol itself
// (cli/core/ssm/), so nobody installs session-manager-plugin.
// https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_ExecuteCommand.html
import { ExecuteCommandCommand, type ECSClient } from '@aws-sdk/client-ecs';
import { shellWords } from '../../contract/exec.ts';
import { ConflictError } from '../../core/errors.ts';
import type { EnvRef, ExecChannel, ExecGateway, InstanceStatus } from '../../core/ports.ts';
import { attempt, isAwsError } from './aws-errors.ts';
import type { AwsRuntimeConfig } from './config.ts';
import { APP_CONTAINER } from './ecs-task-definition.ts';

export class EcsExecGateway implements ExecGateway {
  constructor(
    private readonly clients: { ecs: ECSClient },
    private readonly config: Pick<AwsRuntimeConfig, 'clusterArn'>,
  ) {}

  async open(env: EnvRef, instance: InstanceStatus, request: { argv: string[]; tty: boolean }): Promise<ExecChannel> {
    const out = await attempt(
      `start an exec session in task ${instance.id}`,
      () =>
        this.clients.ecs.send(
          new ExecuteCommandCommand({
            cluster: this.config.clusterArn,
            task: instance.id,
            container: APP_CONTAINER,
            // One command string, which the SSM agent runs through the container's shell.
            command: shellWords(request.argv),
            // ECS Exec supports interactive sessions only; without -t the CLI simply does not go raw.
            interactive: true,
          }),
        ),
      (err) => {
        if (isAwsError(err, 'TargetNotConnectedException')) {
          throw new ConflictError('exec-agent-not-connected', `the SSM agent in task ${instance.id} is not connected yet, so ECS cannot start a session (it connects some seconds after the task starts)`, {
            details: { instance: instance.id },
            next: [`berth exec --instance ${instance.id} -- ${request.argv[0]}`, 'berth status'],
          });
        }
        throw err;
      },
    );
    const session = out.session;
    if (!session?.sessionId || !session.streamUrl || !session.tokenValue) {
      throw new Error(`ExecuteCommand for task ${instance.id} in ${env.env} returned no session`);
    }
    return { transport: 'ssm', sessionId: session.sessionId, streamUrl: session.streamUrl, tokenValue: session.tokenValue, container: out.containerName ?? APP_CONTAINER };
  }
}
