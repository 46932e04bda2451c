// `npx cdk synth|deploy` runs this (cdk.json). Props come from CDK context, e.g.
// `npx cdk deploy -c natGateways=1 -c tableEncryption=aws-managed`; infra/README.md lists them.
// cdk-nag's AwsSolutions pack checks every synth: a finding without an acknowledgment fails it.
import { App, Duration, Validations } from 'aws-cdk-lib';
import type { RetentionDays } from 'aws-cdk-lib/aws-logs';
import { AwsSolutionsChecks } from 'cdk-nag';
import { BerthStack, type BerthStackProps } from './berth-stack.ts';

const app = new App();

/** A context value as given on the command line (`-c key=value`, a string) or in cdk.json. */
function context<T>(key: string, parse: (raw: string) => T): T | undefined {
  const raw: unknown = app.node.tryGetContext(key);
  return raw === undefined ? undefined : parse(String(raw));
}

const props: BerthStackProps = {
  description: 'Berth: a deployment platform in your own AWS account (API, state machines, ECS cluster, dual-stack VPC)',
  maxAzs: context('maxAzs', Number),
  natGateways: context('natGateways', Number),
  tableEncryption: context('tableEncryption', (v) => v as BerthStackProps['tableEncryption']),
  logRetention: context('logRetentionDays', (v) => Number(v) as RetentionDays),
  reconcileInterval: context('reconcileIntervalMinutes', (v) => Duration.minutes(Number(v))),
};

new BerthStack(app, context('stackName', String) ?? 'Berth', props);
Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
