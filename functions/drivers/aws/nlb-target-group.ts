// Target-group details: the health check from the workload's, and the endpoint's settings kept
// as tags so `list` can answer with the endpoint as declared (a target group's port is fixed at
// creation; the listener's port and these tags are what is current).
import type { Endpoint, HealthCheck } from '../../contract/manifest.ts';
import { HEALTH_DEFAULTS } from '../../contract/manifest.ts';
import { ENDPOINT_TAG } from './nlb-security-group.ts';

/** Seconds a deregistered target drains (300 by default): old instances leave within a rollout step. */
export const DEREGISTRATION_DELAY_SECONDS = 10;

export interface TargetTiming {
  intervalMs: number;
  /** Registration ("a few minutes" before checks start) plus HealthyThresholdCount passed checks. */
  healthyTimeoutMs: number;
  /** The deregistration delay and a margin. */
  drainTimeoutMs: number;
}

export const TARGET_TIMING: TargetTiming = { intervalMs: 5000, healthyTimeoutMs: 8 * 60_000, drainTimeoutMs: (DEREGISTRATION_DELAY_SECONDS + 120) * 1000 };

const clamp = (v: number, min: number, max: number): number => Math.min(max, Math.max(min, Math.round(v)));

/** NLB target-group health check: tcp or http, within the NLB's bounds (interval 5–300 s, timeout 2–120 s). */
export function healthCheckSettings(targetPort: number, check?: HealthCheck) {
  const port = check?.port ?? targetPort;
  return {
    HealthCheckEnabled: true,
    HealthCheckProtocol: check?.type === 'http' ? ('HTTP' as const) : ('TCP' as const),
    HealthCheckPort: port === targetPort ? 'traffic-port' : String(port),
    ...(check?.type === 'http' ? { HealthCheckPath: check.path ?? HEALTH_DEFAULTS.path, Matcher: { HttpCode: '200-399' } } : {}),
    HealthCheckIntervalSeconds: clamp(check?.intervalSeconds ?? 10, 5, 300),
    HealthCheckTimeoutSeconds: clamp(check?.timeoutSeconds ?? HEALTH_DEFAULTS.timeoutSeconds, 2, 120),
    HealthyThresholdCount: 2,
    UnhealthyThresholdCount: 2,
  };
}

export function endpointTags(name: string, endpoint: Endpoint): Record<string, string> {
  return {
    [ENDPOINT_TAG]: name,
    'berth:workload': endpoint.workload,
    'berth:target-port': String(endpoint.targetPort ?? endpoint.port),
    'berth:ipv4': String(endpoint.ipv4 === true),
    'berth:proxy-protocol': endpoint.proxyProtocol ?? 'none',
  };
}

export function endpointFromTags(tags: Record<string, string>, port: number): { name: string; endpoint: Endpoint } | undefined {
  const name = tags[ENDPOINT_TAG];
  const workload = tags['berth:workload'];
  if (!name || !workload) return undefined;
  const endpoint: Endpoint = { workload, protocol: 'tcp', port };
  const targetPort = Number(tags['berth:target-port']);
  if (targetPort && targetPort !== port) endpoint.targetPort = targetPort;
  if (tags['berth:ipv4'] === 'true') endpoint.ipv4 = true;
  if (tags['berth:proxy-protocol'] === 'v2') endpoint.proxyProtocol = 'v2';
  return { name, endpoint };
}
