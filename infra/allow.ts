// One IAM statement with the reason it is as wide as it is. cdk-nag (AwsSolutions-IAM5) reports
// every wildcard in a resource or an action as its own finding; `allow` acknowledges exactly the
// findings of the statement it adds, with the statement's reason, so a new wildcard added without a
// reason still fails `test/infra-nag.test.ts`.
import { Stack, Validations } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import type { IConstruct } from 'constructs';
// The same flattening cdk-nag applies to a resource before it names the finding.
import { flattenCfnReference } from 'cdk-nag/lib/utils/flatten-cfn-reference.js';

export interface Allowance {
  /** Statement id, unique in the role's policy: says what the statement is for. */
  readonly sid: string;
  readonly actions: string[];
  readonly resources: string[];
  readonly conditions?: Record<string, Record<string, unknown>>;
  /** Why the resources (or actions) need a wildcard; required when they have one. */
  readonly why?: string;
}

export function allow(role: iam.IRole & IConstruct, allowance: Allowance): void {
  const { sid, actions, resources, conditions, why } = allowance;
  role.addToPrincipalPolicy(new iam.PolicyStatement({ sid, actions, resources, ...(conditions ? { conditions } : {}) }));
  const findings = wildcardFindings(Stack.of(role), actions, resources);
  if (!findings.length) return;
  if (!why) throw new Error(`IAM statement ${sid} has wildcards (${findings.join(', ')}) but no reason; give it a \`why\` that a security reviewer would accept.`);
  acknowledgeWildcards(role, findings, why);
}

/** Acknowledges AwsSolutions-IAM5 findings on `scope` (a role, or a construct above its policy). */
export function acknowledgeWildcards(scope: IConstruct, findings: string[], reason: string): void {
  for (const finding of findings) Validations.of(scope).acknowledge({ id: `AwsSolutions-IAM5[${finding}]`, reason });
}

/** The IAM5 finding ids cdk-nag reports for these actions and resources. */
export function wildcardFindings(stack: Stack, actions: string[], resources: string[]): string[] {
  const flat = resources.map((r) => flattenCfnReference(stack.resolve(r)));
  return [...actions.filter((a) => a.includes('*')).map((a) => `Action::${a}`), ...flat.filter((r) => r.includes('*')).map((r) => `Resource::${r}`)];
}
