// The stack's knobs: every one documented with its default, the default applied once (in
// `resolveBerthProps`), and a value that cannot deploy refused at synth with the value and the fix.
import { Duration, type StackProps } from 'aws-cdk-lib';
import { RetentionDays } from 'aws-cdk-lib/aws-logs';

export interface BerthStackProps extends StackProps {
  /**
   * Availability zones to spread subnets (and so tasks, NLBs and EFS mount targets) over.
   *
   * At most 2: the stack is environment-agnostic (it synthesizes offline, with no account lookups),
   * and CloudFormation's `Fn::GetAZs` is only guaranteed two zones in every region.
   *
   * @default 2
   */
  readonly maxAzs?: number;

  /**
   * NAT gateways giving tasks IPv4 egress without public addresses.
   *
   * - `0`: no NAT gateway. Tasks run in the public dual-stack subnets, egress over IPv6 where the
   *   destination has it, and get a public IPv4 address each for what is IPv4-only (see
   *   infra/README.md, "What needs IPv4"). Cheapest for a few tasks.
   * - `1` up to `maxAzs`: tasks move to private dual-stack subnets (IPv6 egress through the
   *   egress-only internet gateway, IPv4 through the NAT gateways) and get no public address.
   *   One gateway is cheaper; one per zone survives a zone outage.
   *
   * @default 0
   */
  readonly natGateways?: number;

  /**
   * Who owns the KMS key that encrypts the DynamoDB table at rest.
   *
   * - `'customer-managed'`: the stack's own key (rotated yearly, usage in CloudTrail, revocable).
   * - `'aws-managed'`: DynamoDB's `aws/dynamodb` key (no key policy to manage, no KMS request cost).
   *
   * Secret bundles, Secrets Manager secrets and EFS volumes always use the stack's key: KMS
   * `Encrypt`/`GenerateMac` need a key the stack owns.
   *
   * @default 'customer-managed'
   */
  readonly tableEncryption?: 'customer-managed' | 'aws-managed';

  /**
   * How long CloudWatch keeps the logs the platform writes (Lambdas, state machines, API access
   * log, VPC flow log) and the container logs of every env (`LOG_RETENTION_DAYS`).
   *
   * @default RetentionDays.ONE_MONTH
   */
  readonly logRetention?: RetentionDays;

  /**
   * How often the reconcile Lambda compares every env's desired state with what runs, and starts an
   * operation where they differ. EventBridge schedules in whole minutes, at least one.
   *
   * @default Duration.minutes(1)
   */
  readonly reconcileInterval?: Duration;
}

/** The props with every default applied: read these, never `props.x` again. */
export type ResolvedBerthProps = Required<Omit<BerthStackProps, keyof StackProps>>;

export function resolveBerthProps(props: BerthStackProps): ResolvedBerthProps {
  const resolved: ResolvedBerthProps = {
    maxAzs: props.maxAzs ?? 2,
    natGateways: props.natGateways ?? 0,
    tableEncryption: props.tableEncryption ?? 'customer-managed',
    logRetention: props.logRetention ?? RetentionDays.ONE_MONTH,
    reconcileInterval: props.reconcileInterval ?? Duration.minutes(1),
  };
  validate(resolved);
  return resolved;
}

function validate({ maxAzs, natGateways, tableEncryption, logRetention, reconcileInterval }: ResolvedBerthProps): void {
  if (!Number.isInteger(maxAzs) || maxAzs < 1 || maxAzs > 2) {
    fail(`maxAzs must be 1 or 2; got ${maxAzs}. Fix: pass maxAzs: 2 (the default) — an environment-agnostic stack can only count on two zones.`);
  }
  if (!Number.isInteger(natGateways) || natGateways < 0 || natGateways > maxAzs) {
    fail(
      `natGateways must be a whole number from 0 to maxAzs (${maxAzs}); got ${natGateways}. ` +
        'Fix: pass natGateways: 0 (tasks use IPv6 plus a public IPv4 each), 1 (one shared NAT gateway), ' +
        `or ${maxAzs} (one per availability zone).`,
    );
  }
  if (tableEncryption !== 'customer-managed' && tableEncryption !== 'aws-managed') {
    fail(`tableEncryption must be 'customer-managed' or 'aws-managed'; got ${JSON.stringify(tableEncryption)}. Fix: pass one of the two, or leave it out for 'customer-managed'.`);
  }
  // Container log groups get their retention from the drivers (PutRetentionPolicy), which takes days, not "never expire".
  if (!Object.values(RetentionDays).includes(logRetention) || logRetention === RetentionDays.INFINITE) {
    fail(`logRetention must be a finite CloudWatch Logs retention (RetentionDays, 1 to 3653 days); got ${JSON.stringify(logRetention)}. Fix: pass e.g. RetentionDays.ONE_MONTH, or RetentionDays.TEN_YEARS to keep logs longest.`);
  }
  const minutes = reconcileInterval.toMinutes({ integral: false });
  if (!Number.isInteger(minutes) || minutes < 1) {
    fail(`reconcileInterval must be a whole number of minutes, at least 1; got ${reconcileInterval.toHumanString()}. Fix: pass e.g. Duration.minutes(1) — EventBridge schedules run at most once a minute.`);
  }
  // Each pass heartbeats the rollouts waiting for health (functions/lambda/reconcile.ts); a slower
  // schedule than the wait's HeartbeatSeconds (300 s, statemachines/*.asl.json) would time them out.
  if (minutes > MAX_RECONCILE_MINUTES) {
    fail(`reconcileInterval must be at most ${MAX_RECONCILE_MINUTES} minutes; got ${reconcileInterval.toHumanString()}. Fix: pass e.g. Duration.minutes(1) — each pass heartbeats the rollouts waiting for health, whose heartbeat timeout is 300 s.`);
  }
}

/** Below WaitForBatchHealthy's HeartbeatSeconds (300 s), with a minute to spare for a slow pass. */
const MAX_RECONCILE_MINUTES = 4;

function fail(message: string): never {
  throw new BerthPropsError(message);
}

/** A stack prop that cannot deploy; the message names the prop, the value received and the fix. */
export class BerthPropsError extends Error {
  override readonly name = 'BerthPropsError';
}
