// One Berth Lambda handler run for real in the test process: the real handler module over a
// dynalite table through the real SDK, with awsPlatform primed before the module is imported (it
// builds its platform at import), as the AWS twin primes it. Other AWS clients are the test's to mock.
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { awsPlatform, resetAwsPlatform } from '../../functions/aws/platform-deps.ts';
import { startLocalDynamo } from '../../functions/embedded/local-dynamo.ts';

/** The environment the stack gives every Berth Lambda, with placeholder ids. */
export function lambdaEnv(table: string, overrides: Record<string, string> = {}): Record<string, string> {
  return {
    AWS_REGION: 'eu-west-1',
    TABLE_NAME: table,
    CLUSTER_ARN: 'arn:aws:ecs:eu-west-1:1:cluster/berth',
    VPC_ID: 'vpc-1',
    SUBNETS: '[{"az":"eu-west-1a","id":"subnet-a"}]',
    TASK_SECURITY_GROUP_ID: 'sg-1',
    TASK_EXECUTION_ROLE_ARN: 'arn:aws:iam::1:role/exec',
    TASK_ROLE_ARN: 'arn:aws:iam::1:role/task',
    LOG_GROUP_PREFIX: '/berth/',
    KMS_KEY_ID: 'alias/berth',
    MAC_KEY_ID: 'alias/berth-mac',
    STATE_MACHINE_ARNS: JSON.stringify({ deploy: 'arn:d', scale: 'arn:s', endpoint: 'arn:e', volume: 'arn:v', env: 'arn:n' }),
    BACKUP_VAULT_NAME: 'vault',
    BACKUP_ROLE_ARN: 'arn:aws:iam::1:role/backup',
    ...overrides,
  };
}

export interface LambdaUnderTest<H> {
  handler: H;
  close(): Promise<void>;
}

/** Starts dynalite, primes awsPlatform on it with `env`, and imports the handler of `module` (a URL). */
export async function startLambda<H>(module: URL, env: Record<string, string>): Promise<LambdaUnderTest<H>> {
  const dir = mkdtempSync(join(os.tmpdir(), 'berth-lambda-'));
  const dynamo = await startLocalDynamo(join(dir, 'dynamo'), env.TABLE_NAME, { tcp: true });
  resetAwsPlatform();
  awsPlatform(env, { config: (service) => (service === 'dynamodb' ? { endpoint: dynamo.endpoint, credentials: { accessKeyId: 'x', secretAccessKey: 'x' } } : {}) });
  const { handler } = (await import(module.href)) as { handler: H };
  return {
    handler,
    close: async () => {
      resetAwsPlatform();
      await dynamo.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
