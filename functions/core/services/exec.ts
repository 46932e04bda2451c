// `berth exec`: checks the instance is running in this env, then asks the platform's exec gateway
// for a session (a WebSocket ticket embedded, an ECS Exec session on AWS).
import { JOINABLE_STATES } from '../../contract/exec.ts';
import type { ExecSessionReceipt } from '../../contract/responses.ts';
import { NotFoundError } from '../errors.ts';
import type { EnvRef } from '../ports.ts';
import type { Actor, PlatformDeps } from './deps.ts';
import { requireEnv } from './hierarchy.ts';

export async function openExecSession(deps: PlatformDeps, ref: EnvRef, request: { instance: string; argv: string[]; tty: boolean }, actor: Actor): Promise<ExecSessionReceipt> {
  await requireEnv(deps.store, ref);
  const instances = await deps.compute.list(ref);
  const instance = instances.find((i) => i.id === request.instance);
  if (!instance || !JOINABLE_STATES.has(instance.state)) {
    const running = instances.filter((i) => JOINABLE_STATES.has(i.state)).map((i) => i.id);
    throw new NotFoundError('instance-not-running', `instance ${request.instance} is not running in ${ref.env}${running.length ? ` (running: ${running.join(', ')})` : ' (no instance is running)'}`, {
      details: { instance: request.instance, running },
      next: running.length ? running.map((id) => `berth exec --instance ${id} -- ${request.argv[0]}`) : ['berth status', 'berth deploy --wait'],
    });
  }
  const channel = await deps.exec.open(ref, instance, request);
  // The program only: arguments may carry values that must not end up in the event history.
  await deps.events.record(ref, { type: 'exec.started', workload: instance.workload, instance: instance.id, message: `${actor.name} started ${request.argv[0]}${request.tty ? ' (tty)' : ''} in ${instance.id}` });
  return { instance: instance.id, workload: instance.workload, release: instance.releaseId, channel };
}
