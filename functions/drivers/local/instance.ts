// One supervised instance as the process driver tracks it, and how it is reported.
import type { BerthError } from '../../core/errors.ts';
import type { EnvRef, InstanceSpec, InstanceState, InstanceStatus } from '../../core/ports.ts';
import { probePlan, type ProbePlan } from './health-probe.ts';
import type { InstanceCgroup } from './sandbox/cgroups.ts';

export interface Instance {
  readonly id: string;
  readonly spec: InstanceSpec;
  readonly envKey: string;
  readonly addresses: Record<number, { host: string; port: number }>;
  readonly processEnv: Record<string, string>;
  readonly dir: string;
  /** The host uid its processes and files belong to (sandboxed on a root platform). */
  readonly uid?: number;
  /** The current run's resource limits, where they are enforced. */
  cgroup?: InstanceCgroup;
  readonly plan: ProbePlan | undefined;
  state: InstanceState;
  startedAt: string;
  startedAtMs: number;
  restarts: number;
  lastExit?: { code: number | null; signal: string | null; at: string };
  /** Bumped on every launch so results of an earlier process (probes, exits) are ignored. */
  generation: number;
  /** The spawned process: the command, or the sandbox launcher whose child is the sandbox's init. */
  pid?: number;
  running: boolean;
  exited: Promise<void>;
  everHealthy: boolean;
  /** Set the moment a stop is requested, so no exit counts as a crash and no restart follows. */
  stopRequested: boolean;
  stopped?: Promise<void>;
  probeFailures: number;
  lastProbeError?: string;
  stderrTail: string[];
  /** Whether the last run was killed by the kernel for going over its `memory`. */
  outOfMemory?: boolean;
  /** Why the instance could not start; set once it failed before ever being healthy. */
  failure?: BerthError;
  timer?: NodeJS.Timeout;
}

/** A prepared instance, not yet launched. */
export function newInstance(fields: Pick<Instance, 'id' | 'spec' | 'addresses' | 'processEnv' | 'dir' | 'uid'>): Instance {
  const now = new Date();
  return {
    ...fields,
    envKey: envKey(fields.spec.env),
    plan: probePlan(fields.spec.workload),
    state: 'starting',
    startedAt: now.toISOString(),
    startedAtMs: now.getTime(),
    restarts: 0,
    generation: 0,
    running: false,
    exited: Promise.resolve(),
    everHealthy: false,
    stopRequested: false,
    probeFailures: 0,
    stderrTail: [],
  };
}

export function statusOf(instance: Instance): InstanceStatus {
  const status: InstanceStatus = {
    id: instance.id,
    workload: instance.spec.workloadName,
    releaseId: instance.spec.releaseId,
    revision: instance.spec.revision,
    state: instance.state,
    startedAt: instance.startedAt,
    restarts: instance.restarts,
    addresses: structuredClone(instance.addresses),
  };
  if (instance.lastExit) status.lastExit = { ...instance.lastExit };
  // Only an instance that was healthy once gets restarted after a crash (see onExit).
  if (instance.state === 'crashed' && !instance.failure && !instance.stopRequested) status.restartScheduled = true;
  return status;
}

export function envKey(env: EnvRef): string {
  return `${env.org}/${env.project}/${env.app}/${env.env}`;
}
