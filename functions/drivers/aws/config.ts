// What the AWS adapters need to know about the account they run in: the ids the CDK stack created
// (cluster, VPC, subnets, roles, keys, state machines). Lambdas receive them as environment
// variables; `awsRuntimeConfigFromEnv` reads and checks them once, at cold start.
import { ConfigMissingError, InvalidInputError } from '../../core/errors.ts';
import type { StateMachineName } from '../../core/ports.ts';

export interface AwsSubnet {
  az: string;
  id: string;
}

export interface AwsRuntimeConfig {
  region: string;
  /** DynamoDB table of desired state (read by the store, carried here so one object configures a Lambda). */
  tableName: string;
  clusterArn: string;
  vpcId: string;
  /** Dual-stack public subnets, one per availability zone: the NLBs go here. */
  subnets: AwsSubnet[];
  /** Subnets of tasks and EFS mount targets (private ones when the stack has them). @default subnets */
  taskSubnets: AwsSubnet[];
  taskSecurityGroupId: string;
  /** Security group of EFS mount targets (must allow NFS 2049 from the task group). @default taskSecurityGroupId */
  volumeSecurityGroupId: string;
  taskExecutionRoleArn: string;
  taskRoleArn: string;
  /** Log groups are `<logGroupPrefix><org>/<project>/<app>/<env>`, e.g. prefix `/berth/`. */
  logGroupPrefix: string;
  /** Days CloudWatch keeps container logs. @default 30 */
  logRetentionDays: number;
  /** Symmetric KMS key: secret-bundle ciphertexts, Secrets Manager secrets, EFS encryption. */
  kmsKeyId: string;
  /**
   * HMAC_256 KMS key used for keyed digests of secret values (`SecretCipher.digest`). A separate key
   * because KMS keys are either ENCRYPT_DECRYPT or GENERATE_VERIFY_MAC, never both.
   */
  macKeyId: string;
  stateMachineArns: Record<StateMachineName, string>;
  /** Image of the init container (writes secret files) and of the health-probe sidecar. */
  initImage: string;
  /** AWS Backup vault and the role AWS Backup assumes for on-demand volume snapshots. */
  backupVaultName: string;
  backupRoleArn: string;
  /**
   * Role of the one-off task that swaps a restored snapshot into a volume: it mounts the file
   * system's root as root (elasticfilesystem:ClientRootAccess), which app tasks may not.
   * @default taskRoleArn (VOLUME_SWAP_ROLE_ARN unset; the stack sets it: app tasks cannot do the swap)
   */
  volumeSwapRoleArn: string;
  /**
   * Give tasks a public IPv4 address. The stack sets it (infra/network.ts): with no NAT gateway
   * (natGateways: 0, the default) tasks run in the public subnets and need a public IPv4 to reach
   * IPv4-only destinations (Docker Hub, and AWS APIs, which the stack creates no VPC endpoints
   * for); with NAT gateways they run in private subnets and reach IPv4 through the NAT.
   * @default false (ASSIGN_PUBLIC_IPV4 unset)
   */
  assignPublicIp: boolean;
}

export const DEFAULT_INIT_IMAGE = 'public.ecr.aws/docker/library/busybox:stable';

const MACHINES: StateMachineName[] = ['deploy', 'scale', 'endpoint', 'volume', 'env'];

/** Reads the config the CDK stack passes to every Lambda; names the first missing variable. */
export function awsRuntimeConfigFromEnv(env: Record<string, string | undefined> = process.env): AwsRuntimeConfig {
  const need = (name: string): string => {
    const value = env[name];
    if (value === undefined || value.trim() === '') {
      throw new ConfigMissingError('aws-config-missing', `environment variable ${name} is not set; the Berth stack sets it on every Lambda — redeploy the stack (npx cdk deploy) or set it by hand`, {
        details: { variable: name },
      });
    }
    return value.trim();
  };
  const json = <T>(name: string, check: (v: unknown) => v is T, example: string): T => {
    const raw = need(name);
    let parsed: unknown;
    try {
      parsed = JSON.parse(raw);
    } catch {
      parsed = undefined;
    }
    if (!check(parsed)) {
      throw new InvalidInputError('aws-config-invalid', `environment variable ${name} is not valid JSON of the expected shape: got ${JSON.stringify(raw)}, expected e.g. ${example}`, {
        details: { variable: name, value: raw },
      });
    }
    return parsed;
  };
  const taskSecurityGroupId = need('TASK_SECURITY_GROUP_ID');
  const subnets = json('SUBNETS', isSubnets, '[{"az":"eu-west-1a","id":"subnet-0abc"}]');
  const retention = env.LOG_RETENTION_DAYS?.trim();
  return {
    region: need('AWS_REGION'),
    tableName: need('TABLE_NAME'),
    clusterArn: need('CLUSTER_ARN'),
    vpcId: need('VPC_ID'),
    subnets,
    taskSubnets: env.TASK_SUBNETS?.trim() ? json('TASK_SUBNETS', isSubnets, '[{"az":"eu-west-1a","id":"subnet-0def"}]') : subnets,
    taskSecurityGroupId,
    volumeSecurityGroupId: env.VOLUME_SECURITY_GROUP_ID?.trim() || taskSecurityGroupId,
    taskExecutionRoleArn: need('TASK_EXECUTION_ROLE_ARN'),
    taskRoleArn: need('TASK_ROLE_ARN'),
    logGroupPrefix: need('LOG_GROUP_PREFIX'),
    logRetentionDays: retention ? Number(retention) : 30,
    kmsKeyId: need('KMS_KEY_ID'),
    macKeyId: need('MAC_KEY_ID'),
    stateMachineArns: json('STATE_MACHINE_ARNS', isMachineArns, '{"deploy":"arn:aws:states:…:stateMachine:berth-deploy", …}'),
    initImage: env.INIT_IMAGE?.trim() || DEFAULT_INIT_IMAGE,
    backupVaultName: need('BACKUP_VAULT_NAME'),
    backupRoleArn: need('BACKUP_ROLE_ARN'),
    volumeSwapRoleArn: env.VOLUME_SWAP_ROLE_ARN?.trim() || need('TASK_ROLE_ARN'),
    assignPublicIp: env.ASSIGN_PUBLIC_IPV4?.trim() === 'true',
  };
}

function isSubnets(v: unknown): v is AwsSubnet[] {
  return Array.isArray(v) && v.length > 0 && v.every((s) => typeof s?.az === 'string' && typeof s?.id === 'string');
}

function isMachineArns(v: unknown): v is Record<StateMachineName, string> {
  return typeof v === 'object' && v !== null && MACHINES.every((m) => typeof (v as Record<string, unknown>)[m] === 'string');
}
