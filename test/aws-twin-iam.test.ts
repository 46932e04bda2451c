// IAM checked by the twin, inside a journey: every call each Lambda makes is evaluated against the
// policies the synthesized stack gives that Lambda's role (test/support/aws-twin/iam.ts), with the
// stack's own environment (cluster, VPC, roles, state machines), so a grant the journey needs and
// the template lacks fails the journey the way AccessDenied would fail a real account's.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { issueOwnerToken } from '../functions/api/auth.ts';
import { synthesizeIamModel, withoutStatement, type IamModel } from './support/aws-twin/iam.ts';
import { apiCaller, createEnvChain, startJourney } from './support/aws-twin/journey.ts';

const REF = { org: 'acme', project: 'shop', app: 'web', env: 'prod' };
const ENV = '/v1/orgs/acme/projects/shop/apps/web/envs/prod';
const MANIFEST = 'app: web\nworkloads:\n  web:\n    command: ./server\n    ports: [8080]\n    count: 2\n';
const image = (c: string) => `123456789012.dkr.ecr.eu-west-1.amazonaws.com/web@sha256:${c.repeat(64)}`;

let model: IamModel;

beforeAll(() => {
  model = synthesizeIamModel();
}, 60_000);

async function journeyWith(iam: IamModel) {
  const j = await startJourney({ iam });
  const { token } = await issueOwnerToken(j.store, 'tester');
  const call = apiCaller(j, () => token);
  await createEnvChain(call, REF);
  /** Runs the operation a mutation started to its end in simulated time; its record. */
  const settle = async (r: { status: number; body: Record<string, any> }) => {
    expect(r.status, JSON.stringify(r.body)).toBeLessThan(300);
    const id: string = r.body.receipt?.operationId ?? r.body.operationId;
    await j.twin.clock.advanceUntil(async () => (await j.store.getOperation(REF, id))?.status !== 'running', { stepMs: 1000, limitMs: 3_600_000 });
    return j.store.getOperation(REF, id);
  };
  return { j, call, settle };
}

describe('IAM checked by the twin, in a journey', () => {
  let journey: Awaited<ReturnType<typeof journeyWith>>;
  afterAll(async () => journey?.j.close());

  it('[15.1] deploy --image and endpoint create succeed with every call allowed for the role that makes it', async () => {
    journey = await journeyWith(model);
    const deployed = await journey.settle(await journey.call('POST', `${ENV}/deploys`, { manifest: MANIFEST, image: image('a') }));
    expect(deployed?.error ?? null).toBeNull();
    const endpoint = await journey.settle(await journey.call('PUT', `${ENV}/endpoints/web`, { workload: 'web', protocol: 'tcp', port: 443, targetPort: 8080 }));
    expect(endpoint?.error ?? null).toBeNull();
    const principals = new Set(journey.j.twin.calls.map((c) => c.principal));
    expect([...principals].sort()).toEqual(['api', 'ecs-events', 'steps']);
    expect(journey.j.twin.callsOf('elasticloadbalancing:CreateLoadBalancer')).toHaveLength(1);
  }, 60_000);
});

describe('IAM checked by the twin: a missing grant fails the journey as AWS would', () => {
  let journey: Awaited<ReturnType<typeof journeyWith>>;
  afterAll(async () => journey?.j.close());

  it('[15.1] without the EC2 lookups ELB checks on the caller, endpoint create fails with permission naming ec2:DescribeAccountAttributes', async () => {
    journey = await journeyWith(withoutStatement(model, 'steps', 'EndpointNetworkLookups'));
    expect((await journey.settle(await journey.call('POST', `${ENV}/deploys`, { manifest: MANIFEST, image: image('a') })))?.status).toBe('succeeded');
    const failed = await journey.settle(await journey.call('PUT', `${ENV}/endpoints/web`, { workload: 'web', protocol: 'tcp', port: 443, targetPort: 8080 }));
    expect(failed?.status).toBe('failed');
    expect(failed?.error?.category).toBe('permission');
    expect(failed?.error?.message).toContain('ec2:DescribeAccountAttributes');
  }, 60_000);
});
