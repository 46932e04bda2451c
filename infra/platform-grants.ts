// What each Berth Lambda may do, one capability at a time, least privilege. The AWS drivers
// (functions/drivers/aws/) are the source of truth for the calls; each statement names them.
//
// Scoping, in order of preference:
// 1. the exact ARN of a stack resource (table, keys, state machines, vault, task roles);
// 2. a name pattern of what the drivers create (`berth-*` services, NLBs and target groups,
//    `berth/*` secrets, `/berth/*` log groups; see runtime-resources.ts);
// 3. where the ARN carries a random id (EFS, EC2 security groups, backups): a tag condition,
//    `aws:RequestTag/berth:org` on create and `aws:ResourceTag/berth:org` afterwards, so only
//    resources some Berth org owns can be changed;
// 4. `*` only for reads (Describe*/List*/Get*) and for the few actions AWS cannot scope at all.
import { ArnFormat, Stack } from 'aws-cdk-lib';
import type * as backup from 'aws-cdk-lib/aws-backup';
import type * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import type * as iam from 'aws-cdk-lib/aws-iam';
import type * as kms from 'aws-cdk-lib/aws-kms';
import { APP_CONTAINER } from '../functions/drivers/aws/ecs-task-definition.ts';
import { allow } from './allow.ts';
import type { BerthCluster } from './cluster.ts';
import type { BerthNetwork } from './network.ts';
import { RUNTIME_TAG } from './runtime-resources.ts';
import { MACHINES, stateMachineArn } from './state-machines.ts';

type Role = iam.Role;

const HAS_ORG = { Null: { [`aws:ResourceTag/${RUNTIME_TAG}`]: 'false' } };
const CREATES_WITH_ORG = { Null: { [`aws:RequestTag/${RUNTIME_TAG}`]: 'false' } };
/** The encryption context functions/drivers/aws/kms-cipher.ts binds every secret ciphertext to. */
const SECRET_CONTEXT = { StringEquals: { 'kms:EncryptionContext:purpose': 'berth-secret' } };

export interface PlatformGrantsProps {
  readonly stack: Stack;
  readonly table: dynamodb.ITable;
  /** The table's customer-managed key, if it has one. */
  readonly tableKey?: kms.IKey;
  readonly keys: { readonly data: kms.IKey; readonly mac: kms.IKey };
  readonly network: BerthNetwork;
  readonly cluster: BerthCluster;
  readonly backups: { readonly vault: backup.IBackupVault; readonly role: iam.IRole };
}

export class PlatformGrants {
  constructor(private readonly p: PlatformGrantsProps) {}

  /** DynamoDB: desired state, operations, events, tokens (functions/store/dynamo-state-store.ts). */
  stateStore(role: Role): void {
    const { table, tableKey } = this.p;
    // Item reads and writes only: the key design serves every request with GetItem or Query, never Scan.
    // The audit log (AUDIT#<org>) needs only PutItem and Query from this list. IAM cannot make it
    // append-only: `dynamodb:LeadingKeys` allows or denies whole partitions, and no condition key
    // sees a ConditionExpression, so a role that may append may also overwrite; the code's
    // conditional put is the guard (functions/store/dynamo-audit.ts).
    allow(role, {
      sid: 'StateStore',
      actions: ['dynamodb:GetItem', 'dynamodb:BatchGetItem', 'dynamodb:Query', 'dynamodb:PutItem', 'dynamodb:UpdateItem', 'dynamodb:DeleteItem', 'dynamodb:BatchWriteItem', 'dynamodb:ConditionCheckItem', 'dynamodb:DescribeTable'],
      resources: [table.tableArn],
    });
    // A customer-managed table key is used by DynamoDB on the caller's behalf.
    if (tableKey) {
      allow(role, {
        sid: 'StateStoreKey',
        actions: ['kms:Decrypt', 'kms:Encrypt', 'kms:GenerateDataKey', 'kms:DescribeKey'],
        resources: [tableKey.keyArn],
        conditions: { StringEquals: { 'kms:ViaService': `dynamodb.${this.p.stack.region}.amazonaws.com` } },
      });
    }
  }

  /** Write and read secret bundles: KMS Encrypt/GenerateDataKey/Decrypt bound to Berth's context, HMAC digests (kms-cipher.ts). */
  cipher(role: Role): void {
    allow(role, { sid: 'SecretCipher', actions: ['kms:Encrypt', 'kms:GenerateDataKey', 'kms:Decrypt'], resources: [this.p.keys.data.keyArn], conditions: SECRET_CONTEXT });
    allow(role, { sid: 'SecretDigest', actions: ['kms:GenerateMac'], resources: [this.p.keys.mac.keyArn] });
  }

  /** Read secret bundles only: a rollout decrypts them to hand them to Secrets Manager (instance-specs.ts). */
  decipher(role: Role): void {
    allow(role, { sid: 'SecretDecipher', actions: ['kms:Decrypt'], resources: [this.p.keys.data.keyArn], conditions: SECRET_CONTEXT });
  }

  /** StartExecution of the five machines (sfn-orchestrator.ts). */
  /** `berth cost-tags activate`: an account-wide Billing setting that IAM cannot scope to a resource. */
  activateCostTags(role: Role): void {
    allow(role, {
      sid: 'ActivateCostAllocationTags',
      actions: ['ce:UpdateCostAllocationTagsStatus'],
      resources: ['*'],
      why: 'Cost Explorer supports no resource-level permissions for UpdateCostAllocationTagsStatus (https://docs.aws.amazon.com/service-authorization/latest/reference/list_awscostexplorerservice.html); the API only ever activates the four berth:* tag keys, and only for an authenticated owner.',
    });
  }

  startOperations(role: Role): void {
    allow(role, { sid: 'StartOperations', actions: ['states:StartExecution'], resources: this.machineArns() });
  }

  /** Complete `.waitForTaskToken` steps (health-waiters.ts): the steps Lambda settles at once when the tasks already are healthy, the ECS-events one when an event says so. */
  completeWaitingSteps(role: Role): void {
    allow(role, {
      sid: 'CompleteWaitingSteps',
      actions: ['states:SendTaskSuccess', 'states:SendTaskFailure', 'states:SendTaskHeartbeat'],
      resources: ['*'],
      why: 'SendTask* have no resource-level permissions: the request carries only a task token, which names no state machine IAM could match (https://docs.aws.amazon.com/service-authorization/latest/reference/list_awsstepfunctions.html). A token is unguessable and issued only to the steps Lambda by these machines.',
    });
  }

  /** Container logs of the envs, for `berth logs` (cloudwatch-logs.ts). */
  readContainerLogs(role: Role): void {
    allow(role, {
      sid: 'ReadContainerLogs',
      actions: ['logs:FilterLogEvents', 'logs:GetLogEvents', 'logs:DescribeLogStreams'],
      resources: [this.arns.logGroups],
      why: 'Container log groups are created per env at runtime (/berth/<org>/<project>/<app>/<env>); the prefix limits reads to them.',
    });
  }

  /**
   * `berth exec` on AWS: ECS ExecuteCommand into the app container of Berth tasks only (ecs-exec.ts);
   * the init and probe sidecars stay out of reach. The session itself is opened by the CLI with the
   * token ExecuteCommand returns, so the Lambda needs no ssmmessages permission.
   */
  execIntoTasks(role: Role): void {
    allow(role, {
      sid: 'ExecIntoAppContainers',
      actions: ['ecs:ExecuteCommand'],
      resources: [this.p.cluster.cluster.clusterArn, this.arns.tasks],
      conditions: { StringEquals: { 'ecs:container-name': APP_CONTAINER } },
      why: 'Task ids are random; the ARN pattern keeps exec to tasks of the Berth cluster and the condition to their app container. Who may exec is decided by the API (token and env) before it calls.',
    });
  }

  /** What a health waiter reads: the tasks of the Berth cluster (ecs-compute.ts healthOf). */
  readTasks(role: Role): void {
    allow(role, {
      sid: 'ReadAppTasks',
      actions: ['ecs:DescribeTasks', 'ecs:ListTagsForResource'],
      resources: [this.arns.tasks],
      why: 'Task ids are random; the ARN pattern keeps reads to tasks of the Berth cluster.',
    });
  }

  /** What status and drift detection read: ECS, NLB, EFS, security groups, snapshots. */
  readRuntime(role: Role): void {
    const clusterArn = this.p.cluster.cluster.clusterArn;
    this.readTasks(role);
    allow(role, {
      sid: 'ReadAppServices',
      actions: ['ecs:DescribeServices', 'ecs:ListTagsForResource'],
      resources: [this.arns.services],
      why: 'Services are created at runtime, named berth-<env hash>-…; the ARN pattern keeps reads to the Berth cluster.',
    });
    allow(role, {
      sid: 'ListAppServices',
      actions: ['ecs:ListServices', 'ecs:ListTasks'],
      resources: ['*'],
      conditions: { ArnEquals: { 'ecs:cluster': clusterArn } },
      why: 'ECS List* actions take no resource ARN; the ecs:cluster condition keeps them to the Berth cluster.',
    });
    allow(role, {
      sid: 'ReadRuntimeDescriptions',
      actions: [
        'ecs:DescribeTaskDefinition',
        'elasticloadbalancing:DescribeLoadBalancers',
        'elasticloadbalancing:DescribeTargetGroups',
        'elasticloadbalancing:DescribeListeners',
        'elasticloadbalancing:DescribeTargetHealth',
        'elasticloadbalancing:DescribeTags',
        'ec2:DescribeSecurityGroups',
        'ec2:DescribeSecurityGroupRules',
        'elasticfilesystem:DescribeFileSystems',
        'elasticfilesystem:DescribeAccessPoints',
        'elasticfilesystem:DescribeMountTargets',
      ],
      resources: ['*'],
      why: 'Read-only Describe actions that AWS does not scope by resource (or that look resources up by name, before their ARN is known).',
    });
    allow(role, { sid: 'ListSnapshots', actions: ['backup:ListRecoveryPointsByBackupVault'], resources: [this.p.backups.vault.backupVaultArn] });
    allow(role, {
      sid: 'ReadSnapshotTags',
      actions: ['backup:ListTags'],
      resources: [this.recoveryPoints()],
      why: 'Recovery point ARNs carry random ids; reading tags is how the EFS driver tells snapshots apart (efs-snapshots.ts).',
    });
  }

  /** Everything the steps change: ECS services, NLB endpoints, EFS volumes, secrets, log groups. */
  changeRuntime(role: Role): void {
    this.changeCompute(role);
    this.changeEndpoints(role);
    this.changeVolumes(role);
  }

  private changeCompute(role: Role): void {
    const { cluster } = this.p;
    allow(role, {
      sid: 'RegisterTaskDefinitions',
      actions: ['ecs:RegisterTaskDefinition'],
      resources: ['*'],
      conditions: CREATES_WITH_ORG,
      why: 'RegisterTaskDefinition is not scoped by resource; the request must carry the berth:org tag (ecs-task-definition.ts sets it).',
    });
    allow(role, {
      sid: 'ChangeAppServices',
      actions: ['ecs:CreateService', 'ecs:UpdateService', 'ecs:DeleteService'],
      resources: [this.arns.services],
      why: 'Services are created at runtime, named berth-<env hash>-…, in the Berth cluster only.',
    });
    allow(role, {
      sid: 'TagOnCreate',
      actions: ['ecs:TagResource'],
      resources: [this.arns.services, this.arns.taskDefinitions, this.arns.tasks],
      conditions: { StringEquals: { 'ecs:CreateAction': ['CreateService', 'RegisterTaskDefinition', 'RunTask'] } },
      why: 'Tags ride on the create call (ECS authorizes them as TagResource); berth-* names and Berth cluster tasks only, and only while creating.',
    });
    allow(role, {
      sid: 'RunVolumeSwapTasks',
      actions: ['ecs:RunTask'],
      resources: [this.p.stack.formatArn({ service: 'ecs', resource: 'task-definition', resourceName: 'berth-volume-swap-*:*' })],
      conditions: { ArnEquals: { 'ecs:cluster': cluster.cluster.clusterArn } },
      why: 'The one-off task that swaps a restored snapshot into a volume (efs-restore.ts); only its families, only in the Berth cluster.',
    });
    allow(role, {
      sid: 'StopAppTasks',
      actions: ['ecs:StopTask', 'ecs:UpdateTaskProtection'],
      resources: [this.arns.tasks],
      why: 'Task ids are random; the ARN pattern keeps stops to tasks of the Berth cluster (ecs-stop.ts).',
    });
    allow(role, {
      sid: 'PassTaskRoles',
      actions: ['iam:PassRole'],
      resources: [cluster.taskExecutionRole.roleArn, cluster.taskRole.roleArn, cluster.volumeSwapRole.roleArn],
      conditions: { StringEquals: { 'iam:PassedToService': 'ecs-tasks.amazonaws.com' } },
    });
    allow(role, {
      sid: 'ContainerLogGroups',
      actions: ['logs:CreateLogGroup', 'logs:PutRetentionPolicy', 'logs:TagResource'],
      resources: [this.arns.logGroups],
      why: 'One log group per env, created at runtime under /berth/ (cloudwatch-logs.ts ensureLogGroup).',
    });
    allow(role, {
      sid: 'StoreSecretBundles',
      actions: ['secretsmanager:CreateSecret', 'secretsmanager:TagResource'],
      resources: [this.arns.secrets],
      conditions: CREATES_WITH_ORG,
      why: 'One secret per env and bundle, created at runtime under berth/ and tagged with its org (ecs-secrets.ts).',
    });
    allow(role, {
      sid: 'UpdateSecretBundles',
      actions: ['secretsmanager:PutSecretValue'],
      resources: [this.arns.secrets],
      conditions: HAS_ORG,
      why: 'Secrets are created at runtime under berth/; only ones tagged with an org can change.',
    });
    allow(role, {
      sid: 'DeleteSecretBundles',
      actions: ['secretsmanager:DeleteSecret'],
      resources: [this.arns.secrets],
      conditions: HAS_ORG,
      why: 'Env destroy force-deletes the env\'s bundle secrets (berth/…); only ones tagged with an org.',
    });
    allow(role, {
      sid: 'ListSecretBundles',
      actions: ['secretsmanager:ListSecrets'],
      resources: ['*'],
      why: 'ListSecrets supports no resource-level permission (https://docs.aws.amazon.com/service-authorization/latest/reference/list_awssecretsmanager.html); env destroy lists the env\'s secrets by name prefix.',
    });
    allow(role, {
      sid: 'ReadEcsAccountSettings',
      actions: ['ecs:ListAccountSettings'],
      resources: ['*'],
      why: 'ListAccountSettings supports no resource-level permission (https://docs.aws.amazon.com/service-authorization/latest/reference/list_amazonelasticcontainerservice.html); the dualStackIPv6 preflight reads it.',
    });
    allow(role, {
      sid: 'EncryptSecretBundles',
      actions: ['kms:GenerateDataKey', 'kms:Decrypt'],
      resources: [this.p.keys.data.keyArn],
      conditions: { StringEquals: { 'kms:ViaService': `secretsmanager.${this.p.stack.region}.amazonaws.com` } },
    });
  }

  private changeEndpoints(role: Role): void {
    const { network } = this.p;
    // Elastic Load Balancing checks these with the caller's credentials while it serves
    // CreateLoadBalancer, CreateTargetGroup and RegisterTargets
    // (https://docs.aws.amazon.com/elasticloadbalancing/latest/userguide/elb-api-permissions.html);
    // without them the first `berth endpoints create` fails with AccessDenied.
    allow(role, {
      sid: 'EndpointNetworkLookups',
      actions: ['ec2:DescribeAccountAttributes', 'ec2:DescribeAddresses', 'ec2:DescribeInternetGateways', 'ec2:DescribeVpcs', 'ec2:DescribeSubnets', 'ec2:DescribeSecurityGroups', 'ec2:DescribeInstances'],
      resources: ['*'],
      why: 'Elastic Load Balancing checks these EC2 Describe actions with the caller\'s credentials for CreateLoadBalancer, CreateTargetGroup and RegisterTargets (https://docs.aws.amazon.com/elasticloadbalancing/latest/userguide/elb-api-permissions.html); EC2 Describe actions support no resource-level permissions.',
    });
    allow(role, {
      sid: 'CreateEndpoints',
      actions: ['elasticloadbalancing:CreateLoadBalancer', 'elasticloadbalancing:CreateTargetGroup', 'elasticloadbalancing:CreateListener'],
      resources: [this.arns.loadBalancers, this.arns.targetGroups, this.arns.listeners],
      conditions: CREATES_WITH_ORG,
      why: 'One NLB per env (berth-<env hash>) and a target group per endpoint, created at runtime; each create carries the berth:org tag (nlb-endpoints.ts).',
    });
    allow(role, {
      sid: 'ChangeEndpoints',
      actions: [
        'elasticloadbalancing:AddTags',
        'elasticloadbalancing:ModifyTargetGroup',
        'elasticloadbalancing:ModifyTargetGroupAttributes',
        'elasticloadbalancing:RegisterTargets',
        'elasticloadbalancing:DeregisterTargets',
        'elasticloadbalancing:ModifyListener',
        'elasticloadbalancing:DeleteListener',
        'elasticloadbalancing:DeleteTargetGroup',
        'elasticloadbalancing:DeleteLoadBalancer',
      ],
      resources: [this.arns.loadBalancers, this.arns.targetGroups, this.arns.listeners],
      why: 'NLBs, listeners and target groups are created at runtime; the berth-* name patterns keep changes to Berth\'s.',
    });
    allow(role, {
      sid: 'CreateEndpointSecurityGroups',
      actions: ['ec2:CreateSecurityGroup'],
      resources: [this.arns.securityGroups],
      conditions: CREATES_WITH_ORG,
      why: 'Security group ids are random; a new group must carry the berth:org tag (nlb-security-group.ts).',
    });
    allow(role, { sid: 'SecurityGroupsInBerthVpc', actions: ['ec2:CreateSecurityGroup'], resources: [this.ec2Arn('vpc', network.vpc.vpcId)] });
    allow(role, {
      sid: 'TagOnCreateEc2',
      actions: ['ec2:CreateTags'],
      resources: [this.arns.securityGroups, this.ec2Arn('security-group-rule', '*')],
      conditions: { StringEquals: { 'ec2:CreateAction': ['CreateSecurityGroup', 'AuthorizeSecurityGroupIngress', 'AuthorizeSecurityGroupEgress'] } },
      why: 'Groups and rules get their tags on the create call (TagSpecifications); only then may they be tagged.',
    });
    allow(role, {
      sid: 'ChangeEndpointSecurityGroups',
      actions: ['ec2:AuthorizeSecurityGroupIngress', 'ec2:AuthorizeSecurityGroupEgress', 'ec2:RevokeSecurityGroupIngress', 'ec2:DeleteSecurityGroup'],
      resources: [this.arns.securityGroups],
      conditions: HAS_ORG,
      why: 'Endpoint security groups are created at runtime; only ones tagged with an org can change, and be deleted with their env.',
    });
    allow(role, {
      sid: 'AdmitNlbsIntoTasks',
      // Revoke: an endpoint's rule goes with its NLB, so the shared group never reaches its rule quota.
      actions: ['ec2:AuthorizeSecurityGroupIngress', 'ec2:RevokeSecurityGroupIngress'],
      resources: [this.ec2Arn('security-group', network.taskSecurityGroup.securityGroupId)],
    });
    allow(role, {
      sid: 'SecurityGroupRules',
      actions: ['ec2:AuthorizeSecurityGroupIngress', 'ec2:AuthorizeSecurityGroupEgress', 'ec2:RevokeSecurityGroupIngress'],
      resources: [this.ec2Arn('security-group-rule', '*')],
      why: 'A rule id is random and new rules have none yet; the group the rule belongs to must be allowed too (the two statements above), which is what limits these.',
    });
    allow(role, {
      sid: 'ElbServiceLinkedRole',
      actions: ['iam:CreateServiceLinkedRole'],
      resources: [this.serviceLinkedRole('elasticloadbalancing.amazonaws.com', 'AWSServiceRoleForElasticLoadBalancing')],
      conditions: { StringEquals: { 'iam:AWSServiceName': 'elasticloadbalancing.amazonaws.com' } },
    });
  }

  private changeVolumes(role: Role): void {
    const { network, keys, backups } = this.p;
    allow(role, {
      sid: 'CreateFileSystems',
      actions: ['elasticfilesystem:CreateFileSystem'],
      resources: ['*'],
      conditions: CREATES_WITH_ORG,
      why: 'CreateFileSystem has no resource-level permissions (https://docs.aws.amazon.com/service-authorization/latest/reference/list_amazonelasticfilesystem.html); the request must carry the berth:org tag (efs-volumes.ts sets it).',
    });
    allow(role, {
      sid: 'CreateVolumes',
      actions: ['elasticfilesystem:CreateAccessPoint', 'elasticfilesystem:TagResource'],
      resources: [this.arns.fileSystems, this.arns.accessPoints],
      conditions: CREATES_WITH_ORG,
      why: 'File system and access point ids are random; each create carries the berth:org tag (efs-volumes.ts).',
    });
    allow(role, {
      sid: 'ChangeVolumes',
      actions: [
        'elasticfilesystem:CreateAccessPoint',
        'elasticfilesystem:CreateMountTarget',
        'elasticfilesystem:DeleteMountTarget',
        'elasticfilesystem:DeleteAccessPoint',
        'elasticfilesystem:DeleteFileSystem',
        'elasticfilesystem:TagResource',
        'elasticfilesystem:UntagResource',
      ],
      resources: [this.arns.fileSystems, this.arns.accessPoints],
      conditions: HAS_ORG,
      why: 'File systems and access points are created at runtime; only ones tagged with an org can change.',
    });
    allow(role, {
      sid: 'MountTargetInterfaces',
      actions: ['ec2:CreateNetworkInterface', 'ec2:DeleteNetworkInterface'],
      resources: [this.ec2Arn('network-interface', '*'), this.ec2Arn('subnet', '*'), this.ec2Arn('security-group', network.volumeSecurityGroup.securityGroupId)],
      conditions: { ArnEquals: { 'ec2:Vpc': this.ec2Arn('vpc', network.vpc.vpcId) } },
      why: 'EFS creates and deletes mount-target interfaces with the caller\'s permissions; the ec2:Vpc condition keeps them to the Berth VPC.',
    });
    allow(role, {
      sid: 'MountTargetLookups',
      actions: ['ec2:DescribeSubnets', 'ec2:DescribeNetworkInterfaces'],
      resources: ['*'],
      why: 'CreateMountTarget checks the subnet and interfaces with the caller\'s permissions; read-only Describe actions are not scoped by resource.',
    });
    allow(role, {
      sid: 'EncryptVolumes',
      actions: ['kms:DescribeKey', 'kms:CreateGrant'],
      resources: [keys.data.keyArn],
      conditions: { StringEquals: { 'kms:ViaService': `elasticfilesystem.${this.p.stack.region}.amazonaws.com` } },
    });
    allow(role, {
      sid: 'EfsServiceLinkedRole',
      actions: ['iam:CreateServiceLinkedRole'],
      resources: [this.serviceLinkedRole('elasticfilesystem.amazonaws.com', 'AWSServiceRoleForAmazonElasticFileSystem')],
      conditions: { StringEquals: { 'iam:AWSServiceName': 'elasticfilesystem.amazonaws.com' } },
    });
    allow(role, { sid: 'SnapshotVolumes', actions: ['backup:StartBackupJob'], resources: [backups.vault.backupVaultArn] });
    allow(role, {
      sid: 'PassBackupRole',
      actions: ['iam:PassRole'],
      resources: [backups.role.roleArn],
      conditions: { StringEquals: { 'iam:PassedToService': 'backup.amazonaws.com' } },
    });
    allow(role, {
      sid: 'TagNewSnapshots',
      actions: ['backup:TagResource'],
      resources: [this.recoveryPoints()],
      conditions: CREATES_WITH_ORG,
      why: 'Recovery point ids are random; a snapshot is tagged with its org when it is taken (efs-snapshots.ts RecoveryPointTags).',
    });
    allow(role, {
      sid: 'RestoreSnapshots',
      actions: ['backup:StartRestoreJob'],
      resources: [this.recoveryPoints()],
      conditions: HAS_ORG,
      why: 'Recovery point ids are random; only snapshots tagged with a Berth org can be restored (efs-restore.ts).',
    });
    this.readRestoreJobs(role);
    allow(role, {
      sid: 'DeleteSnapshots',
      actions: ['backup:DeleteRecoveryPoint'],
      resources: [this.recoveryPoints()],
      conditions: HAS_ORG,
      why: 'Recovery point ids are random; only snapshots tagged with a Berth org can be deleted.',
    });
  }

  /** Restore job status, for the volume restore waiters (aws/restore-waiters.ts). */
  readRestoreJobs(role: Role): void {
    allow(role, {
      sid: 'ReadRestoreJobs',
      actions: ['backup:DescribeRestoreJob'],
      resources: ['*'],
      why: 'DescribeRestoreJob supports no resource-level permission (https://docs.aws.amazon.com/service-authorization/latest/reference/list_awsbackup.html); it reads a job\'s status.',
    });
  }

  /** The role AWS Backup assumes for `StartBackupJob` and `StartRestoreJob` of a Berth volume. */
  static backupService(role: Role, p: { vault: backup.IBackupVault; key: kms.IKey; fileSystems: string }): void {
    allow(role, {
      sid: 'BackUpBerthVolumes',
      actions: ['elasticfilesystem:Backup', 'elasticfilesystem:DescribeTags'],
      resources: [p.fileSystems],
      conditions: HAS_ORG,
      why: 'File system ids are random; only file systems tagged with a Berth org can be backed up.',
    });
    // A restore writes into the volume's own file system, or creates one (create --from-snapshot),
    // which carries no tags until the driver adopts it: the managed AWSBackupServiceRolePolicyForRestores
    // grants these on every file system (https://docs.aws.amazon.com/aws-backup/latest/devguide/security-iam-awsmanpol.html).
    allow(role, {
      sid: 'RestoreBerthVolumes',
      actions: ['elasticfilesystem:Restore', 'elasticfilesystem:CreateFilesystem', 'elasticfilesystem:DescribeFilesystems', 'elasticfilesystem:DeleteFilesystem'],
      resources: [p.fileSystems],
      why: 'A new file system has a random id and no tags while AWS Backup creates it; DeleteFilesystem lets Backup clean up a restore it failed.',
    });
    allow(role, { sid: 'WriteIntoVault', actions: ['backup:DescribeBackupVault', 'backup:CopyIntoBackupVault'], resources: [p.vault.backupVaultArn] });
    allow(role, {
      sid: 'EncryptRecoveryPoints',
      actions: ['kms:DescribeKey', 'kms:Decrypt', 'kms:GenerateDataKey'],
      resources: [p.key.keyArn],
      conditions: { StringEquals: { 'kms:ViaService': [`backup.${Stack.of(role).region}.amazonaws.com`, `elasticfilesystem.${Stack.of(role).region}.amazonaws.com`] } },
    });
    allow(role, {
      sid: 'GrantToBackup',
      actions: ['kms:CreateGrant'],
      resources: [p.key.keyArn],
      conditions: { Bool: { 'kms:GrantIsForAWSResource': 'true' } },
    });
  }

  private get arns() {
    return this.p.cluster.runtimeArns;
  }

  private machineArns(): string[] {
    return MACHINES.map((m) => stateMachineArn(this.p.stack, m));
  }

  private recoveryPoints(): string {
    return this.p.stack.formatArn({ service: 'backup', resource: 'recovery-point', resourceName: '*', arnFormat: ArnFormat.COLON_RESOURCE_NAME });
  }

  private ec2Arn(resource: string, id: string): string {
    return this.p.stack.formatArn({ service: 'ec2', resource, resourceName: id });
  }

  private serviceLinkedRole(service: string, name: string): string {
    return this.p.stack.formatArn({ service: 'iam', region: '', resource: 'role', resourceName: `aws-service-role/${service}/${name}` });
  }
}

