// Bench-only compute driver: instances are healthy the moment they are started, and stop at once.
// Figure 1 measures the platform's overhead (API, store, state machine, endpoints), not how long
// `node server.mjs` takes to boot; everything else the ProcessDriver does on the way is kept: the
// same lifecycle events (which become Berth events in the store) and the same system log lines.
import type { EmbeddedCompute } from '../../functions/embedded/platform.ts';
import type { OrphanReport } from '../../functions/drivers/local/orphan-reaper.ts';
import type { ComputeEvent, EnvRef, InstanceSpec, InstanceStatus, LogStore } from '../../functions/core/ports.ts';

const envKey = (env: EnvRef): string => `${env.org}/${env.project}/${env.app}/${env.env}`;

export class InstantCompute implements EmbeddedCompute {
  private readonly instances = new Map<string, { key: string; spec: InstanceSpec; status: InstanceStatus }>();
  private readonly listeners = new Set<(event: ComputeEvent) => void>();
  private seq = 0;

  constructor(private readonly logs: LogStore) {}

  async startInstances(spec: InstanceSpec, count: number): Promise<string[]> {
    const ids: string[] = [];
    for (let i = 0; i < count; i++) {
      const id = `i-${(++this.seq).toString(16).padStart(8, '0')}`;
      // Port 9 (discard): nothing connects to it during the bench; endpoints only record targets.
      const addresses = Object.fromEntries((spec.workload.ports ?? []).map((p) => [p, { host: '127.0.0.1', port: 9 }]));
      const status: InstanceStatus = { id, workload: spec.workloadName, releaseId: spec.releaseId, revision: spec.revision, state: 'healthy', startedAt: new Date().toISOString(), restarts: 0, addresses };
      this.instances.set(id, { key: envKey(spec.env), spec, status });
      this.report(spec, id, 'instance.started', 'started (bench: no process)');
      this.report(spec, id, 'instance.healthy', 'healthy (bench: at once)');
      ids.push(id);
    }
    return ids;
  }

  async waitHealthy(): Promise<void> {}

  async stopInstances(env: EnvRef, instanceIds: string[]): Promise<void> {
    for (const id of instanceIds) {
      const instance = this.instances.get(id);
      if (!instance || instance.key !== envKey(env)) continue;
      this.instances.delete(id);
      this.report(instance.spec, id, 'instance.stopped', 'stopped (bench)');
    }
  }

  async list(env: EnvRef): Promise<InstanceStatus[]> {
    const key = envKey(env);
    return [...this.instances.values()].filter((i) => i.key === key).map((i) => ({ ...i.status }));
  }

  execLaunch(): undefined {
    return undefined;
  }

  onEvent(listener: (event: ComputeEvent) => void): () => void {
    this.listeners.add(listener);
    return () => {
      this.listeners.delete(listener);
    };
  }

  async destroyEnv(env: EnvRef): Promise<void> {
    await this.stopInstances(env, (await this.list(env)).map((i) => i.id));
  }

  async shutdown(): Promise<void> {
    this.instances.clear();
  }

  async reapOrphans(): Promise<OrphanReport> {
    return { removed: [], stopped: [] };
  }

  /** What the ProcessDriver does for each lifecycle fact: a system log line and a ComputeEvent. */
  private report(spec: InstanceSpec, instance: string, type: ComputeEvent['type'], message: string): void {
    this.logs.append(spec.env, { ts: new Date().toISOString(), source: 'system', workload: spec.workloadName, instance, level: 'info', message });
    for (const listener of [...this.listeners]) listener({ env: spec.env, type, workload: spec.workloadName, instance, releaseId: spec.releaseId, message });
  }
}
