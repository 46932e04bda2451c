// Elastic Load Balancing v2 (network load balancers) in the twin: load balancers, TCP listeners,
// `ip` target groups and target health on the twin's clock, plus `probe`: would a new connection
// to a listener now reach a target that accepts it?
import {
  DuplicateListenerException,
  DuplicateLoadBalancerNameException,
  DuplicateTargetGroupNameException,
  ListenerNotFoundException,
  LoadBalancerNotFoundException,
  ResourceInUseException,
  TargetGroupNotFoundException,
} from '@aws-sdk/client-elastic-load-balancing-v2';
import { arn, type AwsTwin } from './twin.ts';

type TargetState = 'initial' | 'healthy' | 'unhealthy' | 'draining';

interface Target {
  id: string;
  port: number;
  state: TargetState;
  passes: number;
  failures: number;
  cancel: () => void;
}

interface TargetGroup {
  arn: string;
  name: string;
  settings: Record<string, any>;
  attributes: Map<string, string>;
  tags: Map<string, string>;
  targets: Map<string, Target>;
}

export interface ElbState {
  loadBalancers: Map<string, { arn: string; name: string; dns: string; tags: Map<string, string>; input: any }>;
  listeners: Map<string, { arn: string; lb: string; port: number; actions: any[]; tags: Map<string, string> }>;
  targetGroups: Map<string, TargetGroup>;
  /**
   * Would a new connection to the listener on `port` of `lb` reach an app now? The NLB routes to
   * healthy targets (to all when none is healthy: fail open; none registered: refused), and a
   * connection reaches an app only if the target's task still accepts connections; a draining
   * target whose task stopped has reset the connections it still held.
   */
  probe(lbName: string, port: number): { ok: boolean; reason: string };
}

// NLB registration: "It can take a few minutes for the registration process to complete and
// health checks to start" (https://docs.aws.amazon.com/elasticloadbalancing/latest/network/target-group-register-targets.html).
export const ELB_TIMING = { registrationMs: 60_000 };

export function install(twin: AwsTwin, serving: (ip: string, port: number) => boolean): ElbState {
  let seq = 0;
  const state: ElbState = {
    loadBalancers: new Map(),
    listeners: new Map(),
    targetGroups: new Map(),
    probe: (lbName, port) => {
      const lb = [...state.loadBalancers.values()].find((l) => l.name === lbName);
      const listener = lb && [...state.listeners.values()].find((l) => l.lb === lb.arn && l.port === port);
      if (!listener) return { ok: false, reason: `no listener on port ${port}: connection refused` };
      const group = state.targetGroups.get(listener.actions[0]?.TargetGroupArn);
      const registered = [...(group?.targets.values() ?? [])].filter((t) => t.state !== 'draining');
      const healthy = registered.filter((t) => t.state === 'healthy');
      // Fail open: with no healthy target the NLB routes to all registered ones
      // (https://docs.aws.amazon.com/elasticloadbalancing/latest/network/target-group-health-checks.html).
      const routed = healthy.length ? healthy : registered.filter((t) => t.state === 'unhealthy');
      if (!routed.length) return { ok: false, reason: `no healthy target (${[...(group?.targets.values() ?? [])].map((t) => `${t.id} ${t.state}`).join(', ') || 'none registered'})` };
      // A draining target keeps its open connections until the delay ends; if its task stops first they are reset.
      const reset = [...(group?.targets.values() ?? [])].filter((t) => t.state === 'draining' && !serving(t.id, t.port));
      if (reset.length) return { ok: false, reason: `connections still open on draining ${reset.map((t) => t.id).join(', ')} are reset: its task stopped before draining ended` };
      const dead = routed.filter((t) => !serving(t.id, t.port));
      if (dead.length) return { ok: false, reason: `connections routed to ${dead.map((t) => t.id).join(', ')} are refused: no app listens there any more` };
      return { ok: true, reason: `${routed.length} healthy target(s)` };
    },
  };

  const group = (ref: string): TargetGroup => {
    const g = state.targetGroups.get(ref);
    if (!g) throw new TargetGroupNotFoundException({ message: `Target groups '${ref}' not found`, $metadata: {} });
    return g;
  };

  // Health checks every HealthCheckIntervalSeconds; healthy after HealthyThresholdCount passes in a
  // row, unhealthy after UnhealthyThresholdCount failures (same page as the fail-open rule).
  const check = (g: TargetGroup, t: Target) => {
    const interval = (g.settings.HealthCheckIntervalSeconds ?? 30) * 1000;
    t.cancel = twin.clock.after(interval, () => {
      if (t.state === 'draining') return;
      if (serving(t.id, t.port)) {
        t.failures = 0;
        if (++t.passes >= (g.settings.HealthyThresholdCount ?? 5)) t.state = 'healthy';
      } else {
        t.passes = 0;
        if (++t.failures >= (g.settings.UnhealthyThresholdCount ?? 2)) t.state = 'unhealthy';
      }
      check(g, t);
    });
  };

  twin.handler('elastic-load-balancing-v2', 'CreateLoadBalancer', (input) => {
    const existing = [...state.loadBalancers.values()].find((l) => l.name === input.Name);
    // CreateLoadBalancer is idempotent for identical settings (https://docs.aws.amazon.com/elasticloadbalancing/latest/APIReference/API_CreateLoadBalancer.html).
    if (existing && JSON.stringify(existing.input.Subnets) !== JSON.stringify(input.Subnets)) throw new DuplicateLoadBalancerNameException({ message: 'A load balancer with the same name exists', $metadata: {} });
    const lb = existing ?? { arn: arn('elasticloadbalancing', `loadbalancer/net/${input.Name}/${(++seq).toString(16).padStart(16, '0')}`), name: input.Name, dns: `${input.Name}-${seq}.elb.eu-west-1.amazonaws.com`, tags: new Map((input.Tags ?? []).map((t: any) => [t.Key, t.Value])), input };
    state.loadBalancers.set(lb.arn, lb);
    return { LoadBalancers: [describeLb(lb)] };
  });
  const describeLb = (lb: { arn: string; name: string; dns: string; input: any }) => ({
    LoadBalancerArn: lb.arn,
    LoadBalancerName: lb.name,
    DNSName: lb.dns,
    Type: 'network',
    Scheme: 'internet-facing',
    IpAddressType: lb.input.IpAddressType,
    State: { Code: 'active' },
    SecurityGroups: lb.input.SecurityGroups,
    AvailabilityZones: (lb.input.Subnets as string[]).map((s, i) => ({ SubnetId: s, ZoneName: `eu-west-1${'abc'[i]}`, LoadBalancerAddresses: [] })),
  });
  twin.handler('elastic-load-balancing-v2', 'DescribeLoadBalancers', (input) => {
    const found = [...state.loadBalancers.values()].filter((l) => (!input.Names || input.Names.includes(l.name)) && (!input.LoadBalancerArns || input.LoadBalancerArns.includes(l.arn)));
    if ((input.Names || input.LoadBalancerArns) && !found.length) throw new LoadBalancerNotFoundException({ message: 'One or more load balancers not found', $metadata: {} });
    return { LoadBalancers: found.map(describeLb) };
  });
  twin.handler('elastic-load-balancing-v2', 'DeleteLoadBalancer', (input) => {
    state.loadBalancers.delete(input.LoadBalancerArn);
    for (const [k, l] of state.listeners) if (l.lb === input.LoadBalancerArn) state.listeners.delete(k);
    return {};
  });

  twin.handler('elastic-load-balancing-v2', 'CreateTargetGroup', (input) => {
    if ([...state.targetGroups.values()].some((g) => g.name === input.Name)) throw new DuplicateTargetGroupNameException({ message: 'A target group with the same name exists', $metadata: {} });
    const { Name, Tags, ...settings } = input;
    const g: TargetGroup = { arn: arn('elasticloadbalancing', `targetgroup/${Name}/${(++seq).toString(16).padStart(16, '0')}`), name: Name, settings, tags: new Map((Tags ?? []).map((t: any) => [t.Key, t.Value])), targets: new Map(),
      // The default deregistration delay is 300 s (https://docs.aws.amazon.com/elasticloadbalancing/latest/network/edit-target-group-attributes.html#deregistration-delay).
      attributes: new Map([['deregistration_delay.timeout_seconds', '300'], ['proxy_protocol_v2.enabled', 'false']]) };
    state.targetGroups.set(g.arn, g);
    return { TargetGroups: [describeTg(g)] };
  });
  const describeTg = (g: TargetGroup) => ({ TargetGroupArn: g.arn, TargetGroupName: g.name, ...g.settings, LoadBalancerArns: [...state.listeners.values()].filter((l) => l.actions.some((a) => a.TargetGroupArn === g.arn)).map((l) => l.lb) });
  twin.handler('elastic-load-balancing-v2', 'DescribeTargetGroups', (input) => {
    const found = [...state.targetGroups.values()].filter((g) => (!input.Names || input.Names.includes(g.name)) && (!input.TargetGroupArns || input.TargetGroupArns.includes(g.arn)));
    if ((input.Names || input.TargetGroupArns) && !found.length) throw new TargetGroupNotFoundException({ message: 'One or more target groups not found', $metadata: {} });
    return { TargetGroups: found.map(describeTg) };
  });
  twin.handler('elastic-load-balancing-v2', 'ModifyTargetGroup', (input) => {
    const { TargetGroupArn, ...settings } = input;
    Object.assign(group(TargetGroupArn).settings, settings);
    return { TargetGroups: [describeTg(group(TargetGroupArn))] };
  });
  twin.handler('elastic-load-balancing-v2', 'ModifyTargetGroupAttributes', (input) => {
    const g = group(input.TargetGroupArn);
    for (const a of input.Attributes) g.attributes.set(a.Key, a.Value);
    return { Attributes: [...g.attributes].map(([Key, Value]) => ({ Key, Value })) };
  });
  twin.handler('elastic-load-balancing-v2', 'DeleteTargetGroup', (input) => {
    // A target group in use by a listener cannot be deleted (https://docs.aws.amazon.com/elasticloadbalancing/latest/APIReference/API_DeleteTargetGroup.html).
    if ([...state.listeners.values()].some((l) => l.actions.some((a) => a.TargetGroupArn === input.TargetGroupArn))) throw new ResourceInUseException({ message: 'Target group is currently in use by a listener', $metadata: {} });
    state.targetGroups.delete(input.TargetGroupArn);
    return {};
  });

  twin.handler('elastic-load-balancing-v2', 'RegisterTargets', (input) => {
    const g = group(input.TargetGroupArn);
    for (const t of input.Targets) {
      const key = `${t.Id}:${t.Port}`;
      const existing = g.targets.get(key);
      if (existing && existing.state !== 'draining') continue;
      existing?.cancel();
      // A new target is `initial` until it passes HealthyThresholdCount checks, which begin once
      // registration completes (target-group-register-targets.html, above).
      const target: Target = { id: t.Id, port: t.Port, state: 'initial', passes: 0, failures: 0, cancel: () => {} };
      g.targets.set(key, target);
      target.cancel = twin.clock.after(ELB_TIMING.registrationMs, () => check(g, target));
    }
    return {};
  });
  twin.handler('elastic-load-balancing-v2', 'DeregisterTargets', (input) => {
    const g = group(input.TargetGroupArn);
    const delay = Number(g.attributes.get('deregistration_delay.timeout_seconds')) * 1000;
    for (const t of input.Targets) {
      const target = g.targets.get(`${t.Id}:${t.Port}`);
      if (!target || target.state === 'draining') continue;
      // Draining: no new connections; after the deregistration delay the target is gone (`unused`)
      // (https://docs.aws.amazon.com/elasticloadbalancing/latest/network/edit-target-group-attributes.html#deregistration-delay).
      target.cancel();
      target.state = 'draining';
      target.cancel = twin.clock.after(delay, () => g.targets.delete(`${t.Id}:${t.Port}`));
    }
    return {};
  });
  twin.handler('elastic-load-balancing-v2', 'DescribeTargetHealth', (input) => ({
    TargetHealthDescriptions: [...group(input.TargetGroupArn).targets.values()].map((t) => ({ Target: { Id: t.id, Port: t.port }, HealthCheckPort: String(t.port), TargetHealth: { State: t.state } })),
  }));

  twin.handler('elastic-load-balancing-v2', 'CreateListener', (input) => {
    if ([...state.listeners.values()].some((l) => l.lb === input.LoadBalancerArn && l.port === input.Port)) throw new DuplicateListenerException({ message: 'A listener already exists on this port for this load balancer', $metadata: {} });
    const l = { arn: arn('elasticloadbalancing', `listener/net/${(++seq).toString(16)}`), lb: input.LoadBalancerArn, port: input.Port, actions: input.DefaultActions, tags: new Map<string, string>((input.Tags ?? []).map((t: any) => [t.Key, t.Value])) };
    state.listeners.set(l.arn, l);
    return { Listeners: [describeListener(l)] };
  });
  const describeListener = (l: { arn: string; lb: string; port: number; actions: any[] }) => ({ ListenerArn: l.arn, LoadBalancerArn: l.lb, Port: l.port, Protocol: 'TCP', DefaultActions: l.actions });
  twin.handler('elastic-load-balancing-v2', 'DescribeListeners', (input) => ({ Listeners: [...state.listeners.values()].filter((l) => l.lb === input.LoadBalancerArn).map(describeListener) }));
  twin.handler('elastic-load-balancing-v2', 'ModifyListener', (input) => {
    const l = state.listeners.get(input.ListenerArn);
    if (!l) throw new ListenerNotFoundException({ message: 'Listener not found', $metadata: {} });
    Object.assign(l, { port: input.Port ?? l.port, actions: input.DefaultActions ?? l.actions });
    return { Listeners: [describeListener(l)] };
  });
  twin.handler('elastic-load-balancing-v2', 'DeleteListener', (input) => {
    state.listeners.delete(input.ListenerArn);
    return {};
  });
  const tagsOf = (ref: string): Map<string, string> | undefined => state.targetGroups.get(ref)?.tags ?? state.loadBalancers.get(ref)?.tags ?? state.listeners.get(ref)?.tags;
  twin.handler('elastic-load-balancing-v2', 'AddTags', (input) => {
    for (const ref of input.ResourceArns) for (const t of input.Tags) tagsOf(ref)?.set(t.Key, t.Value);
    return {};
  });
  twin.handler('elastic-load-balancing-v2', 'DescribeTags', (input) => ({ TagDescriptions: (input.ResourceArns as string[]).map((ref) => ({ ResourceArn: ref, Tags: [...(tagsOf(ref) ?? [])].map(([Key, Value]) => ({ Key, Value })) })) }));
  return state;
}
