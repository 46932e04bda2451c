// The ECS cluster app tasks run in, and the two roles every task definition names:
// - the execution role, which ECS itself assumes to start a task (pull the image, write the awslogs
//   stream, read the pinned Secrets Manager versions of the env's secret bundles);
// - the task role, which the app's containers assume. It carries only what Berth's task definitions
//   need (EFS IAM-authorized mounts); attach what your apps call (S3, SQS…) to it yourself;
// - the volume swap role, of the one-off task that moves a restored snapshot into a volume
//   (functions/drivers/aws/efs-restore.ts): root access to Berth file systems, nothing else.
import { Stack } from 'aws-cdk-lib';
import * as ecs from 'aws-cdk-lib/aws-ecs';
import type * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as kms from 'aws-cdk-lib/aws-kms';
import { Construct } from 'constructs';
import { allow } from './allow.ts';
import { runtimeArns, RUNTIME_TAG, type RuntimeArns } from './runtime-resources.ts';

export interface BerthClusterProps {
  readonly vpc: ec2.IVpc;
  /** Encrypts secret bundles in Secrets Manager and EFS volumes. */
  readonly key: kms.IKey;
}

export class BerthCluster extends Construct {
  readonly cluster: ecs.Cluster;
  readonly taskExecutionRole: iam.Role;
  readonly taskRole: iam.Role;
  readonly volumeSwapRole: iam.Role;
  /** ARN patterns of what the drivers create for this cluster's apps. */
  readonly runtimeArns: RuntimeArns;

  constructor(scope: Construct, id: string, props: BerthClusterProps) {
    super(scope, id);
    this.cluster = new ecs.Cluster(this, 'Cluster', {
      vpc: props.vpc,
      containerInsightsV2: ecs.ContainerInsights.ENABLED,
      enableFargateCapacityProviders: true,
    });
    this.runtimeArns = runtimeArns(Stack.of(this), this.cluster.clusterName);
    this.taskExecutionRole = this.createExecutionRole(props.key);
    this.taskRole = this.createTaskRole();
    this.volumeSwapRole = this.createVolumeSwapRole();
  }

  private createVolumeSwapRole(): iam.Role {
    const role = new iam.Role(this, 'VolumeSwapRole', {
      assumedBy: new iam.ServicePrincipal('ecs-tasks.amazonaws.com'),
      description: 'Berth volume swap task: mounts a volume\'s file system root to move restored snapshot data into place',
    });
    // The swap task mounts "/" without an access point as uid 0: without ClientRootAccess EFS
    // squashes root to nfsnobody, which cannot move the app's files
    // (https://docs.aws.amazon.com/efs/latest/ug/iam-access-control-nfs-efs.html).
    allow(role, {
      sid: 'SwapVolumeData',
      actions: ['elasticfilesystem:ClientMount', 'elasticfilesystem:ClientWrite', 'elasticfilesystem:ClientRootAccess'],
      resources: [this.runtimeArns.fileSystems],
      conditions: { Null: { [`aws:ResourceTag/${RUNTIME_TAG}`]: 'false' } },
      why: 'File systems are created (or restored) at runtime with random ids; only ones tagged with a Berth org.',
    });
    return role;
  }

  private createExecutionRole(key: kms.IKey): iam.Role {
    const arns = this.runtimeArns;
    const role = new iam.Role(this, 'TaskExecutionRole', {
      assumedBy: new iam.ServicePrincipal('ecs-tasks.amazonaws.com'),
      description: 'Berth task execution: pull images, write container logs, read the pinned secret bundles',
    });
    allow(role, {
      sid: 'RegistryLogin',
      actions: ['ecr:GetAuthorizationToken'],
      resources: ['*'],
      why: 'ECR issues one registry token per account; GetAuthorizationToken has no resource-level permissions.',
    });
    allow(role, {
      sid: 'PullImages',
      actions: ['ecr:BatchCheckLayerAvailability', 'ecr:GetDownloadUrlForLayer', 'ecr:BatchGetImage'],
      resources: [Stack.of(this).formatArn({ service: 'ecr', resource: 'repository', resourceName: '*' })],
      why: 'Apps deploy images from any repository of this account (the user names it at deploy time); pulls are read-only.',
    });
    allow(role, {
      sid: 'WriteContainerLogs',
      actions: ['logs:CreateLogStream', 'logs:PutLogEvents'],
      resources: [arns.logStreams],
      why: 'The awslogs driver writes one stream per task into the env log group (/berth/<org>/<project>/<app>/<env>), both created at runtime.',
    });
    allow(role, {
      sid: 'ReadSecretBundles',
      actions: ['secretsmanager:GetSecretValue'],
      resources: [arns.secrets],
      conditions: { Null: { [`secretsmanager:ResourceTag/${RUNTIME_TAG}`]: 'false' } },
      why: 'Secret bundles are created at runtime (berth/<org>/<project>/<app>/<env>/<bundle>); only those, and only ones tagged with an org.',
    });
    allow(role, {
      sid: 'DecryptSecretBundles',
      actions: ['kms:Decrypt'],
      resources: [key.keyArn],
      conditions: { StringEquals: { 'kms:ViaService': `secretsmanager.${Stack.of(this).region}.amazonaws.com` } },
    });
    return role;
  }

  private createTaskRole(): iam.Role {
    const role = new iam.Role(this, 'TaskRole', {
      assumedBy: new iam.ServicePrincipal('ecs-tasks.amazonaws.com'),
      description: 'Berth app tasks: mount the env volumes, ECS Exec; attach what your apps call to this role',
    });
    // Task definitions mount EFS with IAM authorization through an access point.
    allow(role, {
      sid: 'MountVolumes',
      actions: ['elasticfilesystem:ClientMount', 'elasticfilesystem:ClientWrite'],
      resources: [this.runtimeArns.fileSystems],
      conditions: { Null: { [`aws:ResourceTag/${RUNTIME_TAG}`]: 'false' } },
      why: 'File systems are created at runtime with random ids; only ones tagged with a Berth org can be mounted.',
    });
    // ECS Exec (`aws ecs execute-command`; services run with enableExecuteCommand): the SSM agent in
    // the task opens its channels. https://docs.aws.amazon.com/AmazonECS/latest/developerguide/ecs-exec.html
    allow(role, {
      sid: 'EcsExecChannels',
      actions: ['ssmmessages:CreateControlChannel', 'ssmmessages:CreateDataChannel', 'ssmmessages:OpenControlChannel', 'ssmmessages:OpenDataChannel'],
      resources: ['*'],
      why: 'The ssmmessages actions ECS Exec needs have no resource-level permissions; who may start a session is decided by ecs:ExecuteCommand on the caller.',
    });
    // With the cluster's default exec logging, the SSM agent writes each session's output to the
    // container's awslogs group with the task role: without these an exec session fails to start.
    // https://docs.aws.amazon.com/AmazonECS/latest/developerguide/ecs-exec.html#ecs-exec-required-iam-permissions
    allow(role, {
      sid: 'EcsExecSessionLogs',
      actions: ['logs:CreateLogStream', 'logs:DescribeLogStreams', 'logs:PutLogEvents'],
      resources: [this.runtimeArns.logGroups, this.runtimeArns.logStreams],
      why: 'Session output goes only to the Berth env log groups the containers already log to.',
    });
    allow(role, {
      sid: 'EcsExecFindLogGroup',
      actions: ['logs:DescribeLogGroups'],
      resources: ['*'],
      why: 'DescribeLogGroups supports no resource-level permission (https://docs.aws.amazon.com/service-authorization/latest/reference/list_amazoncloudwatchlogs.html); it reveals names, not contents.',
    });
    return role;
  }
}
