// The twin's counts (cost.ts) priced for a 730-hour month (prices.ts), and the markdown table
// infra/README.md shows, rendered from docs/aws-cost.json so the two cannot drift
// (test/aws-cost-table.test.ts checks it; `npm run cost:twin` regenerates both).
import type { CostCounts } from './cost.ts';
import { HOURS_PER_MONTH, MODEL, PRICES, type PriceName } from './prices.ts';

export interface CostRow {
  item: string;
  /** Monthly quantity and price, in words; `*assumption*` marks what the twin cannot measure. */
  basis: string;
  usd: number;
  pages: string[];
}

const GB = 1024 ** 3;
const round2 = (n: number) => Math.round(n * 100) / 100;
const fmt = (n: number, digits = 0) => n.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: 0 });
const price = (name: PriceName) => PRICES[name];
const money = (name: PriceName) => `$${PRICES[name].usd < 0.001 ? PRICES[name].usd.toExponential(2) : PRICES[name].usd} per ${PRICES[name].unit}`;

/** Monthly rows for one measured scenario; `scale` turns the measured hours into a month. */
export function monthlyRows(c: CostCounts): CostRow[] {
  const scale = HOURS_PER_MONTH / c.hours;
  const rows: CostRow[] = [];
  const row = (item: string, basis: string, usd: number, names: PriceName[]) => rows.push({ item, basis, usd: round2(usd), pages: [...new Set(names.map((n) => price(n).page))] });
  const perMonth = (hours: number) => hours * scale;

  row('KMS keys', `${c.stack.kmsKeys} customer-managed keys × ${money('kmsKeyMonth')}`, c.stack.kmsKeys * price('kmsKeyMonth').usd, ['kmsKeyMonth']);
  row(
    'KMS key rotation',
    `${c.stack.rotatedKeys} key rotated yearly: +$1 a month after the first rotation, +$2 from the second on (the cap); shown from year 3`,
    c.stack.rotatedKeys * 2 * price('kmsRotationMonth').usd,
    ['kmsRotationMonth'],
  );
  const kms = perMonth(c.apiCalls.kms ?? 0);
  row('KMS requests', `${fmt(kms)} requests × ${money('kmsRequest')}`, kms * price('kmsRequest').usd, ['kmsRequest']);

  const lambdaParts: string[] = [];
  let gbSeconds = 0;
  let requests = 0;
  for (const [role, l] of Object.entries(c.lambda).sort()) {
    const ms = l.invocations * MODEL.lambdaBaseMs + l.awsCalls * MODEL.awsCallMs + l.storeCalls * MODEL.storeCallMs;
    const gbs = perMonth((ms / 1000) * ((c.stack.lambdaMemoryMb[role] ?? 128) / 1024));
    gbSeconds += gbs;
    requests += perMonth(l.invocations);
    lambdaParts.push(`\`${role}\` ${fmt(perMonth(l.invocations))} runs, ${fmt(gbs)} GB-s`);
  }
  row(
    'Lambda',
    `${lambdaParts.join('; ') || 'no runs'} × ${money('lambdaGbSecondArm')} + ${money('lambdaRequest')} (*assumption*: a run's time from its requests, ${MODEL.awsCallMs} ms an AWS call, ${MODEL.storeCallMs} ms a DynamoDB request)`,
    gbSeconds * price('lambdaGbSecondArm').usd + requests * price('lambdaRequest').usd,
    ['lambdaGbSecondArm'],
  );

  const reads = perMonth(c.store.reads);
  const writes = perMonth(c.store.writes);
  row('DynamoDB on-demand', `${fmt(reads)} reads × ${money('dynamoReadRequest')} + ${fmt(writes)} writes × ${money('dynamoWriteRequest')} (one unit a request: items under 1 KB)`, reads * price('dynamoReadRequest').usd + writes * price('dynamoWriteRequest').usd, ['dynamoReadRequest']);

  const transitions = perMonth(c.transitions);
  row('Step Functions', `${fmt(transitions)} state transitions (${c.executions} executions measured) × ${money('sfnTransition')}`, transitions * price('sfnTransition').usd, ['sfnTransition']);

  const invocations = Object.values(c.lambda).reduce((n, l) => n + l.invocations, 0);
  const logGb = perMonth(c.logBytes + invocations * MODEL.lambdaPlatformLogBytes) / GB;
  row('CloudWatch Logs (platform)', `${fmt(logGb, 3)} GB a month: Berth's system lines and ${MODEL.lambdaPlatformLogBytes} bytes of START/END/REPORT a Lambda run × ${money('logsIngestedGb')}`, logGb * price('logsIngestedGb').usd, ['logsIngestedGb']);

  row(
    'NAT gateway and its Elastic IP',
    c.stack.natGateways
      ? `${c.stack.natGateways} × (${money('natGatewayHour')} + ${money('publicIpv4Hour')}) + ${money('natGatewayGb')}`
      : `none (\`natGateways: 0\`, the default); each gateway would add ${HOURS_PER_MONTH} h × (${money('natGatewayHour')} + ${money('publicIpv4Hour')} for its Elastic IP) = $${fmt(HOURS_PER_MONTH * (price('natGatewayHour').usd + price('publicIpv4Hour').usd), 2)} + ${money('natGatewayGb')}`,
    c.stack.natGateways * HOURS_PER_MONTH * (price('natGatewayHour').usd + price('publicIpv4Hour').usd),
    ['natGatewayHour'],
  );

  const h = c.resourceHours;
  row('NLB', `${fmt(perMonth(h.nlb))} NLB-hours × ${money('nlbHour')}`, perMonth(h.nlb) * price('nlbHour').usd, ['nlbHour']);
  row('NLB capacity', `${fmt(perMonth(h.nlb))} hours × 1 NLCU × ${money('nlcuHour')} (*assumption*: light traffic stays within one NLCU)`, perMonth(h.nlb) * price('nlcuHour').usd, ['nlcuHour']);
  row('NLB public IPv4, one per zone', `${fmt(perMonth(h.nlbPublicIpv4))} address-hours × ${money('publicIpv4Hour')}`, perMonth(h.nlbPublicIpv4) * price('publicIpv4Hour').usd, ['publicIpv4Hour']);
  row(
    'Fargate',
    `${fmt(perMonth(h.fargateVcpu), 1)} vCPU-hours × ${money('fargateVcpuHour')} + ${fmt(perMonth(h.fargateGb), 1)} GB-hours × ${money('fargateGbHour')}`,
    perMonth(h.fargateVcpu) * price('fargateVcpuHour').usd + perMonth(h.fargateGb) * price('fargateGbHour').usd,
    ['fargateVcpuHour'],
  );
  row('Task public IPv4', `${fmt(perMonth(h.taskPublicIpv4))} address-hours × ${money('publicIpv4Hour')} (none with \`natGateways ≥ 1\`)`, perMonth(h.taskPublicIpv4) * price('publicIpv4Hour').usd, ['publicIpv4Hour']);
  const metricMonths = perMonth(h.insightsMetrics) / HOURS_PER_MONTH;
  row(
    'Container Insights',
    `${fmt(metricMonths, 1)} metric-months (*assumption*: ${MODEL.insightsMetrics.cluster} cluster, ${MODEL.insightsMetrics.service} a service, ${MODEL.insightsMetrics.family} a task family, while tasks run) × ${money('metricMonth')}`,
    metricMonths * price('metricMonth').usd,
    ['metricMonth'],
  );
  const containerLogGb = h.fargateVcpu > 0 ? MODEL.containerLogGbMonth : 0;
  row('Container logs', `${containerLogGb} GB × (${money('logsIngestedGb')} + ${money('logsStoredGbMonth')}) (*assumption*: what the app prints)`, containerLogGb * (price('logsIngestedGb').usd + price('logsStoredGbMonth').usd), ['logsIngestedGb']);
  const secretMonths = perMonth(h.secrets) / HOURS_PER_MONTH;
  const secretCalls = perMonth(c.apiCalls.secretsmanager ?? 0);
  row('Secrets Manager', `${fmt(secretMonths, 1)} secret-months × ${money('secretMonth')} + ${fmt(secretCalls)} calls × ${money('secretsRequest')}`, secretMonths * price('secretMonth').usd + secretCalls * price('secretsRequest').usd, ['secretMonth']);
  const efsGbMonths = perMonth(h.efsGb) / HOURS_PER_MONTH;
  row('EFS volumes', `${fmt(efsGbMonths, 1)} GB-months × ${money('efsStandardGbMonth')}`, efsGbMonths * price('efsStandardGbMonth').usd, ['efsStandardGbMonth']);
  return rows;
}

export interface CostReport {
  /** What produced it: `npm run cost:twin` (test/aws-twin-cost.test.ts with BERTH_COST_WRITE=1). */
  generatedBy: string;
  /** What creating the env cost once (the deploy and endpoint-create executions), not in the month. */
  setup: { executions: number; transitions: number };
  scenarios: Record<'idle' | 'env', { title: string; counts: CostCounts; rows: CostRow[]; totalUsd: number }>;
}

export const total = (rows: CostRow[]): number => round2(rows.reduce((n, r) => n + r.usd, 0));

export const TABLE_START = '<!-- cost-table: generated from docs/aws-cost.json by `npm run cost:twin`; do not edit -->';
export const TABLE_END = '<!-- /cost-table -->';

/** The README table: one row per item, the idle platform and one env with an endpoint side by side. */
export function renderCostTable(report: CostReport): string {
  const { idle, env } = report.scenarios;
  const lines = [
    TABLE_START,
    '',
    '| Item | Basis: a month of one env with an endpoint (idle: without it, where that differs) | $/month idle | $/month with the env | Price page |',
    '| --- | --- | ---: | ---: | --- |',
  ];
  idle.rows.forEach((r, i) => {
    const e = env.rows[i];
    const pages = [...new Set([...r.pages, ...e.pages])].map((u) => `[${new URL(u).pathname.split('/').filter(Boolean)[0]}](${u})`).join(', ');
    const basis = r.usd > 0 && r.basis !== e.basis ? `${e.basis}. Idle: ${r.basis}` : e.basis;
    lines.push(`| ${r.item} | ${basis} | ${r.usd.toFixed(2)} | ${e.usd.toFixed(2)} | ${pages} |`);
  });
  lines.push(
    `| **Total** | | **${idle.totalUsd.toFixed(2)}** | **${env.totalUsd.toFixed(2)}** | |`,
    '',
    `Creating the env (one deploy, one endpoint create) took ${report.setup.transitions} state transitions in ${report.setup.executions} executions: $${(report.setup.transitions * PRICES.sfnTransition.usd).toFixed(4)} once.`,
    TABLE_END,
  );
  return lines.join('\n');
}
