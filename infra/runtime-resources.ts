// What the AWS drivers create at runtime, as IAM sees it: ARN patterns from the names
// functions/drivers/aws/tags.ts gives (`berth-…`, `berth/…`, `/berth/…`), and the tag every one
// carries. The stack cannot know these ARNs upfront, so its policies scope by name prefix where the
// service puts the name in the ARN, and by the `berth:org` tag where it does not.
import { ArnFormat, type Stack } from 'aws-cdk-lib';

/**
 * Every runtime resource carries `berth:org`, `berth:project`, `berth:app` and `berth:env` (set on
 * the create call itself); IAM conditions key on `berth:org` being present, so Berth's roles can
 * change only resources that belong to some Berth org, never the account's other resources.
 */
export const RUNTIME_TAG = 'berth:org';

/** CloudWatch Logs groups of container logs: `/berth/<org>/<project>/<app>/<env>`. */
export const LOG_GROUP_PREFIX = '/berth/';

export interface RuntimeArns {
  /** ECS services of the cluster (`berth-<env hash>-…`). */
  readonly services: string;
  /** ECS tasks of the cluster. */
  readonly tasks: string;
  /** Task definition revisions of Berth's families. */
  readonly taskDefinitions: string;
  /** Network load balancers (`berth-<env hash>`). */
  readonly loadBalancers: string;
  /** Their listeners. */
  readonly listeners: string;
  /** Target groups (`berth-<hash>`). */
  readonly targetGroups: string;
  /** EFS file systems (IDs are random: scoped by tag). */
  readonly fileSystems: string;
  /** EFS access points (likewise). */
  readonly accessPoints: string;
  /** Secret bundles (`berth/<org>/<project>/<app>/<env>/<bundle>`). */
  readonly secrets: string;
  /** Container log groups. */
  readonly logGroups: string;
  /** Streams in them. */
  readonly logStreams: string;
  /** EC2 security groups (IDs are random: scoped by tag). */
  readonly securityGroups: string;
}

export function runtimeArns(stack: Stack, clusterName: string): RuntimeArns {
  const arn = (service: string, resource: string, resourceName: string, arnFormat = ArnFormat.SLASH_RESOURCE_NAME): string =>
    stack.formatArn({ service, resource, resourceName, arnFormat });
  const logGroup = `${LOG_GROUP_PREFIX}*`;
  return {
    services: arn('ecs', 'service', `${clusterName}/berth-*`),
    tasks: arn('ecs', 'task', `${clusterName}/*`),
    taskDefinitions: arn('ecs', 'task-definition', 'berth-*:*'),
    loadBalancers: arn('elasticloadbalancing', 'loadbalancer', 'net/berth-*/*'),
    listeners: arn('elasticloadbalancing', 'listener', 'net/berth-*/*/*'),
    targetGroups: arn('elasticloadbalancing', 'targetgroup', 'berth-*/*'),
    fileSystems: arn('elasticfilesystem', 'file-system', '*'),
    accessPoints: arn('elasticfilesystem', 'access-point', '*'),
    secrets: arn('secretsmanager', 'secret', 'berth/*', ArnFormat.COLON_RESOURCE_NAME),
    logGroups: arn('logs', 'log-group', logGroup, ArnFormat.COLON_RESOURCE_NAME),
    logStreams: arn('logs', 'log-group', `${logGroup}:log-stream:*`, ArnFormat.COLON_RESOURCE_NAME),
    securityGroups: arn('ec2', 'security-group', '*'),
  };
}
