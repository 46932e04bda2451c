// The errors an instance's failures become: each says what went wrong, with what, and the fix.
import { existsSync } from 'node:fs';
import { WORKLOAD_DEFAULTS } from '../../contract/manifest.ts';
import { CapacityError, ConflictError, HealthCheckError, ImagePullError } from '../../core/errors.ts';
import { describeProbe } from './health-probe.ts';
import type { Instance } from './instance.ts';
import { argv, commandText } from './instance-spec.ts';

export function exitText(code: number | null, signal: string | null): string {
  return signal ? `killed by ${signal}` : `exited with code ${code}`;
}

export function spawnFailure(instance: Instance, err: NodeJS.ErrnoException): ImagePullError {
  const { workload, workloadName, workdir } = instance.spec;
  const command = commandText(workload.command);
  const cause = !existsSync(workdir)
    ? `the release's working directory ${workdir} does not exist; deploy the release again`
    : err.code === 'ENOENT'
      ? `"${argv(workload.command)[0]}" was found neither in the release directory nor on PATH; fix \`command\` in berth.yaml and deploy again`
      : `${err.message}; check that \`command\` in berth.yaml names an executable file`;
  return new ImagePullError('command-failed', `instance ${instance.id} of workload "${workloadName}" could not run \`${command}\`: ${cause}`, {
    details: { instance: instance.id, workload: workloadName, command, workdir, error: err.code },
    next: [`berth logs --instance ${instance.id}`],
    cause: err,
  });
}

// The sandbox launcher's own failures (launch.sh `die`), and env(1)'s for a command it cannot find.
const SANDBOX_FAILED = 125;
const NOT_FOUND = 127;

/**
 * An instance that exited before it was ever healthy: `health-check` (the release did not come
 * up; nothing was pulled), except a command the sandbox cannot find, which is the release's
 * content, as a missing executable in an image is (`image-pull`, like `spawnFailure`).
 */
export function exitedFailure(instance: Instance, code: number | null, signal: NodeJS.Signals | null, sandboxed = false): HealthCheckError | ImagePullError {
  const { workload, workloadName } = instance.spec;
  const command = commandText(workload.command);
  const stderr = instance.stderrTail.length ? `last stderr lines:\n  ${instance.stderrTail.join('\n  ')}` : 'it wrote nothing to stderr';
  const options = {
    details: { instance: instance.id, workload: workloadName, command, exitCode: code, signal, stderr: [...instance.stderrTail] },
    next: [`berth logs --instance ${instance.id}`],
  };
  const notFound = sandboxed && !signal && code === NOT_FOUND && instance.stderrTail.some((l) => /No such file or directory|not found/.test(l));
  if (notFound) {
    return new ImagePullError(
      'command-failed',
      `instance ${instance.id} of workload "${workloadName}" could not run \`${command}\`: "${argv(workload.command)[0]}" was found neither in the release (/app) nor on the sandbox's PATH (the system's /usr/bin and /bin); use a path relative to the release, e.g. ./server, or a program the machine has installed; ${stderr}`,
      options,
    );
  }
  const hint =
    sandboxed && !signal && code === SANDBOX_FAILED && instance.stderrTail.some((l) => l.startsWith('berth sandbox:'))
      ? '; the sandbox could not be set up (see the stderr lines), which is a fault of the platform or the machine rather than of the release'
      : '';
  return new HealthCheckError('exited-before-healthy', `instance ${instance.id} of workload "${workloadName}" ${exitText(code, signal)} before it became healthy (command \`${command}\`)${hint}; ${stderr}`, options);
}

export function outOfMemory(instance: Instance): CapacityError {
  const { workload, workloadName } = instance.spec;
  const limit = workload.memory ?? WORKLOAD_DEFAULTS.memory;
  return new CapacityError(
    'memory-exceeded',
    `instance ${instance.id} of workload "${workloadName}" was killed for using more than its memory limit of ${limit} MiB (files it writes to /app, /tmp and /dev/shm count too); raise \`memory\` in berth.yaml (with a matching \`cpu\`) or make the app use less`,
    {
      details: { instance: instance.id, workload: workloadName, memoryMiB: limit },
      next: [`berth logs --instance ${instance.id}`],
    },
  );
}

export function neverHealthy(instance: Instance, deadline: number): HealthCheckError {
  const { workloadName } = instance.spec;
  const plan = instance.plan;
  const seconds = deadline / 1000;
  const probe = plan ? describeProbe(plan) : 'uptime';
  const hostPort = plan ? ` (host port ${instance.addresses[plan.containerPort].port})` : '';
  const last = instance.lastProbeError ? `last probe error: ${instance.lastProbeError}` : 'no probe had completed';
  return new HealthCheckError(
    'never-healthy',
    `instance ${instance.id} of workload "${workloadName}" was not healthy within ${seconds}s: probe ${probe}${hostPort}, ${last}; make the app answer the probe on $PORT, or raise healthCheck.deadlineSeconds if it needs longer to start`,
    {
      details: { instance: instance.id, workload: workloadName, probe, lastProbeError: instance.lastProbeError, deadlineSeconds: seconds, state: instance.state },
      next: [`berth logs --instance ${instance.id}`],
    },
  );
}

export function stoppedWhileWaiting(instance: Instance): ConflictError {
  return new ConflictError('instance-stopped', `instance ${instance.id} was stopped while waiting for it to become healthy; another change to the env is probably under way`, {
    details: { instance: instance.id },
    next: ['berth status'],
  });
}
