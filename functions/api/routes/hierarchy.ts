import { AppParams, CreateNamed, OrgParams, ProjectParams } from '../../contract/api.ts';
import type { TokenRecord } from '../../core/model.ts';
import type { PlatformDeps } from '../../core/services/deps.ts';
import { createEnvWithResources } from '../../core/services/envs.ts';
import { createApp, createOrg, createProject, requireApp, requireOrg, requireProject, visibleOrgs } from '../../core/services/hierarchy.ts';
import type { Api } from '../app.ts';
import * as R from '../../contract/routes/index.ts';
import { register } from '../route.ts';

export function registerHierarchyRoutes(api: Api, deps: PlatformDeps): void {
  const { store } = deps;
  register(api, R.activateCostAllocationTags, async (c) => {
      const result = await deps.billing.activate();
      return c.json({ ...result, next: result.notYetSeen.length ? ['AWS lists a tag key only after a resource carried it: run this again after the first deploy'] : ['Cost Explorer → group by tag berth:app'] }, 200);
    },
  );

  register(api, R.getWhoami, (c) => {
    const t = c.get('token');
    return c.json({ actor: c.get('actor'), token: { id: t.id, name: t.name, kind: t.kind, principal: t.principal, org: t.org ?? null, role: t.role ?? null, expiresAt: t.expiresAt ?? null } }, 200);
  });

  register(api, R.createOrg, async (c) => {
    const org = await createOrg(store, c.req.valid('json').name, c.get('actor'));
    return c.json({ org, ...(await sharingWarning(deps, c.get('token'))) }, 201);
  });
  register(api, R.listOrgs, async (c) => c.json({ orgs: await visibleOrgs(store, c.get('token')) }, 200));

  register(api, R.createProject, async (c) => {
    const { org } = c.req.valid('param');
    return c.json({ project: await createProject(store, org, c.req.valid('json').name, c.get('actor')) }, 201);
  });
  register(api, R.listProjects, async (c) => {
    const { org } = c.req.valid('param');
    await requireOrg(store, org);
    return c.json({ projects: await store.listProjects(org) }, 200);
  });

  register(api, R.createApp, async (c) => {
    const { org, project } = c.req.valid('param');
    return c.json({ app: await createApp(store, org, project, c.req.valid('json').name, c.get('actor')) }, 201);
  });
  register(api, R.listApps, async (c) => {
    const { org, project } = c.req.valid('param');
    await requireProject(store, org, project);
    return c.json({ apps: await store.listApps(org, project) }, 200);
  });

  register(api, R.createEnv, async (c) => {
    const p = c.req.valid('param');
    const { env, operationId } = await createEnvWithResources(deps, { ...p, env: c.req.valid('json').name }, c.get('actor'));
    return c.json({ env, operationId }, 201);
  });
  register(api, R.listEnvs, async (c) => {
    const p = c.req.valid('param');
    await requireApp(store, p);
    return c.json({ envs: await store.listEnvs(p) }, 200);
  });
}

/**
 * A second org on a platform whose instances are not sandboxed shares more than a machine: each
 * org's code can read the other's secrets and volumes. Said when it is created, never hidden.
 */
async function sharingWarning(deps: PlatformDeps, token: TokenRecord): Promise<{ warnings?: string[] }> {
  if (!deps.isolation || deps.isolation.isolated) return {};
  const orgs = await visibleOrgs(deps.store, token);
  if (orgs.length < 2) return {};
  return { warnings: [`${deps.isolation.summary} (this platform now has ${orgs.length} orgs)`] };
}
