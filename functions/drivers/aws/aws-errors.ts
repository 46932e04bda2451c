// AWS API errors become Berth's error categories here, at the boundary, by their documented error
// codes (the SDK puts the code in `name`). Throttling is rethrown untouched: the SDK already
// retried it and its `$retryable` marker lets the caller (or the state machine's Retry) try again.
// Anything not listed is rethrown as it is, never swallowed.
import { BerthError, CapacityError, InvalidInputError, PermissionError } from '../../core/errors.ts';

const PERMISSION = new Set(['AccessDeniedException', 'AccessDenied', 'UnauthorizedOperation', 'AuthorizationError', 'UnauthorizedException', 'NotAuthorizedException']);
const THROTTLING = new Set(['ThrottlingException', 'Throttling', 'RequestLimitExceeded', 'TooManyRequestsException', 'ProvisionedThroughputExceededException']);
// Account quotas: the fix is a quota increase, not a retry.
const QUOTA = new Set([
  'LimitExceededException',
  'LimitExceeded',
  'ServiceQuotaExceededException',
  'TooManyLoadBalancers',
  'TooManyListeners',
  'TooManyTargetGroups',
  'TooManyTargets',
  'TooManyRegistrationsForTargetId',
  'FileSystemLimitExceeded',
  'AccessPointLimitExceeded',
  'NetworkInterfaceLimitExceeded',
  'SecurityGroupLimitExceeded',
  'RulesPerSecurityGroupLimitExceeded',
]);
// The region or zone is out of something right now: retry later or elsewhere.
const CAPACITY = new Set(['InsufficientThroughputCapacity', 'InsufficientCapacity', 'InsufficientCapacityException', 'NoFreeAddressesInSubnet', 'InsufficientFreeAddressesInSubnet', 'SubnetTooSmall', 'IpAddressInUse']);
// The request was refused as malformed: with Berth's schemas in front, usually a value the user gave (an image name).
const INVALID = new Set(['InvalidParameterException', 'InvalidParameterValue', 'InvalidParameterValueException', 'ValidationException', 'InvalidRequestException']);

/** The AWS error code of an SDK error, if it is one. */
export function awsErrorName(err: unknown): string | undefined {
  return err instanceof Error && typeof (err as { $metadata?: unknown }).$metadata === 'object' ? err.name : undefined;
}

export function isAwsError(err: unknown, ...names: string[]): boolean {
  const name = awsErrorName(err);
  return name !== undefined && names.includes(name);
}

/** Whether the SDK marks the error as worth retrying (throttling, transient 5xx). */
export function isRetryable(err: unknown): boolean {
  return THROTTLING.has(awsErrorName(err) ?? '') || Boolean((err as { $retryable?: unknown } | undefined)?.$retryable);
}

/** Translates an AWS error raised while doing `what` (e.g. `create the load balancer for prod`). */
export function translateAwsError(err: unknown, what: string): never {
  if (err instanceof BerthError) throw err;
  const name = awsErrorName(err);
  if (name === undefined || THROTTLING.has(name)) throw err;
  const message = (err as Error).message;
  const details = { awsError: name, awsMessage: message };
  if (PERMISSION.has(name)) {
    throw new PermissionError('aws-access-denied', `AWS refused to ${what}: ${message}; the Berth stack's roles lack a permission — redeploy the stack (npx cdk deploy) or grant it`, {
      details,
      cause: err,
      next: ['npx cdk deploy'],
    });
  }
  if (QUOTA.has(name)) {
    throw new BerthError('quota', 'aws-quota-exceeded', `could not ${what}: an AWS account quota is reached (${name}: ${message}); request an increase in the Service Quotas console or remove unused resources`, {
      details,
      cause: err,
      next: ['berth endpoints list', 'berth volumes list'],
    });
  }
  if (CAPACITY.has(name)) {
    throw new CapacityError('aws-capacity', `could not ${what}: AWS has no capacity for it right now (${name}: ${message}); retry in a few minutes`, { details, cause: err, next: ['berth status'] });
  }
  if (INVALID.has(name)) {
    throw new InvalidInputError('aws-invalid-request', `AWS refused to ${what} as invalid: ${message}`, { details, cause: err });
  }
  throw err;
}

/** Sends through `call`, translating a failure; `recover` may turn expected errors into a value. */
export async function attempt<T>(what: string, call: () => Promise<T>, recover?: (err: unknown) => T | Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (err) {
    if (recover) {
      try {
        return await recover(err);
      } catch (rethrown) {
        translateAwsError(rethrown, what);
      }
    }
    translateAwsError(err, what);
  }
}
