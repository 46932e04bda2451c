// infra/README.md's cost table cannot drift from what the twin measured: it must be exactly the
// table rendered from docs/aws-cost.json, and the dollars in that file must be the file's own counts
// priced with today's prices.ts (a changed price fails here until `npm run cost:twin` is run).
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { monthlyRows, renderCostTable, total, type CostReport } from './support/aws-twin/cost-rows.ts';
import { PRICES } from './support/aws-twin/prices.ts';

const file = (p: string) => readFileSync(fileURLToPath(new URL(`../${p}`, import.meta.url)), 'utf8');
const report = JSON.parse(file('docs/aws-cost.json')) as CostReport;

describe('the AWS cost table', () => {
  it('infra/README.md holds exactly the table rendered from docs/aws-cost.json', () => {
    expect(file('infra/README.md')).toContain(renderCostTable(report));
  });

  it('each scenario\'s rows and total are its counts priced with prices.ts', () => {
    for (const scenario of Object.values(report.scenarios)) {
      expect(monthlyRows(scenario.counts)).toEqual(scenario.rows);
      expect(total(scenario.rows)).toBe(scenario.totalUsd);
    }
  });

  it('covers the NAT gateway and its Elastic IP, KMS keys and rotation, Container Insights and per-zone public IPv4, each with its price page', () => {
    const items = report.scenarios.env.rows.map((r) => r.item);
    expect(items).toEqual(expect.arrayContaining(['NAT gateway and its Elastic IP', 'KMS keys', 'KMS key rotation', 'Container Insights', 'NLB public IPv4, one per zone', 'Task public IPv4']));
    for (const row of report.scenarios.env.rows) expect(row.pages.length, row.item).toBeGreaterThan(0);
    for (const [name, price] of Object.entries(PRICES)) expect(price.page, name).toMatch(/^https:\/\/aws\.amazon\.com\/[a-z0-9-]+\/pricing\//);
  });
});
