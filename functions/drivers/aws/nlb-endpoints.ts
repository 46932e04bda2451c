// AWS endpoints: one internet-facing, dual-stack Network Load Balancer per env; per endpoint a
// TCP listener on its port and an `ip` target group of IPv6 task addresses. Which address
// families may connect is the NLB security group's job (see nlb-security-group.ts).
import {
  AddTagsCommand,
  CreateListenerCommand,
  CreateLoadBalancerCommand,
  CreateTargetGroupCommand,
  DeleteListenerCommand,
  DeleteLoadBalancerCommand,
  DeleteTargetGroupCommand,
  DeregisterTargetsCommand,
  DescribeListenersCommand,
  DescribeLoadBalancersCommand,
  DescribeTagsCommand,
  DescribeTargetGroupsCommand,
  DescribeTargetHealthCommand,
  LoadBalancerNotFoundException,
  ModifyListenerCommand,
  ModifyTargetGroupAttributesCommand,
  ModifyTargetGroupCommand,
  RegisterTargetsCommand,
  TargetGroupNotFoundException,
  type ElasticLoadBalancingV2Client,
  type Listener,
  type LoadBalancer,
  type TargetGroup,
} from '@aws-sdk/client-elastic-load-balancing-v2';
import type { EC2Client } from '@aws-sdk/client-ec2';
import type { Endpoint, HealthCheck } from '../../contract/manifest.ts';
import { HealthCheckError, InvalidInputError, TimeoutError } from '../../core/errors.ts';
import type { EndpointBinding, EndpointDriver, EndpointTarget, EnvRef, InstanceStatus } from '../../core/ports.ts';
import { attempt } from './aws-errors.ts';
import type { AwsRuntimeConfig } from './config.ts';
import { applyEndpointIngress, deleteSecurityGroup, ENDPOINT_TAG, ensureSecurityGroup, findSecurityGroup, revokeEndpointIngress } from './nlb-security-group.ts';
import { DEREGISTRATION_DELAY_SECONDS, healthCheckSettings, endpointFromTags, endpointTags, TARGET_TIMING, type TargetTiming } from './nlb-target-group.ts';
import { chunks, pollUntil, realClock, type Clock, type PollTiming } from './poll.ts';
import { berthTags, endpointSecurityGroupName, loadBalancerName, targetGroupName } from './tags.ts';
import { TARGET_IP_ADDRESS_TYPE } from './target-family.ts';

/** For the CLI under an AWS endpoint: why an IPv6-only endpoint's NLB still shows IPv4 addresses. */
export const AWS_ENDPOINT_NOTE =
  'On AWS the load balancer is dual-stack and always has IPv4 addresses; an endpoint without `ipv4: true` stays IPv6-only because its security group admits IPv4 (0.0.0.0/0) only for endpoints that opt in.';

export interface NlbEndpointOptions {
  /** Names targets by instance in `list` (host:port → id); without it, a cold Lambda names them by address. */
  instances?: (env: EnvRef) => Promise<InstanceStatus[]>;
  clock?: Clock;
  /** How `setTargets` waits for new targets to be healthy and old ones to drain. @default TARGET_TIMING */
  targetTiming?: TargetTiming;
  /**
   * How long the security group's delete is retried while the deleted NLB's network interfaces
   * still hold it: briefly by `remove` (a group still in use stays, the next endpoint reuses it,
   * env destroy deletes it), longer by `destroyEnv`, which fails with a timeout at the bound.
   * @default remove 10 s × 6 (60 s); destroyEnv 10 s interval, 300 s bound
   */
  securityGroupTiming?: { remove: PollTiming; destroy: PollTiming };
}

type NlbConfig = Pick<AwsRuntimeConfig, 'vpcId' | 'subnets' | 'taskSecurityGroupId'>;

export class NlbEndpointDriver implements EndpointDriver {
  private readonly elbv2: ElasticLoadBalancingV2Client;
  private readonly ec2: EC2Client;
  /** host:port → instance id, from this process's setTargets calls. */
  private readonly known = new Map<string, string>();
  private readonly clock: Clock;
  private readonly sgTiming: { remove: PollTiming; destroy: PollTiming };

  constructor(
    clients: { elbv2: ElasticLoadBalancingV2Client; ec2: EC2Client },
    private readonly config: NlbConfig,
    private readonly options: NlbEndpointOptions = {},
  ) {
    this.elbv2 = clients.elbv2;
    this.ec2 = clients.ec2;
    this.clock = options.clock ?? realClock;
    this.sgTiming = options.securityGroupTiming ?? { remove: { intervalMs: 10_000, timeoutMs: 60_000 }, destroy: { intervalMs: 10_000, timeoutMs: 300_000 } };
  }

  /**
   * Creates or updates the endpoint; idempotent. `healthCheck` (the target workload's) sets the
   * target group's check; without it the NLB checks that the target port accepts connections.
   */
  async ensure(env: EnvRef, name: string, endpoint: Endpoint, healthCheck?: HealthCheck): Promise<EndpointBinding> {
    const groupId = await ensureSecurityGroup(this.ec2, this.config, env);
    await applyEndpointIngress(this.ec2, groupId, env, name, endpoint);
    const lb = (await this.findLoadBalancer(env)) ?? (await this.createLoadBalancer(env, groupId));
    const tg = await this.ensureTargetGroup(env, name, endpoint, healthCheck);
    await attempt(`configure target group of endpoint ${name}`, () =>
      this.elbv2.send(
        new ModifyTargetGroupAttributesCommand({
          TargetGroupArn: tg.TargetGroupArn,
          Attributes: [
            { Key: 'proxy_protocol_v2.enabled', Value: String(endpoint.proxyProtocol === 'v2') },
            // Old instances leave within a rollout step, not after the 300 s default.
            { Key: 'deregistration_delay.timeout_seconds', Value: String(DEREGISTRATION_DELAY_SECONDS) },
          ],
        }),
      ),
    );
    await this.ensureListener(env, lb, tg, name, endpoint.port);
    return bindingOf(lb, endpoint);
  }

  /**
   * Registers the new targets, waits until the NLB finds them `healthy`, then deregisters the rest
   * and waits until they have drained: when it resolves, new connections reach only `targets`
   * and no connection is left on the others, so their tasks may stop. NLB registration takes a
   * while before health checks even start (https://docs.aws.amazon.com/elasticloadbalancing/latest/network/target-group-register-targets.html),
   * and a deregistered target keeps its connections for the deregistration delay
   * (https://docs.aws.amazon.com/elasticloadbalancing/latest/network/edit-target-group-attributes.html#deregistration-delay).
   */
  async setTargets(env: EnvRef, name: string, targets: EndpointTarget[]): Promise<void> {
    const tg = await this.findTargetGroup(env, name);
    if (!tg) return;
    const notIpv6 = targets.find((t) => !t.host.includes(':'));
    if (notIpv6) {
      throw new InvalidInputError('target-not-ipv6', `instance ${notIpv6.instance} has no IPv6 address (${notIpv6.host}); endpoints target IPv6 — give the Berth subnets an IPv6 CIDR and enable dual-stack for ECS tasks`, { details: { target: notIpv6 } });
    }
    for (const t of targets) this.known.set(`${t.host}:${t.port}`, t.instance);
    const arn = tg.TargetGroupArn!;
    const current = await this.targetsOf(arn);
    const key = (t: { Id?: string; Port?: number }) => `${t.Id}:${t.Port}`;
    const wanted = new Set(targets.map((t) => `${t.host}:${t.port}`));
    const live = current.filter((c) => c.state !== 'draining');
    const add = targets.filter((t) => !live.some((c) => key(c) === `${t.host}:${t.port}`)).map((t) => ({ Id: t.host, Port: t.port }));
    const drop = live.filter((c) => !wanted.has(key(c))).map((c) => ({ Id: c.Id, Port: c.Port }));
    if (add.length) await attempt(`register targets of endpoint ${name}`, () => this.elbv2.send(new RegisterTargetsCommand({ TargetGroupArn: arn, Targets: add })));
    // Old targets serve until the new ones do: only then is deregistering them free of refused connections.
    // (A first rollout, or one after a failure, has no healthy old target to keep: nothing to wait for.)
    const servingOld = drop.some((d) => current.some((c) => key(c) === key(d) && c.state === 'healthy'));
    if (add.length && servingOld) await this.waitForTargets(name, arn, 'healthy', targets.map((t) => `${t.host}:${t.port}`));
    if (!drop.length) return;
    await attempt(`deregister targets of endpoint ${name}`, () => this.elbv2.send(new DeregisterTargetsCommand({ TargetGroupArn: arn, Targets: drop })));
    await this.waitForTargets(name, arn, 'drained', drop.map(key));
  }

  /**
   * Polls DescribeTargetHealth: ELB publishes no event when a target's health changes, so there
   * is nothing to wait on instead. Bounded well inside the steps Lambda's 15 minutes.
   */
  private async waitForTargets(name: string, arn: string, goal: 'healthy' | 'drained', keys: string[]): Promise<void> {
    const timing = this.options.targetTiming ?? TARGET_TIMING;
    const bound = goal === 'healthy' ? timing.healthyTimeoutMs : timing.drainTimeoutMs;
    const reached = await pollUntil({ intervalMs: timing.intervalMs, timeoutMs: bound }, this.options.clock ?? realClock, async () => {
      const states = new Map((await this.targetsOf(arn)).map((t) => [`${t.Id}:${t.Port}`, t.state]));
      const done = goal === 'healthy' ? keys.every((k) => states.get(k) === 'healthy') : keys.every((k) => !states.has(k) || states.get(k) === 'unused');
      return done ? true : undefined;
    });
    if (reached) return;
    if (goal === 'healthy') {
      throw new HealthCheckError('targets-not-healthy', `the load balancer of endpoint ${name} did not find ${keys.join(', ')} healthy within ${bound / 1000}s, so the old instances keep serving; make the app accept connections on its IPv6 address (listen on ::), or check the workload's health check`, {
        details: { endpoint: name, targets: keys },
        next: ['berth logs', 'berth events'],
      });
    }
    throw new TimeoutError('targets-still-draining', `targets ${keys.join(', ')} of endpoint ${name} were still draining after ${bound / 1000}s; their instances keep running until they have drained — retry the operation`, {
      details: { endpoint: name, targets: keys },
      next: ['berth status'],
    });
  }

  async remove(env: EnvRef, name: string): Promise<void> {
    const lb = await this.findLoadBalancer(env);
    const tg = await this.findTargetGroup(env, name);
    const listeners = lb ? await this.listeners(lb) : [];
    for (const listener of listeners.filter((l) => tg && forwardsTo(l) === tg.TargetGroupArn)) {
      await attempt(`delete listener of endpoint ${name}`, () => this.elbv2.send(new DeleteListenerCommand({ ListenerArn: listener.ListenerArn })));
    }
    if (tg) await attempt(`delete target group of endpoint ${name}`, () => this.elbv2.send(new DeleteTargetGroupCommand({ TargetGroupArn: tg.TargetGroupArn })));
    const groupId = await findSecurityGroup(this.ec2, this.config, env);
    if (groupId) await revokeEndpointIngress(this.ec2, groupId, name);
    // The last endpoint takes the NLB with it (it costs by the hour), then its security group and
    // the task group's rule admitting it (a rule per env, against the group's rule quota). A group
    // the NLB's network interfaces still hold at the bound stays: the next endpoint reuses it and
    // env destroy deletes it.
    if (!listeners.every((l) => tg && forwardsTo(l) === tg.TargetGroupArn)) return;
    if (lb) await attempt('delete the load balancer', () => this.elbv2.send(new DeleteLoadBalancerCommand({ LoadBalancerArn: lb.LoadBalancerArn })));
    await deleteSecurityGroup(this.ec2, this.config, env, { clock: this.clock, timing: this.sgTiming.remove });
  }

  /**
   * Env destroy: every endpoint, the NLB (with any listener Berth no longer recognises), its
   * security group and the task group's rule. Idempotent: each part is looked up before it is
   * deleted, so a run after a crash half-way finishes the rest.
   */
  async destroyEnv(env: EnvRef): Promise<void> {
    for (const e of await this.list(env)) await this.remove(env, e.name);
    const lb = await this.findLoadBalancer(env);
    // Deleting a load balancer deletes its listeners.
    if (lb) await attempt('delete the load balancer', () => this.elbv2.send(new DeleteLoadBalancerCommand({ LoadBalancerArn: lb.LoadBalancerArn })));
    const gone = await deleteSecurityGroup(this.ec2, this.config, env, { clock: this.clock, timing: this.sgTiming.destroy });
    if (!gone) {
      throw new TimeoutError('security-group-in-use', `security group ${endpointSecurityGroupName(env)} is still attached to the deleted load balancer's network interfaces after ${this.sgTiming.destroy.timeoutMs / 1000}s; AWS releases them asynchronously — retry the env destroy in a few minutes`, {
        details: { securityGroup: endpointSecurityGroupName(env) },
        next: ['berth envs list'],
      });
    }
  }

  async list(env: EnvRef): Promise<{ name: string; endpoint: Endpoint; binding: EndpointBinding; targets: EndpointTarget[] }[]> {
    const lb = await this.findLoadBalancer(env);
    if (!lb) return [];
    const listeners = (await this.listeners(lb)).filter((l) => forwardsTo(l));
    const tags = new Map<string, Record<string, string>>();
    for (const batch of chunks(listeners.map((l) => forwardsTo(l)!), 20)) {
      const out = await attempt('read target group tags', () => this.elbv2.send(new DescribeTagsCommand({ ResourceArns: batch })));
      for (const d of out.TagDescriptions ?? []) tags.set(d.ResourceArn!, Object.fromEntries((d.Tags ?? []).map((t) => [t.Key!, t.Value ?? ''])));
    }
    const instances = this.options.instances ? await this.options.instances(env) : [];
    const byAddress = new Map(this.known);
    for (const i of instances) for (const a of Object.values(i.addresses)) byAddress.set(`${a.host}:${a.port}`, i.id);
    const out = [];
    for (const listener of listeners) {
      const arn = forwardsTo(listener)!;
      const endpoint = endpointFromTags(tags.get(arn) ?? {}, listener.Port!);
      if (!endpoint) continue;
      const targets = (await this.targetsOf(arn))
        .filter((t) => t.state !== 'draining')
        .map((t) => ({ instance: byAddress.get(`${t.Id}:${t.Port}`) ?? t.Id!, host: t.Id!, port: t.Port! }));
      out.push({ name: endpoint.name, endpoint: endpoint.endpoint, binding: bindingOf(lb, endpoint.endpoint), targets });
    }
    return out.sort((a, b) => a.name.localeCompare(b.name));
  }

  /** Nothing to close: the NLBs serve independently of the platform's Lambdas. */
  async shutdown(): Promise<void> {}

  private async findLoadBalancer(env: EnvRef): Promise<LoadBalancer | undefined> {
    return attempt(
      'look up the load balancer',
      async () => (await this.elbv2.send(new DescribeLoadBalancersCommand({ Names: [loadBalancerName(env)] }))).LoadBalancers?.[0],
      (err) => {
        if (err instanceof LoadBalancerNotFoundException) return undefined;
        throw err;
      },
    );
  }

  private async createLoadBalancer(env: EnvRef, groupId: string): Promise<LoadBalancer> {
    const out = await attempt('create the load balancer', () =>
      this.elbv2.send(
        new CreateLoadBalancerCommand({
          Name: loadBalancerName(env),
          Type: 'network',
          Scheme: 'internet-facing',
          IpAddressType: 'dualstack',
          Subnets: this.config.subnets.map((s) => s.id),
          SecurityGroups: [groupId],
          Tags: berthTags(env),
        }),
      ),
    );
    return out.LoadBalancers![0];
  }

  private async findTargetGroup(env: EnvRef, name: string): Promise<TargetGroup | undefined> {
    return attempt(
      `look up the target group of endpoint ${name}`,
      async () => (await this.elbv2.send(new DescribeTargetGroupsCommand({ Names: [targetGroupName(env, name)] }))).TargetGroups?.[0],
      (err) => {
        if (err instanceof TargetGroupNotFoundException) return undefined;
        throw err;
      },
    );
  }

  private async ensureTargetGroup(env: EnvRef, name: string, endpoint: Endpoint, healthCheck?: HealthCheck): Promise<TargetGroup> {
    const targetPort = endpoint.targetPort ?? endpoint.port;
    const check = healthCheckSettings(targetPort, healthCheck);
    const tags = endpointTags(name, endpoint);
    const existing = await this.findTargetGroup(env, name);
    if (existing) {
      if (healthCheck) await attempt(`update the health check of endpoint ${name}`, () => this.elbv2.send(new ModifyTargetGroupCommand({ TargetGroupArn: existing.TargetGroupArn, ...check })));
      // Tags carry the endpoint's settings for `list`; AddTags overwrites changed values.
      await attempt(`tag target group of endpoint ${name}`, () => this.elbv2.send(new AddTagsCommand({ ResourceArns: [existing.TargetGroupArn!], Tags: berthTags(env, tags) })));
      return existing;
    }
    const out = await attempt(`create target group of endpoint ${name}`, () =>
      this.elbv2.send(
        new CreateTargetGroupCommand({
          Name: targetGroupName(env, name),
          Protocol: 'TCP',
          Port: targetPort,
          VpcId: this.config.vpcId,
          TargetType: 'ip',
          IpAddressType: TARGET_IP_ADDRESS_TYPE,
          ...check,
          Tags: berthTags(env, tags),
        }),
      ),
    );
    return out.TargetGroups![0];
  }

  private async ensureListener(env: EnvRef, lb: LoadBalancer, tg: TargetGroup, name: string, port: number): Promise<void> {
    const listeners = await this.listeners(lb);
    const forward = [{ Type: 'forward' as const, TargetGroupArn: tg.TargetGroupArn }];
    // The endpoint moved to another port: its old listener goes.
    for (const old of listeners.filter((l) => forwardsTo(l) === tg.TargetGroupArn && l.Port !== port)) {
      await attempt(`delete the old listener of endpoint ${name}`, () => this.elbv2.send(new DeleteListenerCommand({ ListenerArn: old.ListenerArn })));
    }
    const onPort = listeners.find((l) => l.Port === port);
    if (onPort && forwardsTo(onPort) === tg.TargetGroupArn) return;
    if (onPort) {
      await attempt(`point port ${port} at endpoint ${name}`, () => this.elbv2.send(new ModifyListenerCommand({ ListenerArn: onPort.ListenerArn, Protocol: 'TCP', Port: port, DefaultActions: forward })));
      return;
    }
    await attempt(`create listener on port ${port} for endpoint ${name}`, () =>
      this.elbv2.send(new CreateListenerCommand({ LoadBalancerArn: lb.LoadBalancerArn, Protocol: 'TCP', Port: port, DefaultActions: forward, Tags: berthTags(env, { [ENDPOINT_TAG]: name }) })),
    );
  }

  private async listeners(lb: LoadBalancer): Promise<Listener[]> {
    const out = await attempt('list the load balancer listeners', () => this.elbv2.send(new DescribeListenersCommand({ LoadBalancerArn: lb.LoadBalancerArn })));
    return out.Listeners ?? [];
  }

  private async targetsOf(targetGroupArn: string): Promise<{ Id?: string; Port?: number; state?: string }[]> {
    const out = await attempt('read the targets of a target group', () => this.elbv2.send(new DescribeTargetHealthCommand({ TargetGroupArn: targetGroupArn })));
    return (out.TargetHealthDescriptions ?? []).map((d) => ({ Id: d.Target?.Id, Port: d.Target?.Port, state: d.TargetHealth?.State }));
  }
}

function forwardsTo(listener: Listener): string | undefined {
  const action = listener.DefaultActions?.find((a) => a.Type === 'forward');
  return action?.TargetGroupArn ?? action?.ForwardConfig?.TargetGroups?.[0]?.TargetGroupArn;
}

/** The NLB's addresses per family; the DNS name when AWS lists none (it resolves to both families). */
function bindingOf(lb: LoadBalancer, endpoint: Endpoint): EndpointBinding {
  const addresses = (lb.AvailabilityZones ?? []).flatMap((z) => z.LoadBalancerAddresses ?? []);
  const v6 = addresses.flatMap((a) => (a.IPv6Address ? [a.IPv6Address] : []));
  const v4 = addresses.flatMap((a) => (a.IpAddress ? [a.IpAddress] : []));
  const dns = lb.DNSName ?? '';
  const listeners: EndpointBinding['listeners'] = (v6.length ? v6 : [dns]).map((address) => ({ family: 'IPv6' as const, address, port: endpoint.port }));
  if (endpoint.ipv4) listeners.push(...(v4.length ? v4 : [dns]).map((address) => ({ family: 'IPv4' as const, address, port: endpoint.port })));
  return { listeners, notes: [AWS_ENDPOINT_NOTE] };
}
