// Endpoints created, changed and deleted through the API. They live on the env, apply to every
// release, and are listed with the manifest's endpoints.
import { Endpoint as EndpointSchema, type Endpoint } from '../../contract/manifest.ts';
import { ConflictError, InvalidInputError, NotFoundError } from '../errors.ts';
import { endpointNotes } from '../../contract/endpoint-notes.ts';
import type { EndpointReceipt, EndpointView } from '../../contract/responses.ts';
import { effectiveEndpoints } from '../desired.ts';
import type { Env } from '../model.ts';
import type { EnvRef } from '../ports.ts';
import type { Actor, PlatformDeps } from './deps.ts';
import { requireEnv, requireOrg } from './hierarchy.ts';
import { envLabel, startOperation } from './operations.ts';

export type { EndpointView };

export async function listEndpoints(deps: PlatformDeps, ref: EnvRef): Promise<EndpointView[]> {
  return endpointsOfEnv(deps, ref, await requireEnv(deps.store, ref));
}

async function endpointsOfEnv(deps: PlatformDeps, ref: EnvRef, env: Env): Promise<EndpointView[]> {
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
/** Apps whose endpoints one page of the org-wide list covers, and how many are read at once. */
export const ORG_ENDPOINTS_PAGE = { default: 100, max: 500 };
const APPS_AT_ONCE = 8;

/**
 * Every endpoint of every live env of the org, a page of apps at a time (ordered by project, then
 * app); `next` is the cursor (`project/app`) of the following page, null on the last.
 */
export async function listOrgEndpoints(deps: PlatformDeps, org: string, page: { limit?: number; after?: string } = {}): Promise<{ endpoints: (EndpointView & { env: string })[]; next: string | null }> {
  await requireOrg(deps.store, org);
  const limit = page.limit ?? ORG_ENDPOINTS_PAGE.default;
  const apps: { project: string; app: string }[] = [];
  let more = false;
  for (const project of [...(await deps.store.listProjects(org))].sort((a, b) => a.name.localeCompare(b.name))) {
    if (page.after && project.name < page.after.split('/')[0]) continue;
    for (const app of [...(await deps.store.listApps(org, project.name))].sort((a, b) => a.name.localeCompare(b.name))) {
      if (page.after && `${project.name}/${app.name}` <= page.after) continue;
      if (apps.length === limit) {
        more = true;
        break;
      }
      apps.push({ project: project.name, app: app.name });
    }
    if (more) break;
  }
  const perApp: (EndpointView & { env: string })[][] = [];
  for (let i = 0; i < apps.length; i += APPS_AT_ONCE) {
    perApp.push(
      ...(await Promise.all(
        apps.slice(i, i + APPS_AT_ONCE).map(async ({ project, app }) => {
          const out: (EndpointView & { env: string })[] = [];
          // The env items come with the listing: no second read per env.
          for (const env of await deps.store.listEnvs({ org, project, app })) {
            if (env.status === 'destroyed') continue;
            const ref = { org, project, app, env: env.env };
            for (const view of await endpointsOfEnv(deps, ref, env)) out.push({ env: envLabel(ref), ...view });
          }
          return out;
        }),
      )),
    );
  }
  const last = apps.at(-1);
  return { endpoints: perApp.flat(), next: more && last ? `${last.project}/${last.app}` : null };
}
