// Endpoints and volumes of an env, and destroying an env: each change is an operation (202).
import { z } from 'zod';
import { EnvDestroyQuery, EnvParams, OrgEndpointsQuery, OrgParams, RestoreBody, VolumeCreateBody, SnapshotBody } from '../../contract/api.ts';
import { Endpoint, Name, Volume } from '../../contract/manifest.ts';
import { NotFoundError } from '../../core/errors.ts';
import type { PlatformDeps } from '../../core/services/deps.ts';
import { changeEndpoint, listEndpoints, listOrgEndpoints } from '../../core/services/endpoints.ts';
import { destroyEnv } from '../../core/services/envs.ts';
import { changeVolume, listVolumes } from '../../core/services/volumes.ts';
import type { Api } from '../app.ts';
import { route } from '../route.ts';

const ENV = '/orgs/{org}/projects/{project}/apps/{app}/envs/{env}';
const Named = EnvParams.extend({ name: Name });

export function registerResourceRoutes(api: Api, deps: PlatformDeps): void {
  api.openapi(
    route({ method: 'get', path: '/orgs/{org}/endpoints', summary: 'What is exposed to the internet: every endpoint of every env of the org, a page of apps at a time (`next` → `after`)', permission: 'read', tag: 'endpoints', params: OrgParams, query: OrgEndpointsQuery }),
    async (c) => c.json(await listOrgEndpoints(deps, c.req.valid('param').org, c.req.valid('query')), 200),
  );
  api.openapi(route({ method: 'get', path: `${ENV}/endpoints`, summary: 'Endpoints of the env (manifest and API), with addresses and targets', permission: 'read', tag: 'endpoints', params: EnvParams }), async (c) =>
    c.json({ endpoints: await listEndpoints(deps, c.req.valid('param')) }, 200),
  );
  api.openapi(route({ method: 'get', path: `${ENV}/endpoints/{name}`, summary: 'One endpoint', permission: 'read', tag: 'endpoints', params: Named }), async (c) => {
    const { name, ...ref } = c.req.valid('param');
    const found = (await listEndpoints(deps, ref)).find((e) => e.name === name);
    if (!found) throw new NotFoundError('endpoint-not-found', `endpoint ${name} does not exist in ${ref.env}`, { next: ['berth endpoints list'] });
    return c.json({ endpoint: found }, 200);
  });
  api.openapi(route({ method: 'put', path: `${ENV}/endpoints/{name}`, summary: 'Create or update an endpoint outside the manifest', permission: 'admin', tag: 'endpoints', params: Named, body: Endpoint, status: 202 }), async (c) => {
    const { name, ...ref } = c.req.valid('param');
    return c.json({ receipt: await changeEndpoint(deps, ref, name, 'put', c.req.valid('json'), c.get('actor')) }, 202);
  });
  api.openapi(route({ method: 'delete', path: `${ENV}/endpoints/{name}`, summary: 'Delete an endpoint created through the API', permission: 'admin', tag: 'endpoints', params: Named, status: 202 }), async (c) => {
    const { name, ...ref } = c.req.valid('param');
    return c.json({ receipt: await changeEndpoint(deps, ref, name, 'delete', undefined, c.get('actor')) }, 202);
  });

  api.openapi(route({ method: 'get', path: `${ENV}/volumes`, summary: 'Volumes of the env, with placement and available operations', permission: 'read', tag: 'volumes', params: EnvParams }), async (c) =>
    c.json({ volumes: await listVolumes(deps, c.req.valid('param')) }, 200),
  );
  api.openapi(route({ method: 'get', path: `${ENV}/volumes/{name}`, summary: 'One volume, its snapshots and what can be done with it', permission: 'read', tag: 'volumes', params: Named }), async (c) => {
    const { name, ...ref } = c.req.valid('param');
    const found = (await listVolumes(deps, ref)).find((v) => v.name === name);
    if (!found) throw new NotFoundError('volume-not-found', `volume ${name} does not exist in ${ref.env}`, { next: ['berth volumes list'] });
    return c.json({ volume: found }, 200);
  });
  api.openapi(route({ method: 'put', path: `${ENV}/volumes/{name}`, summary: 'Create a volume', permission: 'admin', tag: 'volumes', params: Named, body: VolumeCreateBody, status: 202 }), async (c) => {
    const { name, ...ref } = c.req.valid('param');
    const { fromSnapshot, ...volume } = c.req.valid('json');
    return c.json({ receipt: await changeVolume(deps, ref, name, 'create', volume, c.get('actor'), { snapshot: fromSnapshot }) }, 202);
  });
  api.openapi(route({ method: 'patch', path: `${ENV}/volumes/{name}`, summary: 'Resize a volume (grow only)', permission: 'admin', tag: 'volumes', params: Named, body: z.object({ sizeGiB: Volume.shape.sizeGiB }).strict(), status: 202 }), async (c) => {
    const { name, ...ref } = c.req.valid('param');
    return c.json({ receipt: await changeVolume(deps, ref, name, 'resize', c.req.valid('json'), c.get('actor')) }, 202);
  });
  api.openapi(
    route({ method: 'post', path: `${ENV}/volumes/{name}/snapshots`, summary: 'Take a snapshot of a volume (stop: true stops its writers for a consistent copy)', permission: 'admin', tag: 'volumes', params: Named, body: SnapshotBody, status: 202 }),
    async (c) => {
      const { name, ...ref } = c.req.valid('param');
      return c.json({ receipt: await changeVolume(deps, ref, name, 'snapshot', {}, c.get('actor'), { stop: c.req.valid('json').stop }) }, 202);
    },
  );
  api.openapi(
    route({ method: 'post', path: `${ENV}/volumes/{name}/restores`, summary: "Restore a volume from one of its snapshots: its writers stop, the data is replaced, they start again", permission: 'admin', tag: 'volumes', params: Named, body: RestoreBody, status: 202 }),
    async (c) => {
      const { name, ...ref } = c.req.valid('param');
      return c.json({ receipt: await changeVolume(deps, ref, name, 'restore', {}, c.get('actor'), { snapshot: c.req.valid('json').snapshot }) }, 202);
    },
  );
  api.openapi(route({ method: 'delete', path: `${ENV}/volumes/{name}`, summary: 'Delete a volume and its snapshots (refused while a workload mounts it)', permission: 'admin', tag: 'volumes', params: Named, status: 202 }), async (c) => {
    const { name, ...ref } = c.req.valid('param');
    return c.json({ receipt: await changeVolume(deps, ref, name, 'delete', {}, c.get('actor')) }, 202);
  });

  api.openapi(
    route({ method: 'delete', path: ENV, summary: 'Destroy an env: stop its instances, delete its endpoints, secrets and network resources; volumes are kept unless purge-volumes=true; history is kept', permission: 'admin', tag: 'envs', params: EnvParams, query: EnvDestroyQuery, status: 202 }),
    async (c) => c.json({ receipt: await destroyEnv(deps, c.req.valid('param'), c.get('actor'), { purgeVolumes: c.req.valid('query')['purge-volumes'] === 'true' }) }, 202),
  );
}
