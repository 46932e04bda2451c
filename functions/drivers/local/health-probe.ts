// Health probes against an instance's host port, as the embedded stand-in for an NLB target-group
// health check: tcp (a connection is accepted) or http (a GET answers 2xx/3xx).
import http from 'node:http';
import net from 'node:net';
import { HEALTH_DEFAULTS, type Workload } from '../../contract/manifest.ts';

export interface ProbePlan {
  type: 'tcp' | 'http';
  /** Container port as declared in the manifest; mapped to a host port per instance. */
  containerPort: number;
  path: string;
  intervalMs: number;
  timeoutMs: number;
}

export type ProbeResult = { ok: true } | { ok: false; error: string };

/**
 * How an instance of the workload is judged healthy: its health check; else a tcp probe of its first
 * port; else `undefined`, meaning it is healthy once the process has stayed up for a moment.
 */
export function probePlan(workload: Workload): ProbePlan | undefined {
  const check = workload.healthCheck;
  const containerPort = check?.port ?? workload.ports?.[0];
  if (containerPort === undefined) return undefined;
  return {
    type: check?.type ?? 'tcp',
    containerPort,
    path: check?.path ?? HEALTH_DEFAULTS.path,
    intervalMs: (check?.intervalSeconds ?? HEALTH_DEFAULTS.intervalSeconds) * 1000,
    timeoutMs: (check?.timeoutSeconds ?? HEALTH_DEFAULTS.timeoutSeconds) * 1000,
  };
}

/** How long a new instance has to become healthy before its rollout fails. */
export function deadlineMs(workload: Workload): number {
  return (workload.healthCheck?.deadlineSeconds ?? HEALTH_DEFAULTS.deadlineSeconds) * 1000;
}

/** Human description used in errors and system log lines, e.g. `http GET :8080/healthz`. */
export function describeProbe(plan: ProbePlan): string {
  return plan.type === 'http' ? `http GET :${plan.containerPort}${plan.path}` : `tcp :${plan.containerPort}`;
}

export function runProbe(plan: ProbePlan, host: string, port: number): Promise<ProbeResult> {
  return plan.type === 'http' ? probeHttp(host, port, plan.path, plan.timeoutMs) : probeTcp(host, port, plan.timeoutMs);
}

function probeTcp(host: string, port: number, timeoutMs: number): Promise<ProbeResult> {
  return new Promise((resolve) => {
    const socket = net.connect({ host, port });
    const timer = setTimeout(() => finish({ ok: false, error: `no connection within ${timeoutMs / 1000}s` }), timeoutMs);
    function finish(result: ProbeResult): void {
      clearTimeout(timer);
      socket.destroy();
      resolve(result);
    }
    socket.once('connect', () => finish({ ok: true }));
    socket.once('error', (err) => finish({ ok: false, error: err.message }));
  });
}

function probeHttp(host: string, port: number, path: string, timeoutMs: number): Promise<ProbeResult> {
  return new Promise((resolve) => {
    let settled = false;
    // No keep-alive agent: a pooled socket would outlive the probe and keep the app's server busy.
    const req = http.get({ host, port, path, agent: false, headers: { connection: 'close', 'user-agent': 'berth-health-check' } });
    const timer = setTimeout(() => {
      finish({ ok: false, error: `no answer within ${timeoutMs / 1000}s` });
      req.destroy();
    }, timeoutMs);
    function finish(result: ProbeResult): void {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      resolve(result);
    }
    req.once('response', (res) => {
      res.resume();
      const status = res.statusCode ?? 0;
      finish(status >= 200 && status < 400 ? { ok: true } : { ok: false, error: `answered HTTP ${status}` });
    });
    req.once('error', (err) => finish({ ok: false, error: err.message }));
  });
}
