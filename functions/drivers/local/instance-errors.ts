// The errors an instance's failures become: each says what went wrong, with what, and the fix.
import { existsSync } from 'node:fs';
import { ConflictError, HealthCheckError, ImagePullError } from '../../core/errors.ts';
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

export function exitedFailure(instance: Instance, code: number | null, signal: NodeJS.Signals | null): ImagePullError {
  const { workload, workloadName } = instance.spec;
  const command = commandText(workload.command);
  const stderr = instance.stderrTail.length ? `last stderr lines:\n  ${instance.stderrTail.join('\n  ')}` : 'it wrote nothing to stderr';
  return new ImagePullError('command-failed', `instance ${instance.id} of workload "${workloadName}" ${exitText(code, signal)} before it became healthy (command \`${command}\`); ${stderr}`, {
    details: { instance: instance.id, workload: workloadName, command, exitCode: code, signal, stderr: [...instance.stderrTail] },
    next: [`berth logs --instance ${instance.id}`],
  });
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
