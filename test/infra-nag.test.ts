// cdk-nag's AwsSolutions pack over the whole stack: no finding without an acknowledgment, every
// acknowledgment on the resource it excuses (never on the stack), with a reason a security reviewer
// can check, and none left over once the finding it excused is gone.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { App, Stack, Validations, type PolicyViolation } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';
import type { IConstruct } from 'constructs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BerthStack, type BerthStackProps } from '../infra/berth-stack.ts';

interface Acknowledgment {
  path: string;
  id: string;
  reason: string;
}

/**
 * Every cdk-nag acknowledgment recorded in the construct tree, with the path of the construct it
 * sits on. (aws-cdk-lib records its own too, e.g. CloudFormation-Validate::W3010 on a stack that
 * reads its availability zones; those are not the stack's to explain.)
 */
function acknowledgments(root: IConstruct): Acknowledgment[] {
  return root.node
    .findAll()
    .flatMap((c) =>
      c.node.metadata
        .filter((m) => m.type === Validations.ACKNOWLEDGED_RULES_METADATA_KEY)
        .flatMap((m) => Object.entries(m.data as Record<string, string>).map(([id, reason]) => ({ path: c.node.path, id: id.replace(/^annotation::/i, ''), reason }))),
    )
    .filter((ack) => ack.id.startsWith('AwsSolutions-'));
}

/** What the pack reports when no acknowledgment counts: every finding, with the paths it is on. */
function rawFindings(app: App): PolicyViolation[] {
  const pack = new AwsSolutionsChecks(app);
  (pack as unknown as { isAcknowledged: () => boolean }).isAcknowledged = () => false;
  return pack.validateScope(app).violations;
}

const summary = (violations: PolicyViolation[]) => violations.map((v) => `${v.severity} ${v.ruleName}: ${v.violatingResources.map((r) => r.constructPath).join(', ')}`);

describe.each<[string, BerthStackProps]>([
  ['default props', {}],
  ['natGateways: 1 and an AWS-managed table key', { natGateways: 1, tableEncryption: 'aws-managed' }],
])('GIVEN the stack with %s', (_name, props) => {
  let app: App;
  let stack: Stack;
  let outdir: string;
  beforeAll(() => {
    outdir = mkdtempSync(join(tmpdir(), 'berth-nag-'));
    // Bundling is skipped: nag reads the templates, not the Lambda code.
    app = new App({ outdir, context: { 'aws:cdk:bundling-stacks': [] } });
    stack = new BerthStack(app, 'Berth', props);
  }, 60_000);
  afterAll(() => rmSync(outdir, { recursive: true, force: true }));

  it('WHEN AwsSolutions checks run THEN there is no unacknowledged error or warning', () => {
    const report = new AwsSolutionsChecks(app).validateScope(app);
    expect(summary(report.violations)).toEqual([]);
    expect(report.success).toBe(true);
  });

  it('WHEN the app synthesizes with the pack registered (as infra/app.ts does) THEN policy validation passes', () => {
    Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
    expect(() => app.synth()).not.toThrow();
  }, 60_000);

  it('WHEN acknowledgments are listed THEN each sits on a resource, not on the stack or the app, and explains itself', () => {
    const acks = acknowledgments(app);
    expect(acks.length).toBeGreaterThan(0);
    for (const ack of acks) {
      expect(ack.path, ack.id).not.toBe(stack.node.path);
      expect(ack.path, ack.id).not.toBe('');
      expect(ack.id).toMatch(/^AwsSolutions-[A-Z]+\d+(\[.+\])?$/);
      // A reason says what is wide and why it has to be: a sentence, not "not needed".
      expect(ack.reason.length, `${ack.path} ${ack.id}`).toBeGreaterThanOrEqual(60);
    }
  });

  it('WHEN acknowledgments are compared with the raw findings THEN none is stale: each excuses a finding on or under its construct', () => {
    const findings = rawFindings(app);
    for (const ack of acknowledgments(app)) {
      const excused = findings.some((f) => f.ruleName === ack.id && f.violatingResources.some((r) => r.constructPath === ack.path || r.constructPath?.startsWith(`${ack.path}/`)));
      expect(excused, `${ack.path}: ${ack.id}`).toBe(true);
    }
  });

  it('WHEN acknowledgments are listed THEN no AWS managed policy is excused (IAM4): grants are written out instead', () => {
    expect(acknowledgments(app).filter((a) => a.id.startsWith('AwsSolutions-IAM4'))).toEqual([]);
    expect(rawFindings(app).filter((f) => f.ruleName.startsWith('AwsSolutions-IAM4'))).toEqual([]);
  });
});
