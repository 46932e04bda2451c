// Env destroy on the AWS twin when an endpoint delete stopped half-way (issue 15 item 4): the
// listener and target group are gone, so no endpoint is left to close, but the env's NLB, its
// security group and the task group's rule admitting it remain. DeleteEnvResources must find and
// delete them by the env's name, or the VPC can never be deleted (cdk destroy fails).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { issueOwnerToken } from '../functions/api/auth.ts';
import { type ApiAnswer, apiCaller, createEnvChain, type Journey, settledOk, startJourney, TWIN_ENV } from './support/aws-twin/journey.ts';

const REF = { org: 'acme', project: 'shop', app: 'web', env: 'prod' };
const ENV = '/v1/orgs/acme/projects/shop/apps/web/envs/prod';
const IMAGE = `123456789012.dkr.ecr.eu-west-1.amazonaws.com/web@sha256:${'d'.repeat(64)}`;
const MANIFEST = 'app: web\nworkloads:\n  web:\n    command: ./server\n    ports: [8080]\n    count: 1\n';

let j: Journey;
let token: string;
const call = (method: string, path: string, body?: unknown) => apiCaller(j, () => token)(method, path, body);

const settled = (r: ApiAnswer, each?: () => void) => settledOk(j, REF, r, each);

beforeAll(async () => {
  j = await startJourney();
  token = (await issueOwnerToken(j.store, 'tester')).token;
  await createEnvChain(call, REF);
  await settled(await call('POST', `${ENV}/deploys`, { manifest: MANIFEST, image: IMAGE }));
  await settled(await call('PUT', `${ENV}/endpoints/web`, { workload: 'web', protocol: 'tcp', port: 443, targetPort: 8080 }));
}, 60_000);

afterAll(async () => {
  await j?.close();
});

describe('[15.4] env destroy deletes what a half-finished endpoint delete left', () => {
  it('[15.4] a load balancer left without listeners or target groups is deleted by env destroy, with its security group and the task-group rule admitting it', async () => {
    // The endpoint delete got as far as the listener and target group (an operator's calls here,
    // as the steps Lambda would have made them before it timed out).
    for (const l of [...j.elb.listeners.values()]) await j.twin.call('elastic-load-balancing-v2', 'DeleteListener', { ListenerArn: l.arn }, 'operator');
    for (const g of [...j.elb.targetGroups.values()]) await j.twin.call('elastic-load-balancing-v2', 'DeleteTargetGroup', { TargetGroupArn: g.arn }, 'operator');
    expect(j.elb.loadBalancers.size).toBe(1);
    const taskGroup = TWIN_ENV.TASK_SECURITY_GROUP_ID;
    expect([...j.ec2.groups.keys()].filter((id) => id !== taskGroup)).toHaveLength(1);

    await settled(await call('DELETE', ENV));

    expect([...j.elb.loadBalancers.values()].map((l) => l.name)).toEqual([]);
    expect([...j.ec2.groups.keys()]).toEqual([taskGroup]);
    expect([...j.ec2.rules.values()].filter((r) => r.GroupId === taskGroup && r.ReferencedGroupInfo)).toEqual([]);
  }, 60_000);
});
