// First use of Berth on AWS, in the twin, with every call checked by IAM against the synthesized
// stack's policies: first login from the real CLI, `logs -f` through the API Lambda while
// CloudWatch Logs throttles and ingests late, an exec session, and an endpoint with IPv4 and Proxy
// Protocol v2. The CLI runs in process on the twin's clock (support/aws-twin/cli.ts).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { issueOwnerToken } from '../functions/api/auth.ts';
import { APP_CONTAINER, PROBE_CONTAINER } from '../functions/drivers/aws/ecs-task-definition.ts';
import { logGroupName } from '../functions/drivers/aws/tags.ts';
import { TWIN_API_URL, twinCli, type TwinCli } from './support/aws-twin/cli.ts';
import { synthesizeIamModel, type IamModel } from './support/aws-twin/iam.ts';
import { type ApiAnswer, apiCaller, type Journey, settledOk, startJourney, TWIN_ENV } from './support/aws-twin/journey.ts';

const REF = { org: 'acme', project: 'shop', app: 'web', env: 'prod' };
const ENV = '/v1/orgs/acme/projects/shop/apps/web/envs/prod';
const IMAGE = `123456789012.dkr.ecr.eu-west-1.amazonaws.com/web@sha256:${'c'.repeat(64)}`;
const MANIFEST = 'app: web\nworkloads:\n  web:\n    command: ./server\n    ports: [8080]\n    count: 2\n';

let model: IamModel;
let j: Journey;
let owner: string;
let cli: TwinCli;
const call = (method: string, path: string, body?: unknown) => apiCaller(j, () => owner)(method, path, body);

const settled = (r: ApiAnswer, each?: () => void) => settledOk(j, REF, r, each);

/** Runs a CLI command to its end, moving simulated time while it waits on it. */
async function berth(argv: string[]) {
  const run = cli.run(argv);
  let result: Awaited<typeof run.done> | undefined;
  void run.done.then((r) => (result = r));
  await j.twin.clock.advanceUntil(() => result !== undefined, { stepMs: 1000, limitMs: 600_000 });
  return result!;
}

const liveTasks = () => [...j.ecs.tasks.values()].filter((t) => t.lastStatus === 'RUNNING' && t.desiredStatus === 'RUNNING');
const taskId = (arn: string) => arn.split('/').pop()!;

beforeAll(async () => {
  model = synthesizeIamModel();
  j = await startJourney({ iam: model });
  owner = (await issueOwnerToken(j.store, 'owner')).token;
}, 120_000);

afterAll(async () => {
  await j?.close();
});

describe('AWS twin, first use (IAM checked on every call)', () => {
  it('first login: `berth login --api … --token …` against the API Lambda stores the token, and the CLI then creates org, project, app and env, each selected for the next', async () => {
    cli = twinCli(j);
    const login = await berth(['login', '--api', TWIN_API_URL, '--token', owner]);
    expect(login.code, login.stderr).toBe(0);
    expect(login.stdout).toContain(`Logged in to ${TWIN_API_URL} as owner`);
    expect(cli.settings).toMatchObject({ api: TWIN_API_URL, token: owner });
    for (const [noun, name] of [['orgs', 'acme'], ['projects', 'shop'], ['apps', 'web'], ['envs', 'prod']]) {
      const r = await berth([noun, 'create', name]);
      expect(r.code, `${noun} create: ${r.stderr}`).toBe(0);
    }
    expect(cli.settings).toMatchObject(REF);
    const who = await berth(['whoami', '--json']);
    expect(JSON.parse(who.stdout)).toMatchObject({ principal: 'owner' });
    // Every AWS call so far was allowed for the role that made it (the authorizer throws otherwise).
    await settled(await call('POST', `${ENV}/deploys`, { manifest: MANIFEST, image: IMAGE }));
    expect(liveTasks()).toHaveLength(2);
  }, 60_000);

  it('[item 5 fix: logs -f vs the 5 TPS FilterLogEvents quota] logs -f through the API Lambda while a neighbour takes the quota and lines arrive late: every line printed once, a quota note instead of a crash, at most one FilterLogEvents a second, and every request answered inside its 10 s budget', async () => {
    const group = logGroupName(model.environment.LOG_GROUP_PREFIX ?? TWIN_ENV.LOG_GROUP_PREFIX, REF);
    const [a, b] = liveTasks().map((t) => `web/${APP_CONTAINER}/${taskId(t.taskArn)}`);
    // One task's lines are searchable after 1 s, the other's after 7 s: a cursor at the newest line seen would skip the slow one's.
    j.logs.lagMs = (stream) => (stream === b ? 7_000 : 1_000);
    const written: string[] = [];
    const write = (stream: string, at?: number) => {
      const message = `line ${written.length}`;
      written.push(message);
      j.logs.write(group, stream, message, at);
    };

    const follow = cli.run(['logs', '-f', '--source', 'app']);
    // A neighbour in the account (another tool reading logs) takes every free FilterLogEvents slot
    // from 60 s to 90 s; requests take 30 ms, so ours do not land on the instant a slot frees.
    j.logs.filterLatencyMs = 30;
    const neighbourUntil = j.twin.clock.now() + 90_000;
    const neighbour = () => {
      if (j.twin.clock.now() >= neighbourUntil) return;
      while (j.logs.admit('neighbour'));
      j.twin.clock.after(20, neighbour);
    };
    j.twin.clock.after(60_000, neighbour);
    for (let s = 0; s < 120; s++) {
      for (let i = 0; i < 5; i++) write(i % 2 ? b : a);
      await j.twin.clock.advance(1000);
    }
    // A burst bigger than one poll's 1,000 lines, over slow, small pages: the API answers `more` and a continuation.
    j.logs.pageEvents = 200;
    j.logs.filterLatencyMs = 3_000;
    const t = j.twin.clock.now();
    for (let i = 0; i < 2500; i++) write(i % 2 ? b : a, t - 2500 + i);
    await j.twin.clock.advance(120_000);
    follow.interrupt();
    await j.twin.clock.advance(10_000);
    const { code, stdout, stderr } = await follow.done;
    j.logs.pageEvents = 10_000;
    j.logs.filterLatencyMs = 0;

    expect(code, stderr).toBe(0);
    const printed = stdout.split('\n').filter(Boolean).map((l) => l.split(/\s+/).slice(4).join(' '));
    expect(printed.length - new Set(printed).size, 'lines printed twice').toBe(0);
    expect(written.filter((m) => !printed.includes(m)), 'lines never printed').toEqual([]);
    expect(printed.length).toBe(written.length);
    expect(stderr).toContain('CloudWatch Logs is throttling log reads');
    expect(stderr).toContain('still following');

    const mine = j.logs.filterCalls.filter((c) => c.principal === 'api');
    expect(mine.filter((c) => c.throttled).length, 'the follower met the throttle').toBeGreaterThan(0);
    const perSecond = (calls: typeof mine) => Math.max(...calls.map((c) => calls.filter((d) => d.at >= c.at && d.at < c.at + 1000).length));
    // The opening history read looks back in widening windows (up to 5 calls at once: never more than the quota);
    // the polls after it make at most one call a second.
    expect(perSecond(mine)).toBeLessThanOrEqual(5);
    expect(perSecond(mine.filter((c) => c.at >= mine[0].at + 1000))).toBeLessThanOrEqual(1);
    const polls = cli.timings.filter((r) => r.request.includes('/logs'));
    // The slow scan hit the 10 s budget (4 pages of 3 s) and answered well inside API Gateway's 30 s.
    expect(Math.max(...polls.map((p) => p.ms))).toBeGreaterThanOrEqual(10_000);
    expect(Math.max(...polls.map((p) => p.ms))).toBeLessThanOrEqual(13_000);
    console.log(`logs -f: ${written.length} lines, ${polls.length} polls, ${mine.length} FilterLogEvents (${mine.filter((c) => c.throttled).length} throttled), slowest poll ${Math.max(...polls.map((p) => p.ms))} ms simulated`);
  }, 60_000);

  it('a history read that scans slowly stops at its 10 s budget instead of running past API Gateway\'s 30 s', async () => {
    const group = logGroupName(model.environment.LOG_GROUP_PREFIX ?? TWIN_ENV.LOG_GROUP_PREFIX, REF);
    const stream = `web/${APP_CONTAINER}/${taskId(liveTasks()[0].taskArn)}`;
    const t = j.twin.clock.now();
    for (let i = 0; i < 20_000; i++) j.logs.write(group, stream, `old ${i}`, t - 1_800_000 + i * 50);
    j.logs.lagMs = () => 0;
    j.logs.pageEvents = 1000;
    j.logs.filterLatencyMs = 2_000;
    const since = new Date(t - 3_600_000).toISOString();
    let answer: { status: number; body: Record<string, any> } | undefined;
    const started = j.twin.clock.now();
    void j.twin.clock.run('GET logs', () => call('GET', `${ENV}/logs?since=${since}&level=error`)).then((r) => (answer = r));
    await j.twin.clock.advanceUntil(() => answer !== undefined, { stepMs: 500, limitMs: 60_000 });
    j.logs.pageEvents = 10_000;
    j.logs.filterLatencyMs = 0;
    expect(answer!.status, JSON.stringify(answer!.body)).toBe(200);
    // Five pages of 2 s: the budget is spent; the sixth is not asked for (20 would take 40 s).
    expect(j.twin.clock.now() - started).toBeLessThanOrEqual(12_000);
    expect(j.twin.clock.now() - started).toBeGreaterThanOrEqual(10_000);
  }, 60_000);

  it('[item 5 fix: ECS Exec] an exec session: the API Lambda sends ExecuteCommand (allowed by its policy) to the app container of the chosen task and answers the Session Manager stream the CLI joins; a task whose agent is not connected yet is a conflict with the retry command', async () => {
    const task = liveTasks()[0];
    const instance = taskId(task.taskArn);
    const r = await call('POST', `${ENV}/exec-sessions`, { instance, argv: ['sh', '-c', 'echo hi'], tty: true });
    expect(r.status, JSON.stringify(r.body)).toBe(201);
    const [sent] = j.twin.callsOf('ecs:ExecuteCommand');
    expect(sent).toMatchObject({ principal: 'api', input: { task: instance, container: APP_CONTAINER, interactive: true, command: `sh -c 'echo hi'` } });
    const session = j.exec.sessions.at(-1)!;
    expect(r.body.session.channel).toMatchObject({ transport: 'ssm', sessionId: session.sessionId, container: APP_CONTAINER });
    expect(r.body.session.channel.streamUrl).toMatch(new RegExp(`^wss://ssmmessages\\.eu-west-1\\.amazonaws\\.com/v1/data-channel/${session.sessionId}\\?role=publish_subscribe`));
    expect(JSON.stringify(r.body.session)).toContain(instance);

    // A task that has only just started: its SSM agent is not connected yet.
    j.exec.agentConnectMs = 3_600_000;
    const early = await call('POST', `${ENV}/exec-sessions`, { instance, argv: ['sh'], tty: true });
    j.exec.agentConnectMs = 10_000;
    expect(early.status).toBe(409);
    expect(early.body.error).toMatchObject({ category: 'conflict', code: 'exec-agent-not-connected' });
    expect(early.body.error.next[0]).toBe(`berth exec --instance ${instance} -- sh`);
  }, 60_000);

  it('endpoint create with IPv4 opt-in and Proxy Protocol v2: a dual-stack NLB, a TCP listener forwarding to an IPv6 ip target group with proxy_protocol_v2.enabled, ingress for ::/0 and 0.0.0.0/0, and a health probe on the target group\'s family (::1)', async () => {
    await settled(await call('PUT', `${ENV}/endpoints/web`, { workload: 'web', protocol: 'tcp', port: 5432, targetPort: 8080, ipv4: true, proxyProtocol: 'v2' }));
    const [lb] = [...j.elb.loadBalancers.values()];
    expect(lb.input).toMatchObject({ Type: 'network', Scheme: 'internet-facing', IpAddressType: 'dualstack' });
    const [listener] = [...j.elb.listeners.values()];
    const [group] = [...j.elb.targetGroups.values()];
    expect(listener).toMatchObject({ lb: lb.arn, port: 5432, actions: [{ Type: 'forward', TargetGroupArn: group.arn }] });
    expect(group.settings).toMatchObject({ Protocol: 'TCP', Port: 8080, TargetType: 'ip', IpAddressType: 'ipv6', HealthCheckProtocol: 'TCP' });
    expect(group.attributes.get('proxy_protocol_v2.enabled')).toBe('true');
    await j.twin.clock.advanceUntil(() => [...group.targets.values()].filter((t) => t.state === 'healthy').length === 2, { stepMs: 5000, limitMs: 600_000 });
    // Targets are the tasks' IPv6 addresses, the family of the target group.
    expect([...group.targets.values()].map((t) => t.id).sort()).toEqual(liveTasks().map((t) => t.ipv6).sort());
    const lbGroup = (lb.input.SecurityGroups as string[])[0];
    const ingress = [...j.ec2.rules.values()].filter((r) => r.GroupId === lbGroup && !r.IsEgress && r.FromPort === 5432);
    expect(ingress.map((r) => r.CidrIpv6 ?? r.CidrIpv4).sort()).toEqual(['0.0.0.0/0', '::/0']);
    // Berth's own gate (the probe sidecar) checks the app where the NLB will: over IPv6.
    const definition = (j.twin.callsOf('ecs:RegisterTaskDefinition').at(-1)!.input.containerDefinitions as any[]).find((c) => c.name === PROBE_CONTAINER);
    expect(definition.healthCheck.command.join(' ')).toContain('::1 8080');
    const shown = await call('GET', `${ENV}/endpoints/web`);
    expect(JSON.stringify(shown.body)).toContain(lb.dns);
  }, 60_000);

  it('[item 3 fix] a rolling deploy behind the PPv2 endpoint, checked at every simulated second: a healthy registered target always, no target draining before a target of the new release is healthy, no task stopping while its target drains', async () => {
    const [group] = [...j.elb.targetGroups.values()];
    const taskOf = (ip: string) => [...j.ecs.tasks.values()].find((t) => t.ipv6 === ip);
    const oldRevision = liveTasks()[0].taskDefinitionArn;
    const broken: string[] = [];
    const at = () => new Date(j.twin.clock.now()).toISOString();
    const check = () => {
      const targets = [...group.targets.values()];
      const healthy = targets.filter((t) => t.state === 'healthy' && taskOf(t.id)?.lastStatus === 'RUNNING' && taskOf(t.id)?.desiredStatus === 'RUNNING');
      if (!healthy.length) broken.push(`${at()} no healthy registered target: ${targets.map((t) => `${t.id} ${t.state}`).join(', ')}`);
      const draining = targets.filter((t) => t.state === 'draining');
      if (draining.length && !healthy.some((t) => taskOf(t.id)?.taskDefinitionArn !== oldRevision)) broken.push(`${at()} ${draining.map((t) => t.id).join(', ')} draining before any new target is healthy`);
      for (const t of draining) if (taskOf(t.id)?.desiredStatus !== 'RUNNING') broken.push(`${at()} task of ${t.id} told to stop (${taskOf(t.id)?.lastStatus}) while its target still drains`);
    };
    await settled(await call('POST', `${ENV}/deploys`, { manifest: MANIFEST, image: IMAGE.replace(/c{64}/, 'd'.repeat(64)) }), check);
    // On through the end of draining, still checking each second.
    await j.twin.clock.advanceUntil(() => (check(), [...group.targets.values()].every((t) => t.state === 'healthy') && liveTasks().every((t) => t.taskDefinitionArn !== oldRevision)), { stepMs: 1000, limitMs: 1_200_000 });
    expect(broken.slice(0, 5)).toEqual([]);
    expect(new Set(liveTasks().map((t) => t.taskDefinitionArn)).size).toBe(1);
    expect(liveTasks()[0].taskDefinitionArn).not.toBe(oldRevision);
  }, 60_000);
});
