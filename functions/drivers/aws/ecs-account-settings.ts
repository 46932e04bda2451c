// Preflight for the ECS account setting that gives Fargate tasks their IPv6 address. Without
// `dualStackIPv6` a task in a dual-stack subnet gets IPv4 only, and the endpoints' target groups are
// IPv6 (target-family.ts): the task could never be a target. The setting is per account and
// Region; the effective value is the principal's own or else the account default.
// https://docs.aws.amazon.com/AmazonECS/latest/developerguide/ecs-account-settings.html#dual-stack-setting
// https://docs.aws.amazon.com/AmazonECS/latest/developerguide/account-setting-management-cli.html
import { ListAccountSettingsCommand, type ECSClient, type SettingName } from '@aws-sdk/client-ecs';
import { ConfigMissingError } from '../../core/errors.ts';
import { isAwsError } from './aws-errors.ts';

export const DUAL_STACK_FIX = 'aws ecs put-account-setting-default --name dualStackIPv6 --value enabled';

/** Once seen enabled it stays enabled for this container: checked once, not on every start. */
const enabledFor = new WeakSet<ECSClient>();

export async function assertDualStackIpv6(ecs: ECSClient, region: string): Promise<void> {
  if (enabledFor.has(ecs)) return;
  let value: string | undefined;
  try {
    // The SDK's SettingName enum (the filter's type) lacks dualStackIPv6, which the API documents
    // and accepts (the put-account-setting-default command above names it).
    const out = await ecs.send(new ListAccountSettingsCommand({ name: 'dualStackIPv6' as SettingName, effectiveSettings: true }));
    value = out.settings?.[0]?.value;
  } catch (err) {
    // A role without ecs:ListAccountSettings cannot look: the check is a preflight for a clearer
    // error, not a gate, so it stands aside (the target registration still refuses an IPv4 task).
    if (isAwsError(err, 'AccessDeniedException')) return;
    throw err;
  }
  if (value !== 'enabled') {
    throw new ConfigMissingError('ecs-dual-stack-disabled', `the ECS account setting dualStackIPv6 is ${value ?? 'not set'} in ${region}, so Fargate tasks get no IPv6 address and cannot be endpoint targets; enable it once for the account: ${DUAL_STACK_FIX} --region ${region}`, {
      details: { setting: 'dualStackIPv6', value: value ?? null, region },
      next: [`${DUAL_STACK_FIX} --region ${region}`],
    });
  }
  enabledFor.add(ecs);
}
