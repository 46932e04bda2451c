// AWS list prices, us-east-1, before free tiers, each with the page it comes from. The only place a
// price lives: cost.ts multiplies the twin's counts by these, and infra/README.md's cost table is
// rendered from the result (docs/aws-cost.json). Prices change: check the page before relying on one.

export interface Price {
  /** Dollars per `unit`. */
  usd: number;
  unit: string;
  page: string;
}

const p = (usd: number, unit: string, page: string): Price => ({ usd, unit, page });

const ELB = 'https://aws.amazon.com/elasticloadbalancing/pricing/';
const VPC = 'https://aws.amazon.com/vpc/pricing/';
const FARGATE = 'https://aws.amazon.com/fargate/pricing/';
const CLOUDWATCH = 'https://aws.amazon.com/cloudwatch/pricing/';

export const PRICES = {
  nlbHour: p(0.0225, 'NLB-hour', ELB),
  // An idle NLB still bills one NLCU an hour at least (a partial NLCU rounds up).
  nlcuHour: p(0.006, 'NLCU-hour', ELB),
  // Every public IPv4 address, in use or not: an internet-facing NLB has one per zone, a task with
  // assignPublicIp one, a NAT gateway's Elastic IP one.
  publicIpv4Hour: p(0.005, 'address-hour', VPC),
  natGatewayHour: p(0.045, 'gateway-hour', VPC),
  natGatewayGb: p(0.045, 'GB processed', VPC),
  // Linux/x86; billed per second from the image pull to the task's end (1 minute minimum).
  fargateVcpuHour: p(0.04048, 'vCPU-hour', FARGATE),
  fargateGbHour: p(0.004445, 'GB-hour', FARGATE),
  efsStandardGbMonth: p(0.3, 'GB-month', 'https://aws.amazon.com/efs/pricing/'),
  kmsKeyMonth: p(1, 'key-month', 'https://aws.amazon.com/kms/pricing/'),
  // Each automatic rotation adds $1/month for the first and second rotation of a key, then no more.
  kmsRotationMonth: p(1, 'rotation-month (at most 2 a key)', 'https://aws.amazon.com/kms/pricing/'),
  kmsRequest: p(0.03 / 10_000, 'request', 'https://aws.amazon.com/kms/pricing/'),
  // Container Insights (standard) metrics bill as custom metrics, prorated by the hour.
  metricMonth: p(0.3, 'metric-month', CLOUDWATCH),
  logsIngestedGb: p(0.5, 'GB ingested', CLOUDWATCH),
  logsStoredGbMonth: p(0.03, 'GB-month stored', CLOUDWATCH),
  lambdaGbSecondArm: p(0.0000133334, 'GB-second (arm64)', 'https://aws.amazon.com/lambda/pricing/'),
  lambdaRequest: p(0.2 / 1_000_000, 'request', 'https://aws.amazon.com/lambda/pricing/'),
  sfnTransition: p(0.025 / 1000, 'state transition', 'https://aws.amazon.com/step-functions/pricing/'),
  dynamoReadRequest: p(0.125 / 1_000_000, 'read request unit', 'https://aws.amazon.com/dynamodb/pricing/on-demand/'),
  dynamoWriteRequest: p(0.625 / 1_000_000, 'write request unit', 'https://aws.amazon.com/dynamodb/pricing/on-demand/'),
  secretMonth: p(0.4, 'secret-month', 'https://aws.amazon.com/secrets-manager/pricing/'),
  secretsRequest: p(0.05 / 10_000, 'API call', 'https://aws.amazon.com/secrets-manager/pricing/'),
  httpApiRequest: p(1 / 1_000_000, 'request', 'https://aws.amazon.com/api-gateway/pricing/'),
} satisfies Record<string, Price>;

export type PriceName = keyof typeof PRICES;

export const HOURS_PER_MONTH = 730;

/**
 * What the twin cannot measure, modelled; each is named *assumption* where the table uses it.
 * Lambda time: the twin answers in microseconds, so a run's billed time is modelled from the
 * requests it makes (one in-region AWS API round trip ≈ 15 ms, one DynamoDB request ≈ 5 ms).
 */
export const MODEL = {
  lambdaBaseMs: 10,
  awsCallMs: 15,
  storeCallMs: 5,
  /** START, END and REPORT lines Lambda writes for every invocation (https://docs.aws.amazon.com/lambda/latest/dg/monitoring-cloudwatchlogs.html). */
  lambdaPlatformLogBytes: 350,
  /**
   * Container Insights (standard) metrics per dimension set reported while tasks run
   * (https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/Container-Insights-metrics-ECS.html):
   * by ClusterName, by ClusterName+ServiceName, by ClusterName+TaskDefinitionFamily. ECS sends
   * metrics only for resources with RUNNING tasks (https://docs.aws.amazon.com/AmazonECS/latest/developerguide/available-metrics.html).
   */
  insightsMetrics: { cluster: 11, service: 15, family: 11 },
  /** Container output of one always-on task, GB a month (the twin's apps print nothing). */
  containerLogGbMonth: 1,
  /** Months since the symmetric key was created (rotation yearly): 0 → no rotation billed yet. */
  kmsKeyAgeMonths: 0,
} as const;
