// Journeys on the AWS twin (test/support/aws-twin): the real API, steps, ECS-event and reconcile
// Lambdas, the real drivers through real SDK clients, the real state machines, against stateful
// ECS, ELBv2, EC2 and Step Functions that behave (and time their changes) as AWS documents.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { issueOwnerToken } from '../functions/api/auth.ts';
import { apiCaller, createEnvChain, type Journey, lambdaContext, startJourney } from './support/aws-twin/journey.ts';

const ENV = '/v1/orgs/acme/projects/shop/apps/web/envs/prod';
const REF = { org: 'acme', project: 'shop', app: 'web', env: 'prod' };
const digest = (c: string) => `123456789012.dkr.ecr.eu-west-1.amazonaws.com/web@sha256:${c.repeat(64)}`;
const MANIFEST = 'app: web\nworkloads:\n  web:\n    command: ./server\n    ports: [8080]\n    count: 2\n';

let j: Journey;
let token: string;

const call = (method: string, path: string, body?: unknown) => apiCaller(j, () => token)(method, path, body);

/** Advances simulated time until the operation ends; fails with its error if it did not succeed. */
async function settled(operationId: string, each?: () => void) {
  await j.twin.clock.advanceUntil(async () => (await j.store.getOperation(REF, operationId))?.status !== 'running' || j.sfn.executions.get(operationId)?.status === 'FAILED', { stepMs: 1000, limitMs: 3_600_000, each }).catch((err) => {
    throw new Error(`${(err as Error).message}: ${JSON.stringify(trace())}`);
  });
  const op = await j.store.getOperation(REF, operationId);
  expect(op?.error ?? null, `operation ${operationId}`).toBeNull();
  expect(op?.status).toBe('succeeded');
  expect(j.ecs.deliveryErrors).toEqual([]);
}

/** What the twin saw, for a failing journey's message. */
const trace = () => ({
  executions: [...j.sfn.executions.values()].map((e) => ({ name: e.name, status: e.status, error: e.error, states: e.states.slice(-6) })),
  tasks: [...j.ecs.tasks.values()].map((t) => `${t.service} ${t.lastStatus}/${t.desiredStatus} ${t.healthStatus}`),
  waits: [...j.sfn.waits.values()].map((w) => w.state),
  calls: j.twin.calls.slice(-12).map((c) => `${c.principal} ${c.action}`),
  deliveryErrors: j.ecs.deliveryErrors.map((e) => e.message),
});

const operationOf = (r: { status: number; body: Record<string, any> }): string => {
  expect(r.status, JSON.stringify(r.body)).toBeLessThan(300);
  return r.body.operationId ?? r.body.operation?.id ?? r.body.receipt?.operationId;
};

beforeAll(async () => {
  j = await startJourney();
  token = (await issueOwnerToken(j.store, 'tester')).token;
}, 30_000);

afterAll(async () => {
  await j?.close();
});

describe('AWS twin journeys', () => {
  it('creates an org, project, app and env through the API Lambda', async () => {
    await createEnvChain(call, REF);
  });

  it('[15.5d] a first deploy in an account without dualStackIPv6 fails as config-missing with the command that enables it, before any task starts', async () => {
    j.ecs.accountSettings.dualStackIPv6 = 'disabled';
    const r = await call('POST', `${ENV}/deploys`, { manifest: MANIFEST, image: digest('0') });
    const id = operationOf(r);
    await j.twin.clock.advanceUntil(async () => (await j.store.getOperation(REF, id))?.status !== 'running', { stepMs: 1000, limitMs: 600_000 });
    const op = await j.store.getOperation(REF, id);
    expect(op?.error).toMatchObject({ category: 'config-missing', code: 'ecs-dual-stack-disabled', step: 'StartNextBatch' });
    expect(op?.error?.next).toContain('aws ecs put-account-setting-default --name dualStackIPv6 --value enabled --region eu-west-1');
    expect(j.ecs.tasks.size).toBe(0);
    j.ecs.accountSettings.dualStackIPv6 = 'enabled';
  });

  it('deploy --image starts two Fargate tasks that become healthy', async () => {
    const r = await call('POST', `${ENV}/deploys`, { manifest: MANIFEST, image: digest('a') });
    await settled(operationOf(r));
    const running = [...j.ecs.tasks.values()].filter((t) => t.lastStatus === 'RUNNING');
    expect(running).toHaveLength(2);
  });
});

describe('AWS twin: endpoints and rollouts behind the NLB', () => {
  const lbName = () => [...j.elb.loadBalancers.values()][0]?.name ?? '';

  it('endpoint create puts an NLB listener in front of both tasks, which become healthy targets', async () => {
    const r = await call('PUT', `${ENV}/endpoints/web`, { workload: 'web', protocol: 'tcp', port: 443, targetPort: 8080 });
    await settled(operationOf(r));
    await j.twin.clock.advanceUntil(() => j.elb.probe(lbName(), 443).ok, { stepMs: 5000, limitMs: 600_000 });
    const group = [...j.elb.targetGroups.values()][0];
    expect([...group.targets.values()].map((t) => t.state)).toEqual(['healthy', 'healthy']);
  });

  it('[15.3] a rolling deploy waits for new targets to be healthy before deregistering old ones, and for draining before stopping them: a client probing the NLB always finds a healthy target', async () => {
    const refused: string[] = [];
    const probe = () => {
      const p = j.elb.probe(lbName(), 443);
      if (!p.ok) refused.push(`${new Date(j.twin.clock.now()).toISOString()} ${p.reason}`);
    };
    const r = await call('POST', `${ENV}/deploys`, { manifest: MANIFEST, image: digest('b') });
    await settled(operationOf(r), probe);
    expect(refused.slice(0, 5)).toEqual([]);
    const live = [...j.ecs.tasks.values()].filter((t) => t.desiredStatus === 'RUNNING');
    expect(live.map((t) => t.taskDefinitionArn)).toEqual([live[0].taskDefinitionArn, live[0].taskDefinitionArn]);
  });
});

describe('AWS twin: the scheduled reconcile', () => {
  it('[15.2] an idle day in simulated time: the cold reconcile Lambda runs every minute for 24 h and starts no operation', async () => {
    const reconcile = await j.lambda('reconcile', 'functions/lambda/reconcile.ts');
    const before = j.sfn.executions.size;
    const started: string[] = [];
    const t0 = performance.now();
    for (let minute = 0; minute < 24 * 60 && !started.length; minute++) {
      const out = await j.twin.clock.run('reconcile', () => reconcile({}, lambdaContext('berth-reconcile')));
      started.push(...out.started);
      await j.twin.clock.advance(60_000);
    }
    const realMs = performance.now() - t0;
    expect(started).toEqual([]);
    expect(j.sfn.executions.size).toBe(before);
    console.log(`idle day: 1440 reconcile passes in ${Math.round(realMs)} ms real; ${j.twin.calls.filter((c) => c.principal === 'reconcile').length} AWS calls`);
  }, 60_000);
});
