// More journeys on the AWS twin (test/support/aws-twin): scale behind the NLB, drift injected by hand
// and corrected once by the reconcile Lambda, and env destroy leaving nothing that keeps the VPC.
// Each journey runs the real API, steps, ECS-event and reconcile Lambdas over the twin's clock.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { issueOwnerToken } from '../functions/api/auth.ts';
import { apiCaller, createEnvChain, type Journey, lambdaContext, startJourney, TWIN_ENV } from './support/aws-twin/journey.ts';
import { judgeEnvDestroy, type Resource } from './support/stack-destroy-check.ts';

const ENV = '/v1/orgs/acme/projects/shop/apps/web/envs/prod';
const REF = { org: 'acme', project: 'shop', app: 'web', env: 'prod' };
const IMAGE = `123456789012.dkr.ecr.eu-west-1.amazonaws.com/web@sha256:${'a'.repeat(64)}`;
const MANIFEST = 'app: web\nworkloads:\n  web:\n    command: ./server\n    ports: [8080]\n    count: 2\n';

let j: Journey;
let token: string;

const call = (method: string, path: string, body?: unknown) => apiCaller(j, () => token)(method, path, body);

const operationOf = (r: { status: number; body: Record<string, any> }): string => {
  expect(r.status, JSON.stringify(r.body)).toBeLessThan(300);
  return r.body.operationId ?? r.body.operation?.id ?? r.body.receipt?.operationId;
};

/** What the twin saw, for a failing journey's message. */
const trace = () => ({
  executions: [...j.sfn.executions.values()].map((e) => ({ name: e.name, status: e.status, error: e.error, states: e.states.slice(-6) })),
  tasks: [...j.ecs.tasks.values()].map((t) => `${t.service} ${t.lastStatus}/${t.desiredStatus} ${t.healthStatus}`),
  calls: j.twin.calls.slice(-12).map((c) => `${c.principal} ${c.action}`),
  deliveryErrors: j.ecs.deliveryErrors.map((e) => e.message),
});

/** Advances simulated time until the operation ends; fails with its error if it did not succeed. */
async function settled(operationId: string, each?: () => void) {
  await j.twin.clock.advanceUntil(async () => (await j.store.getOperation(REF, operationId))?.status !== 'running' || j.sfn.executions.get(operationId)?.status === 'FAILED', { stepMs: 1000, limitMs: 3_600_000, each }).catch((err) => {
    throw new Error(`${(err as Error).message}: ${JSON.stringify(trace())}`);
  });
  const op = await j.store.getOperation(REF, operationId);
  expect(op?.error ?? null, `operation ${operationId}: ${JSON.stringify(trace())}`).toBeNull();
  expect(op?.status).toBe('succeeded');
  expect(j.ecs.deliveryErrors).toEqual([]);
}

const lbName = () => [...j.elb.loadBalancers.values()][0]?.name ?? '';
const targetStates = () => [...([...j.elb.targetGroups.values()][0]?.targets.values() ?? [])].map((t) => t.state).sort();
const webService = () => [...j.ecs.services.values()].find((s) => s.status === 'ACTIVE');
const liveTasks = () => [...j.ecs.tasks.values()].filter((t) => t.desiredStatus === 'RUNNING');

beforeAll(async () => {
  j = await startJourney();
  token = (await issueOwnerToken(j.store, 'tester')).token;
  await createEnvChain(call, REF);
  await settled(operationOf(await call('POST', `${ENV}/deploys`, { manifest: MANIFEST, image: IMAGE })));
  await settled(operationOf(await call('PUT', `${ENV}/endpoints/web`, { workload: 'web', protocol: 'tcp', port: 443, targetPort: 8080 })));
  await j.twin.clock.advanceUntil(() => targetStates().join() === 'healthy,healthy', { stepMs: 5000, limitMs: 600_000 });
}, 60_000);

afterAll(async () => {
  await j?.close();
});

describe('AWS twin journeys: scale, drift, destroy', () => {
  it('scale to 3 then to 1: the ECS desired count and the NLB targets follow, and no probe is refused while scaling in', async () => {
    await settled(operationOf(await call('POST', `${ENV}/scale`, { workload: 'web', settings: { count: 3 } })));
    expect(webService()?.desiredCount).toBe(3);
    await j.twin.clock.advanceUntil(() => targetStates().join() === 'healthy,healthy,healthy', { stepMs: 5000, limitMs: 900_000 });
    expect(liveTasks()).toHaveLength(3);

    const refused: string[] = [];
    const probe = () => {
      const p = j.elb.probe(lbName(), 443);
      if (!p.ok) refused.push(`${new Date(j.twin.clock.now()).toISOString()} ${p.reason}`);
    };
    await settled(operationOf(await call('POST', `${ENV}/scale`, { workload: 'web', settings: { count: 1 } })), probe);
    expect(webService()?.desiredCount).toBe(1);
    await j.twin.clock.advanceUntil(() => targetStates().join() === 'healthy', { stepMs: 5000, limitMs: 900_000, each: probe });
    expect(refused.slice(0, 5)).toEqual([]);
    expect(liveTasks()).toHaveLength(1);
  }, 60_000);

  it('a task stopped by hand (aws ecs stop-task) is drift: one reconcile pass starts exactly one reconcile operation, which converges; the next pass starts none', async () => {
    await settled(operationOf(await call('POST', `${ENV}/scale`, { workload: 'web', settings: { count: 2 } })));
    await j.twin.clock.advanceUntil(() => targetStates().join() === 'healthy,healthy', { stepMs: 5000, limitMs: 900_000 });
    const victim = liveTasks()[0];
    // An operator's own call, outside Berth: as `aws ecs stop-task --task …` would make it.
    await j.twin.call('ecs', 'StopTask', { cluster: 'berth', task: victim.taskArn, reason: 'stopped by hand' }, 'operator');
    await j.twin.clock.advance(60_000);

    const reconcile = await j.lambda('reconcile', 'functions/lambda/reconcile.ts');
    const first = await j.twin.clock.run('reconcile', () => reconcile({}, lambdaContext('berth-reconcile')));
    expect(first.started, JSON.stringify(trace())).toHaveLength(1);
    const op = await j.store.getOperation(REF, first.started[0]);
    expect(op?.kind).toBe('reconcile');
    await settled(first.started[0]);
    await j.twin.clock.advanceUntil(() => targetStates().join() === 'healthy,healthy', { stepMs: 5000, limitMs: 900_000 });
    expect(liveTasks().map((t) => t.taskArn)).not.toContain(victim.taskArn);

    await j.twin.clock.advance(60_000);
    const second = await j.twin.clock.run('reconcile', () => reconcile({}, lambdaContext('berth-reconcile')));
    expect(second.started, JSON.stringify(trace())).toEqual([]);
  }, 60_000);

  it('[15.4] env destroy leaves no running service, NLB, listener, target group, endpoint security group, secret bundle or task-group rule that references a deleted group: the stack-destroy check finds no leftover', async () => {
    // A release that uses a secret bundle, so the env has a Secrets Manager secret for destroy to delete.
    expect((await call('PUT', `${ENV}/secrets/db`, { values: { TOKEN: 'twin' } })).status).toBeLessThan(300);
    await settled(operationOf(await call('POST', `${ENV}/deploys`, { manifest: `${MANIFEST}    requires:\n      secrets: [db]\n`, image: IMAGE })));
    expect([...j.secrets.secrets.keys()]).toEqual(['berth/acme/shop/web/prod/db']);

    const r = await call('DELETE', ENV);
    await settled(operationOf(r));
    // Tasks finish stopping and deleted services go INACTIVE on ECS's own clock, after the operation.
    await j.twin.clock.advance(120_000);

    expect([...j.ecs.services.values()].filter((s) => s.status !== 'INACTIVE' && s.desiredCount > 0).map((s) => s.serviceName)).toEqual([]);
    expect([...j.elb.loadBalancers.values()].map((l) => l.name)).toEqual([]);
    expect([...j.elb.targetGroups.values()].map((g) => g.name)).toEqual([]);
    const taskGroup = TWIN_ENV.TASK_SECURITY_GROUP_ID;
    expect([...j.ec2.groups.keys()]).toEqual([taskGroup]);
    const dangling = [...j.ec2.rules.values()].filter((rule) => rule.ReferencedGroupInfo && !j.ec2.groups.has(rule.ReferencedGroupInfo.GroupId));
    expect(dangling).toEqual([]);

    const verdict = judgeEnvDestroy(inventory(), { purgeVolumes: false });
    expect(verdict.leftovers).toEqual([]);
    expect(verdict.blockingVpc).toEqual([]);
  }, 60_000);
});

/** Every resource of the (only) env the twin still holds, in the stack-destroy check's terms. */
function inventory(): Resource[] {
  const taskGroup = TWIN_ENV.TASK_SECURITY_GROUP_ID;
  return [
    ...[...j.ecs.services.values()].filter((s) => s.status !== 'INACTIVE').map((s) => ({ kind: 'ecs-service' as const, id: s.serviceArn })),
    ...[...j.ecs.tasks.values()].filter((t) => t.lastStatus !== 'STOPPED').map((t) => ({ kind: 'ecs-task' as const, id: t.taskArn })),
    ...[...j.elb.loadBalancers.values()].map((l) => ({ kind: 'load-balancer' as const, id: l.arn })),
    ...[...j.elb.listeners.values()].map((l) => ({ kind: 'listener' as const, id: l.arn })),
    ...[...j.elb.targetGroups.values()].map((g) => ({ kind: 'target-group' as const, id: g.arn })),
    ...[...j.ec2.groups.keys()].filter((id) => id !== taskGroup).map((id) => ({ kind: 'security-group' as const, id })),
    ...[...j.ec2.rules.values()].filter((r) => r.GroupId === taskGroup && r.ReferencedGroupInfo).map((r) => ({ kind: 'task-security-group-rule' as const, id: r.SecurityGroupRuleId })),
    ...[...j.secrets.secrets.values()].map((s) => ({ kind: 'secret' as const, id: s.ARN })),
  ];
}
