// What Berth costs on AWS, measured on the twin (issue 15): an idle simulated day of the platform
// with no env, then a simulated day of one env with an endpoint, each with the cold reconcile Lambda
// running every minute as the schedule runs it and IAM checked on every call. The counts (cost.ts)
// priced with prices.ts must match docs/aws-cost.json, which infra/README.md's table is rendered
// from; `npm run cost:twin` (BERTH_COST_WRITE=1) rewrites both after a deliberate change.
import { readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { issueOwnerToken } from '../functions/api/auth.ts';
import { CostMeter, stackFacts, type CostCounts } from './support/aws-twin/cost.ts';
import { monthlyRows, renderCostTable, TABLE_END, TABLE_START, total, type CostReport } from './support/aws-twin/cost-rows.ts';
import { iamModelFromTemplate, synthesizeTemplate } from './support/aws-twin/iam.ts';
import { type ApiAnswer, apiCaller, createEnvChain, type Journey, lambdaContext, settledOk, startJourney } from './support/aws-twin/journey.ts';
import { MODEL } from './support/aws-twin/prices.ts';

const file = (p: string) => fileURLToPath(new URL(`../${p}`, import.meta.url));
const REF = { org: 'acme', project: 'shop', app: 'web', env: 'prod' };
const ENV = '/v1/orgs/acme/projects/shop/apps/web/envs/prod';
const IMAGE = `123456789012.dkr.ecr.eu-west-1.amazonaws.com/web@sha256:${'c'.repeat(64)}`;
// The manifest defaults (0.25 vCPU, 0.5 GB), one always-on task, one secret bundle.
const MANIFEST = 'app: web\nworkloads:\n  web:\n    command: ./server\n    ports: [8080]\n    count: 1\n    requires:\n      secrets: [db]\n';
const DAY_MINUTES = 24 * 60;

let j: Journey;
let meter: CostMeter;
let token: string;
const measured: Partial<Record<'idle' | 'env', CostCounts>> = {};
let setup = { executions: 0, transitions: 0 };

const call = (method: string, path: string, body?: unknown) => apiCaller(j, () => token)(method, path, body);

const settled = (r: ApiAnswer, each?: () => void) => settledOk(j, REF, r, each);

/** 24 simulated hours of the schedule: the cold reconcile Lambda once a minute. Returns what it started. */
async function day(): Promise<string[]> {
  const reconcile = await j.lambda('reconcile', 'functions/lambda/reconcile.ts');
  const started: string[] = [];
  const authorize = j.twin.authorize;
  for (let minute = 0; minute < DAY_MINUTES; minute++) {
    // IAM checks the first hour's passes (a full sweep of every env happens once an hour); the other
    // 23 repeat the same calls, and evaluating each again would only cost the suite time.
    if (minute === 60) j.twin.authorize = undefined;
    const out = await j.twin.clock.run('reconcile', () => j.twin.invoke('reconcile', () => reconcile({}, lambdaContext('berth-reconcile'))));
    started.push(...out.started);
    await j.twin.clock.advance(60_000);
  }
  j.twin.authorize = authorize;
  return started;
}

beforeAll(async () => {
  const template = synthesizeTemplate();
  j = await startJourney({ iam: iamModelFromTemplate(template) });
  meter = new CostMeter(j.twin, { ecs: j.ecs, elb: j.elb, sfn: j.sfn, secrets: j.secrets, stack: stackFacts(template as never), insights: MODEL.insightsMetrics });
  token = (await issueOwnerToken(j.store, 'tester')).token;
}, 120_000);

afterAll(async () => {
  await j?.close();
});

describe('cost from the twin', () => {
  it('an idle day of the platform with no env: no operation starts, and the reconcile Lambda makes no AWS call, only its store reads', async () => {
    meter.start();
    const executions = j.sfn.executions.size;
    expect(await day()).toEqual([]);
    measured.idle = meter.stop();
    expect(j.sfn.executions.size).toBe(executions);
    expect(measured.idle.lambda.reconcile.invocations).toBe(DAY_MINUTES);
    expect(measured.idle.apiCalls).toEqual({});
    expect(measured.idle.resourceHours.nlb).toBe(0);
  }, 300_000);

  it('a day of one env with an endpoint: no operation starts; one NLB with an address per zone, one task and its public IPv4 are billed all day', async () => {
    await createEnvChain(call, REF);
    expect((await call('PUT', `${ENV}/secrets/db`, { values: { TOKEN: 'twin' } })).status).toBeLessThan(300);
    await settled(await call('POST', `${ENV}/deploys`, { manifest: MANIFEST, image: IMAGE }));
    await settled(await call('PUT', `${ENV}/endpoints/web`, { workload: 'web', protocol: 'tcp', port: 443, targetPort: 8080 }));
    await j.twin.clock.advanceUntil(() => [...j.elb.targetGroups.values()].some((g) => [...g.targets.values()].some((t) => t.state === 'healthy')), { stepMs: 5000, limitMs: 600_000 });
    // What creating the env cost once: the deploy and endpoint executions' transitions.
    setup = { executions: j.sfn.executions.size, transitions: [...j.sfn.executions.values()].reduce((n, e) => n + e.transitions, 0) };
    expect(setup.transitions).toBeGreaterThan(0);

    meter.start();
    const executions = j.sfn.executions.size;
    expect(await day()).toEqual([]);
    measured.env = meter.stop();
    expect(j.sfn.executions.size).toBe(executions);
    const h = measured.env.resourceHours;
    expect(h.nlb).toBeCloseTo(24, 5);
    expect(h.nlbPublicIpv4).toBeCloseTo(48, 5);
    expect(h.taskPublicIpv4).toBeCloseTo(24, 5);
    expect(h.fargateVcpu).toBeCloseTo(6, 5);
    expect(h.fargateGb).toBeCloseTo(12, 5);
    expect(h.secrets).toBeCloseTo(24, 5);
  }, 300_000);

  it('the priced counts are what docs/aws-cost.json holds (npm run cost:twin rewrites it and the infra/README.md table)', () => {
    expect(measured.idle && measured.env, 'both scenarios ran').toBeTruthy();
    const scenario = (title: string, counts: CostCounts) => {
      const rows = monthlyRows(counts);
      return { title, counts: { ...counts, lambda: roundReal(counts.lambda) }, rows, totalUsd: total(rows) };
    };
    const report: CostReport = {
      generatedBy: 'npm run cost:twin (test/aws-twin-cost.test.ts with BERTH_COST_WRITE=1)',
      setup,
      scenarios: { idle: scenario('the idle platform (no env), one simulated day × 730/24', measured.idle!), env: scenario('one env with an endpoint, one simulated day × 730/24', measured.env!) },
    };
    if (process.env.BERTH_COST_WRITE === '1') {
      writeFileSync(file('docs/aws-cost.json'), `${JSON.stringify(report, null, 2)}\n`);
      const readme = readFileSync(file('infra/README.md'), 'utf8');
      const start = readme.indexOf(TABLE_START);
      const end = readme.indexOf(TABLE_END);
      expect(start, 'infra/README.md has the cost-table markers').toBeGreaterThan(0);
      writeFileSync(file('infra/README.md'), readme.slice(0, start) + renderCostTable(report) + readme.slice(end + TABLE_END.length));
    }
    const saved = JSON.parse(readFileSync(file('docs/aws-cost.json'), 'utf8')) as CostReport;
    const dollars = (r: CostReport) => Object.fromEntries(Object.entries(r.scenarios).map(([k, s]) => [k, s.rows.map((row) => `${row.item}: ${row.usd.toFixed(2)}`)]));
    expect(dollars(report), 'the cost changed: run `npm run cost:twin` and check the diff of docs/aws-cost.json and infra/README.md').toEqual(dollars(saved));
  });
});

/** Real milliseconds depend on this machine; kept whole so the file shows them without noise. */
function roundReal(lambda: CostCounts['lambda']): CostCounts['lambda'] {
  return Object.fromEntries(Object.entries(lambda).map(([k, v]) => [k, { ...v, realMs: Math.round(v.realMs) }]));
}
