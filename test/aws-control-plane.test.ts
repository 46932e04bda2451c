import { CostExplorerClient, UpdateCostAllocationTagsStatusCommand } from '@aws-sdk/client-cost-explorer';
import { DecryptCommand, EncryptCommand, GenerateDataKeyCommand, GenerateMacCommand, KMSClient } from '@aws-sdk/client-kms';
import { ExecutionAlreadyExists, SendTaskFailureCommand, SendTaskSuccessCommand, SFNClient, StartExecutionCommand } from '@aws-sdk/client-sfn';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import { ConflictError, HealthCheckError } from '../functions/core/errors.ts';
import { awsRuntimeConfigFromEnv } from '../functions/drivers/aws/config.ts';
import { activateCostAllocationTags, CostExplorerBillingTags } from '../functions/drivers/aws/cost-tags.ts';
import { KmsCipher } from '../functions/drivers/aws/kms-cipher.ts';
import { sendTaskResult, StepFunctionsOrchestrator } from '../functions/drivers/aws/sfn-orchestrator.ts';
import { executionName, loadBalancerName, serviceName, targetGroupName } from '../functions/drivers/aws/tags.ts';

const sfn = mockClient(SFNClient);
const kms = mockClient(KMSClient);
const ce = mockClient(CostExplorerClient);
const arns = { deploy: 'arn:aws:states:eu-west-1:1:stateMachine:berth-deploy', scale: 's', endpoint: 'e', volume: 'v', env: 'n' };

beforeEach(() => {
  sfn.reset();
  kms.reset();
  ce.reset();
});

describe('StepFunctionsOrchestrator', () => {
  const orchestrator = () => new StepFunctionsOrchestrator({ sfn: new SFNClient({ region: 'eu-west-1' }) }, { stateMachineArns: arns }, { listTaskTokens: async () => [], deleteTaskToken: async () => undefined });

  it('starts the machine with an execution named after the operation and the input as JSON', async () => {
    sfn.on(StartExecutionCommand).resolves({ executionArn: 'arn:exec' });
    await orchestrator().start('deploy', 'op-01J0ABCDEFGHJKMNPQRSTVWXYZ', { operation: { operationId: 'op-01J0ABCDEFGHJKMNPQRSTVWXYZ' } });
    expect(sfn.commandCalls(StartExecutionCommand)[0].args[0].input).toEqual({
      stateMachineArn: arns.deploy,
      name: 'op-01J0ABCDEFGHJKMNPQRSTVWXYZ',
      input: JSON.stringify({ operation: { operationId: 'op-01J0ABCDEFGHJKMNPQRSTVWXYZ' } }),
    });
  });

  it('treats ExecutionAlreadyExists as started (idempotent)', async () => {
    sfn.on(StartExecutionCommand).rejects(new ExecutionAlreadyExists({ message: 'Execution Already Exists', $metadata: {} }));
    await expect(orchestrator().start('deploy', 'op-1', {})).resolves.toBeUndefined();
  });

  it('sanitizes names to the 80-character [A-Za-z0-9-_] rule without collisions', () => {
    expect(executionName('op-1')).toBe('op-1');
    const long = executionName(`op.${'x'.repeat(100)}`);
    expect(long).toMatch(/^[A-Za-z0-9_-]{1,80}$/);
    expect(executionName('a.b')).not.toBe(executionName('a:b'));
  });

  it('sendTaskResult completes a waiting task, or fails it with the category as error and the message as cause', async () => {
    const client = new SFNClient({ region: 'eu-west-1' });
    await sendTaskResult(client, 'tok', { healthy: ['t1'] });
    expect(sfn.commandCalls(SendTaskSuccessCommand)[0].args[0].input).toEqual({ taskToken: 'tok', output: '{"healthy":["t1"]}' });
    await sendTaskResult(client, 'tok', new HealthCheckError('never-healthy', 'instance t1 was not healthy within 60s'));
    expect(sfn.commandCalls(SendTaskFailureCommand)[0].args[0].input).toEqual({ taskToken: 'tok', error: 'health-check', cause: 'instance t1 was not healthy within 60s' });
  });

  it('interruptWaits fails the task tokens of that operation only (so its Catch compensates) and forgets them; a token already gone is fine', async () => {
    const env = { org: 'o', project: 'p', app: 'a', env: 'e' };
    const tokens = new Map([
      ['tok-a', { token: 'tok-a', env, operationId: 'op-A', instances: ['t1'], createdAt: '2026-01-01T00:00:00Z' }],
      ['tok-gone', { token: 'tok-gone', env, operationId: 'op-A', instances: ['t2'], createdAt: '2026-01-01T00:00:00Z' }],
      ['tok-b', { token: 'tok-b', env, operationId: 'op-B', instances: ['t3'], createdAt: '2026-01-01T00:00:00Z' }],
    ]);
    const waiters = { listTaskTokens: async () => [...tokens.values()], deleteTaskToken: async (t: string) => void tokens.delete(t) };
    sfn.on(SendTaskFailureCommand, { taskToken: 'tok-gone' }).rejects(Object.assign(new Error('Task Timed Out'), { name: 'TaskTimedOut' }));
    sfn.on(SendTaskFailureCommand, { taskToken: 'tok-a' }).resolves({});
    const o = new StepFunctionsOrchestrator({ sfn: new SFNClient({ region: 'eu-west-1' }) }, { stateMachineArns: arns }, waiters);
    await o.interruptWaits('op-A', new ConflictError('operation-cancelled', 'deploy op-A: cancelled by alice'));
    expect(sfn.commandCalls(SendTaskFailureCommand).map((c) => c.args[0].input)).toEqual([
      { taskToken: 'tok-a', error: 'conflict', cause: 'deploy op-A: cancelled by alice' },
      { taskToken: 'tok-gone', error: 'conflict', cause: 'deploy op-A: cancelled by alice' },
    ]);
    expect([...tokens.keys()]).toEqual(['tok-b']);
  });
});

describe('KmsCipher', () => {
  const cipher = () => new KmsCipher({ kms: new KMSClient({ region: 'eu-west-1' }) }, { kmsKeyId: 'alias/berth', macKeyId: 'alias/berth-mac' });

  it('encrypts and decrypts with the berth-secret encryption context', async () => {
    kms.on(EncryptCommand).resolves({ CiphertextBlob: Buffer.from('sealed') });
    kms.on(DecryptCommand).resolves({ Plaintext: Buffer.from('{"URL":"x"}') });
    const ciphertext = await cipher().encrypt('{"URL":"x"}');
    expect(ciphertext).toBe(`kms1.${Buffer.from('sealed').toString('base64')}`);
    expect(kms.commandCalls(EncryptCommand)[0].args[0].input).toEqual({ KeyId: 'alias/berth', Plaintext: Buffer.from('{"URL":"x"}'), EncryptionContext: { purpose: 'berth-secret' } });
    expect(await cipher().decrypt(ciphertext)).toBe('{"URL":"x"}');
    expect(kms.commandCalls(DecryptCommand)[0].args[0].input).toMatchObject({ KeyId: 'alias/berth', EncryptionContext: { purpose: 'berth-secret' } });
  });

  it('seals values beyond the 4 KiB Encrypt limit with a KMS data key, and opens them again', async () => {
    const key = Buffer.alloc(32, 7);
    kms.on(GenerateDataKeyCommand).resolves({ Plaintext: key, CiphertextBlob: Buffer.from('wrapped') });
    kms.on(DecryptCommand).resolves({ Plaintext: key });
    const big = 'x'.repeat(10_000);
    const ciphertext = await cipher().encrypt(big);
    expect(ciphertext.startsWith('kms1e.')).toBe(true);
    expect(kms.commandCalls(GenerateDataKeyCommand)[0].args[0].input).toEqual({ KeyId: 'alias/berth', KeySpec: 'AES_256', EncryptionContext: { purpose: 'berth-secret' } });
    expect(await cipher().decrypt(ciphertext)).toBe(big);
  });

  it('digests with an HMAC key through GenerateMac', async () => {
    kms.on(GenerateMacCommand).resolves({ Mac: Buffer.from('00112233445566778899aabbccddeeff', 'hex') });
    expect(await cipher().digest('value')).toBe('hmac-sha256:0011223344556677');
    expect(kms.commandCalls(GenerateMacCommand)[0].args[0].input).toMatchObject({ KeyId: 'alias/berth-mac', MacAlgorithm: 'HMAC_SHA_256' });
  });

  it('refuses a ciphertext from the embedded cipher with a clear error', async () => {
    await expect(cipher().decrypt('v1.a.b.c')).rejects.toMatchObject({ category: 'invalid-input', code: 'unknown-ciphertext' });
  });
});

describe('cost allocation tags and config', () => {
  it('activates the four berth:* tags', async () => {
    ce.on(UpdateCostAllocationTagsStatusCommand).resolves({ Errors: [] });
    expect(await activateCostAllocationTags(new CostExplorerClient({ region: 'us-east-1' }))).toEqual([]);
    expect(ce.commandCalls(UpdateCostAllocationTagsStatusCommand)[0].args[0].input).toEqual({
      CostAllocationTagsStatus: ['berth:org', 'berth:project', 'berth:app', 'berth:env'].map((TagKey) => ({ TagKey, Status: 'Active' })),
    });
  });

  it('reports the tag keys AWS has not seen on any resource yet (the port behind `berth cost-tags activate`)', async () => {
    ce.on(UpdateCostAllocationTagsStatusCommand).resolves({ Errors: [{ TagKey: 'berth:env', Code: 'TagKeysNotFoundException', Message: 'not found' }] });
    const billing = new CostExplorerBillingTags({ ce: new CostExplorerClient({ region: 'us-east-1' }) });
    expect(await billing.activate()).toEqual({ activated: ['berth:org', 'berth:project', 'berth:app'], notYetSeen: ['berth:env'] });
  });

  const vars = {
    AWS_REGION: 'eu-west-1',
    TABLE_NAME: 'berth',
    CLUSTER_ARN: 'arn:cluster',
    VPC_ID: 'vpc-1',
    SUBNETS: '[{"az":"eu-west-1a","id":"subnet-a"}]',
    TASK_SECURITY_GROUP_ID: 'sg-1',
    TASK_EXECUTION_ROLE_ARN: 'arn:exec',
    TASK_ROLE_ARN: 'arn:task',
    LOG_GROUP_PREFIX: '/berth/',
    KMS_KEY_ID: 'alias/berth',
    MAC_KEY_ID: 'alias/berth-mac',
    STATE_MACHINE_ARNS: JSON.stringify(arns),
    BACKUP_VAULT_NAME: 'vault',
    BACKUP_ROLE_ARN: 'arn:backup',
  };

  it('reads the runtime config from the Lambda environment, with defaults', () => {
    expect(awsRuntimeConfigFromEnv({ ...vars, TASK_SUBNETS: '[{"az":"eu-west-1a","id":"subnet-private-a"}]' })).toMatchObject({ taskSubnets: [{ az: 'eu-west-1a', id: 'subnet-private-a' }] });
    expect(awsRuntimeConfigFromEnv(vars)).toMatchObject({ region: 'eu-west-1', subnets: [{ az: 'eu-west-1a', id: 'subnet-a' }], taskSubnets: [{ az: 'eu-west-1a', id: 'subnet-a' }], volumeSecurityGroupId: 'sg-1', initImage: 'public.ecr.aws/docker/library/busybox:stable', assignPublicIp: false, logRetentionDays: 30, stateMachineArns: arns });
  });

  it('names the missing or malformed variable', () => {
    const { CLUSTER_ARN: _, ...missing } = vars;
    expect(() => awsRuntimeConfigFromEnv(missing)).toThrow(/CLUSTER_ARN is not set/);
    expect(() => awsRuntimeConfigFromEnv({ ...vars, SUBNETS: 'subnet-a' })).toThrow(/SUBNETS is not valid JSON/);
  });

  it('derives AWS names within their limits', () => {
    const env = { org: 'a'.repeat(40), project: 'b'.repeat(40), app: 'c'.repeat(40), env: 'd'.repeat(40) };
    expect(loadBalancerName(env).length).toBeLessThanOrEqual(32);
    expect(targetGroupName(env, 'e'.repeat(40)).length).toBeLessThanOrEqual(32);
    expect(serviceName(env, 'w'.repeat(40), 'rel-1.abcd1234')).toMatch(/^[A-Za-z0-9_-]{1,255}$/);
    expect(loadBalancerName(env)).toBe(loadBalancerName({ ...env }));
  });
});
