// `berth exec` on AWS: the API side sends ExecuteCommand as documented and hands back the Session
// Manager stream; an agent that is not connected yet becomes a conflict with the retry command.
// https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_ExecuteCommand.html
import { ECSClient, ExecuteCommandCommand, TargetNotConnectedException } from '@aws-sdk/client-ecs';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import type { EnvRef, InstanceStatus } from '../functions/core/ports.ts';
import { shellWords } from '../functions/contract/exec.ts';
import { EcsExecGateway } from '../functions/drivers/aws/ecs-exec.ts';

const env: EnvRef = { org: 'acme', project: 'shop', app: 'api', env: 'prod' };
const CLUSTER = 'arn:aws:ecs:eu-west-1:123456789012:cluster/berth';
const instance: InstanceStatus = { id: '0f1e2d3c4b5a69788796a5b4c3d2e1f0', workload: 'web', releaseId: 'rel-7', revision: 'rel-7.abcd', state: 'healthy', startedAt: '2026-11-23T10:00:00.000Z', restarts: 0, addresses: {} };

const ecs = mockClient(ECSClient);
const gateway = () => new EcsExecGateway({ ecs: new ECSClient({ region: 'eu-west-1' }) }, { clusterArn: CLUSTER });

beforeEach(() => ecs.reset());

describe('GIVEN a running Fargate task', () => {
  it('WHEN exec is asked THEN ExecuteCommand targets its app container, interactive, and the session comes back as an ssm channel', async () => {
    ecs.on(ExecuteCommandCommand).resolves({
      clusterArn: CLUSTER,
      containerName: 'app',
      interactive: true,
      taskArn: `arn:aws:ecs:eu-west-1:123456789012:task/berth/${instance.id}`,
      session: { sessionId: 'ecs-execute-command-0a1b2c3d4e5f', streamUrl: 'wss://ssmmessages.eu-west-1.amazonaws.com/v1/data-channel/ecs-execute-command-0a1b2c3d4e5f?role=publish_subscribe', tokenValue: 'AAEAAf…' },
    });
    const channel = await gateway().open(env, instance, { argv: ['sh', '-c', 'echo "$HOME" && ls'], tty: false });
    expect(ecs.commandCalls(ExecuteCommandCommand)[0].args[0].input).toEqual({
      cluster: CLUSTER,
      task: instance.id,
      container: 'app',
      command: `sh -c 'echo "$HOME" && ls'`,
      interactive: true,
    });
    expect(channel).toEqual({
      transport: 'ssm',
      sessionId: 'ecs-execute-command-0a1b2c3d4e5f',
      streamUrl: 'wss://ssmmessages.eu-west-1.amazonaws.com/v1/data-channel/ecs-execute-command-0a1b2c3d4e5f?role=publish_subscribe',
      tokenValue: 'AAEAAf…',
      container: 'app',
    });
  });

  it('WHEN the SSM agent has not connected yet THEN the error is a conflict naming the task and the retry', async () => {
    ecs.on(ExecuteCommandCommand).rejects(new TargetNotConnectedException({ message: 'The execute command failed due to an internal error. Try again later.', $metadata: {} }));
    const err = await gateway().open(env, instance, { argv: ['sh'], tty: true }).catch((e: unknown) => e);
    expect(err).toMatchObject({ category: 'conflict', code: 'exec-agent-not-connected' });
    expect((err as Error).message).toContain(instance.id);
    expect((err as { next: string[] }).next[0]).toBe(`berth exec --instance ${instance.id} -- sh`);
  });

  it('WHEN ExecuteCommand is refused by IAM THEN it is a permission error, not a crash', async () => {
    ecs.on(ExecuteCommandCommand).rejects(Object.assign(new Error('User is not authorized to perform: ecs:ExecuteCommand'), { name: 'AccessDeniedException', $metadata: {} }));
    await expect(gateway().open(env, instance, { argv: ['sh'], tty: true })).rejects.toMatchObject({ category: 'permission', code: 'aws-access-denied' });
  });
});

describe('shellWords', () => {
  it('keeps plain words and single-quotes the rest, so the shell sees each argument as typed', () => {
    expect(shellWords(['ls', '-la', '/data'])).toBe('ls -la /data');
    expect(shellWords(['echo', "it's $HOME", ''])).toBe(`echo 'it'\\''s $HOME' ''`);
  });
});
