// What Berth would cost on AWS, counted from the twin: requests from `twin.calls`, Lambda runs from
// `twin.invocations`, DynamoDB requests from `twin.storeCalls`, state transitions from the Step
// Functions twin, and resource-hours by sampling the twin's state once a simulated minute (NLBs and
// their per-zone public IPv4 addresses, Fargate vCPU/GB, task public IPv4, Container Insights
// metrics, secrets). What the stack itself holds (KMS keys, NAT gateways) comes from its template.
// `monthlyCost` (cost-rows.ts) turns the counts into dollars with prices.ts.
import type { EcsState } from './ecs.ts';
import type { ElbState } from './elbv2.ts';
import type { SecretsState } from './secrets.ts';
import type { SfnState } from './sfn.ts';
import { IAM_PREFIX, type AwsTwin } from './twin.ts';

/** What the stack holds whatever the envs do (from the synthesized template, see stackFacts). */
export interface StackFacts {
  kmsKeys: number;
  /** Keys with automatic rotation (KMS bills the first two rotations of each). */
  rotatedKeys: number;
  natGateways: number;
  /** Lambda memory in MB by role name (`reconcile`, `steps`, ...). */
  lambdaMemoryMb: Record<string, number>;
  containerInsights: boolean;
}

export interface CostCounts {
  hours: number;
  /** Per Lambda role: invocations, the AWS and DynamoDB requests it made, real ms here. */
  lambda: Record<string, { invocations: number; awsCalls: number; storeCalls: number; realMs: number }>;
  /** AWS API requests by IAM service prefix (DynamoDB apart, in `store`). */
  apiCalls: Record<string, number>;
  store: { reads: number; writes: number };
  transitions: number;
  executions: number;
  /** Bytes Berth itself wrote to CloudWatch Logs (PutLogEvents: message bytes + 26 per event). */
  logBytes: number;
  resourceHours: {
    nlb: number;
    nlbPublicIpv4: number;
    taskPublicIpv4: number;
    fargateVcpu: number;
    fargateGb: number;
    insightsMetrics: number;
    secrets: number;
    efsGb: number;
  };
  stack: StackFacts;
}

const READS = /^dynamodb:(Get|BatchGet|Query|Scan|TransactGet)/;
// Fargate bills "from the time you start to download your container image until the task
// terminates" (https://aws.amazon.com/fargate/pricing/): PENDING (the pull) to STOPPING.
const BILLED_TASK = new Set(['PENDING', 'ACTIVATING', 'RUNNING', 'DEACTIVATING', 'STOPPING']);
const SAMPLE_MS = 60_000;

export interface MeterSources {
  ecs: EcsState;
  elb: ElbState;
  sfn: SfnState;
  secrets: SecretsState;
  stack: StackFacts;
  /** Stored EFS bytes now (the EFS twin's state, when a journey has one). */
  efsBytes?: () => number;
  insights?: { cluster: number; service: number; family: number };
}

/** Counts from `start()` on; resource-hours are sampled every simulated minute on the twin clock. */
export class CostMeter {
  private marks = { calls: 0, invocations: 0, store: 0, since: 0 };
  private executionsBefore = new Set<string>();
  private hours: CostCounts['resourceHours'] = zeroHours();
  private cancel = () => {};

  constructor(
    private readonly twin: AwsTwin,
    private readonly sources: MeterSources,
  ) {}

  start(): void {
    this.cancel();
    this.marks = { calls: this.twin.calls.length, invocations: this.twin.invocations.length, store: this.twin.storeCalls.length, since: this.twin.clock.now() };
    this.executionsBefore = new Set(this.sources.sfn.executions.keys());
    this.hours = zeroHours();
    const tick = () => {
      this.sample(SAMPLE_MS / 3_600_000);
      this.cancel = this.twin.clock.after(SAMPLE_MS, tick);
    };
    this.cancel = this.twin.clock.after(SAMPLE_MS, tick);
  }

  stop(): CostCounts {
    this.cancel();
    const calls = this.twin.calls.slice(this.marks.calls);
    const invocations = this.twin.invocations.slice(this.marks.invocations);
    const store = this.twin.storeCalls.slice(this.marks.store);
    const lambda: CostCounts['lambda'] = {};
    const of = (p: string) => (lambda[p] ??= { invocations: 0, awsCalls: 0, storeCalls: 0, realMs: 0 });
    for (const i of invocations) {
      of(i.principal).invocations++;
      of(i.principal).realMs += i.realMs;
    }
    // Calls of a principal that ran no invocation (the API Lambda is asked through hono here) still count.
    for (const c of calls) if (lambda[c.principal]) lambda[c.principal].awsCalls++;
    for (const c of store) if (lambda[c.principal]) lambda[c.principal].storeCalls++;
    const apiCalls: Record<string, number> = {};
    for (const c of calls) apiCalls[IAM_PREFIX[c.service]] = (apiCalls[IAM_PREFIX[c.service]] ?? 0) + 1;
    const logBytes = calls
      .filter((c) => c.action === 'logs:PutLogEvents')
      .reduce((n, c) => n + (c.input.logEvents ?? []).reduce((m: number, e: { message: string }) => m + Buffer.byteLength(e.message) + 26, 0), 0);
    const executions = [...this.sources.sfn.executions.values()].filter((e) => !this.executionsBefore.has(e.name));
    return {
      hours: (this.twin.clock.now() - this.marks.since) / 3_600_000,
      lambda,
      apiCalls,
      store: {
        reads: store.filter((c) => READS.test(c.action)).length,
        writes: store.filter((c) => !READS.test(c.action)).reduce((n, c) => n + (c.action.startsWith('dynamodb:Transact') ? 2 : 1), 0),
      },
      transitions: executions.reduce((n, e) => n + e.transitions, 0),
      executions: executions.length,
      logBytes,
      resourceHours: { ...this.hours },
      stack: this.sources.stack,
    };
  }

  /** Adds `hours` of what the twin holds now. */
  private sample(hours: number): void {
    const { ecs, elb, secrets } = this.sources;
    const h = this.hours;
    for (const lb of elb.loadBalancers.values()) {
      h.nlb += hours;
      // An internet-facing NLB has a public IPv4 address in each zone it is enabled in
      // (https://docs.aws.amazon.com/elasticloadbalancing/latest/network/network-load-balancers.html#availability-zones).
      if ((lb.input.Scheme ?? 'internet-facing') === 'internet-facing') h.nlbPublicIpv4 += hours * (lb.input.Subnets?.length ?? lb.input.SubnetMappings?.length ?? 0);
    }
    const definitions = this.taskDefinitions();
    const publicServices = this.publicServices();
    const running = { services: new Set<string>(), families: new Set<string>() };
    for (const task of ecs.tasks.values()) {
      if (!BILLED_TASK.has(task.lastStatus)) continue;
      const def = definitions.get(task.taskDefinitionArn.split('/').pop()!);
      h.fargateVcpu += hours * (Number(def?.cpu ?? 0) / 1024);
      h.fargateGb += hours * (Number(def?.memory ?? 0) / 1024);
      if (publicServices.has(task.service)) h.taskPublicIpv4 += hours;
      if (task.lastStatus === 'RUNNING') {
        running.services.add(task.service);
        if (def) running.families.add(def.family);
      }
    }
    const m = this.sources.insights;
    if (this.sources.stack.containerInsights && m && running.services.size) {
      h.insightsMetrics += hours * (m.cluster + m.service * running.services.size + m.family * running.families.size);
    }
    h.secrets += hours * secrets.secrets.size;
    h.efsGb += hours * ((this.sources.efsBytes?.() ?? 0) / 1024 ** 3);
  }

  /** `family:revision` → the registered definition, from the RegisterTaskDefinition calls in order. */
  private taskDefinitions(): Map<string, { family: string; cpu?: string; memory?: string }> {
    const out = new Map<string, { family: string; cpu?: string; memory?: string }>();
    const revisions = new Map<string, number>();
    for (const c of this.twin.calls) {
      if (c.action !== 'ecs:RegisterTaskDefinition') continue;
      const n = (revisions.get(c.input.family) ?? 0) + 1;
      revisions.set(c.input.family, n);
      out.set(`${c.input.family}:${n}`, { family: c.input.family, cpu: c.input.cpu, memory: c.input.memory });
    }
    return out;
  }

  /** Services whose tasks get a public IPv4 address (assignPublicIp ENABLED at create or update). */
  private publicServices(): Set<string> {
    const out = new Set<string>();
    for (const c of this.twin.calls) {
      if (c.action !== 'ecs:CreateService' && c.action !== 'ecs:UpdateService') continue;
      const assign = c.input.networkConfiguration?.awsvpcConfiguration?.assignPublicIp;
      const name = c.input.serviceName ?? String(c.input.service ?? '').split('/').pop();
      if (assign === 'ENABLED') out.add(name);
      else if (assign === 'DISABLED') out.delete(name);
    }
    return out;
  }
}

const zeroHours = (): CostCounts['resourceHours'] => ({ nlb: 0, nlbPublicIpv4: 0, taskPublicIpv4: 0, fargateVcpu: 0, fargateGb: 0, insightsMetrics: 0, secrets: 0, efsGb: 0 });

/** The stack's own cost drivers, read from its synthesized CloudFormation template. */
export function stackFacts(template: { Resources: Record<string, { Type: string; Properties?: Record<string, any> }> }): StackFacts {
  const resources = Object.values(template.Resources);
  const lambdaMemoryMb: Record<string, number> = {};
  for (const r of resources.filter((x) => x.Type === 'AWS::Lambda::Function')) {
    const service = r.Properties?.Environment?.Variables?.POWERTOOLS_SERVICE_NAME as string | undefined;
    if (service) lambdaMemoryMb[service.replace(/^berth-/, '')] = r.Properties?.MemorySize ?? 128;
  }
  const clusters = resources.filter((x) => x.Type === 'AWS::ECS::Cluster');
  return {
    kmsKeys: resources.filter((x) => x.Type === 'AWS::KMS::Key').length,
    rotatedKeys: resources.filter((x) => x.Type === 'AWS::KMS::Key' && x.Properties?.EnableKeyRotation).length,
    natGateways: resources.filter((x) => x.Type === 'AWS::EC2::NatGateway').length,
    lambdaMemoryMb,
    containerInsights: clusters.some((c) => (c.Properties?.ClusterSettings ?? []).some((s: { Name: string; Value: string }) => s.Name === 'containerInsights' && s.Value !== 'disabled')),
  };
}
