// Endpoints created, changed and deleted through the API. They live on the env, apply to every
// release, and are listed with the manifest's endpoints.
import { Endpoint as EndpointSchema, type Endpoint } from '../../contract/manifest.ts';
import { ConflictError, InvalidInputError, NotFoundError } from '../errors.ts';
import { endpointNotes } from '../../contract/endpoint-notes.ts';
import type { EndpointReceipt, EndpointView } from '../../contract/responses.ts';
import { effectiveEndpoints } from '../desired.ts';
import type { EnvRef } from '../ports.ts';
import type { Actor, PlatformDeps } from './deps.ts';
import { requireEnv, requireOrg } from './hierarchy.ts';
import { envLabel, startOperation } from './operations.ts';

export type { EndpointView };

export async function listEndpoints(deps: PlatformDeps, ref: EnvRef): Promise<EndpointView[]> {
  const env = await requireEnv(deps.store, ref);
  const release = env.currentReleaseId ? await deps.store.getRelease(ref, env.currentReleaseId) : undefined;
  const live = new Map((await deps.endpoints.list(ref)).map((e) => [e.name, e]));
  const declared = { ...(env.endpoints ?? {}), ...effectiveEndpoints(release, env) };
  return Object.entries(declared)
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([name, endpoint]) => ({
      name,
      source: release?.manifest.endpoints?.[name] ? 'manifest' : 'api',
      endpoint,
      listeners: live.get(name)?.binding.listeners ?? [],
      targets: live.get(name)?.targets.map((t) => t.instance) ?? [],
      notes: [...endpointNotes(endpoint), ...(live.get(name)?.binding.notes ?? [])],
    }));
}

/** `put` creates the endpoint or updates the one the API created before; `delete` removes it. */
export async function changeEndpoint(deps: PlatformDeps, ref: EnvRef, name: string, request: 'put' | 'delete', input: Endpoint | undefined, actor: Actor): Promise<EndpointReceipt> {
  const env = await requireEnv(deps.store, ref);
  const release = env.currentReleaseId ? await deps.store.getRelease(ref, env.currentReleaseId) : undefined;
  if (release?.manifest.endpoints?.[name]) {
    throw new ConflictError('endpoint-in-manifest', `endpoint ${name} is declared in berth.yaml of ${release.id}; change it there and deploy`, { next: ['berth deploy'] });
  }
  const previous = env.endpoints?.[name];
  const action = request === 'delete' ? 'delete' : previous ? 'update' : 'create';
  if (action === 'delete' && !previous) throw new NotFoundError('endpoint-not-found', `endpoint ${name} does not exist in ${ref.env}`, { next: ['berth endpoints list'] });
  let endpoint: Endpoint | undefined;
  if (input) {
    const parsed = EndpointSchema.safeParse(input);
    if (!parsed.success) throw new InvalidInputError('endpoint-invalid', parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; '));
    endpoint = parsed.data;
    if (release && !(endpoint.workload in release.manifest.workloads)) {
      throw new InvalidInputError('endpoint-workload-unknown', `workload "${endpoint.workload}" is not in ${release.id}; use one of ${Object.keys(release.manifest.workloads).join(', ')}`, { details: { path: 'workload', value: endpoint.workload } });
    }
    const port = endpoint.targetPort ?? endpoint.port;
    const ports = release?.manifest.workloads[endpoint.workload]?.ports ?? [];
    if (release && !ports.includes(port)) {
      throw new InvalidInputError('endpoint-port-unknown', `workload "${endpoint.workload}" does not listen on ${port}; set targetPort to one of [${ports.join(', ')}]`, { details: { path: 'targetPort', value: port } });
    }
  }
  const operationId = await startOperation(
    deps,
    env,
    {
      kind: 'endpoint',
      previousReleaseId: env.currentReleaseId,
      endpointChange: { name, action, ...(endpoint ? { endpoint } : {}), ...(previous ? { previous } : {}) },
      prepare: async (opId) => ({ releaseId: env.currentReleaseId ?? '', acceptedMessage: `endpoint ${opId} accepted: ${action} ${name} by ${actor.name}` }),
    },
    actor,
  );
  return { accepted: true, env: envLabel(ref), operationId, name, action, endpoint: endpoint ?? null, previous: previous ?? null, next: [`berth wait ${operationId}`, `berth endpoints show ${name}`] };
}

/** "What is exposed to the internet?": every endpoint of every env of the org, with its env. */
export async function listOrgEndpoints(deps: PlatformDeps, org: string): Promise<(EndpointView & { env: string })[]> {
  await requireOrg(deps.store, org);
  const out: (EndpointView & { env: string })[] = [];
  for (const project of await deps.store.listProjects(org)) {
    for (const app of await deps.store.listApps(org, project.name)) {
      for (const env of await deps.store.listEnvs({ org, project: project.name, app: app.name })) {
        if (env.status === 'destroyed') continue;
        const ref = { org, project: project.name, app: app.name, env: env.env };
        for (const view of await listEndpoints(deps, ref)) out.push({ env: envLabel(ref), ...view });
      }
    }
  }
  return out;
}
