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
import * as R from '../../contract/routes/index.ts';
import { register } from '../route.ts';

const Named = EnvParams.extend({ name: Name });

export function registerResourceRoutes(api: Api, deps: PlatformDeps): void {
  register(api, R.listOrgEndpoints, async (c) => c.json(await listOrgEndpoints(deps, c.req.valid('param').org, c.req.valid('query')), 200),
  );
  register(api, R.listEndpoints, async (c) =>
    c.json({ endpoints: await listEndpoints(deps, c.req.valid('param')) }, 200),
  );
  register(api, R.getEndpoint, async (c) => {
    const { name, ...ref } = c.req.valid('param');
    const found = (await listEndpoints(deps, ref)).find((e) => e.name === name);
    if (!found) throw new NotFoundError('endpoint-not-found', `endpoint ${name} does not exist in ${ref.env}`, { next: ['berth endpoints list'] });
    return c.json({ endpoint: found }, 200);
  });
  register(api, R.putEndpoint, async (c) => {
    const { name, ...ref } = c.req.valid('param');
    return c.json({ receipt: await changeEndpoint(deps, ref, name, 'put', c.req.valid('json'), c.get('actor')) }, 202);
  });
  register(api, R.deleteEndpoint, async (c) => {
    const { name, ...ref } = c.req.valid('param');
    return c.json({ receipt: await changeEndpoint(deps, ref, name, 'delete', undefined, c.get('actor')) }, 202);
  });

  register(api, R.listVolumes, async (c) =>
    c.json({ volumes: await listVolumes(deps, c.req.valid('param')) }, 200),
  );
  register(api, R.getVolume, async (c) => {
    const { name, ...ref } = c.req.valid('param');
    const found = (await listVolumes(deps, ref)).find((v) => v.name === name);
    if (!found) throw new NotFoundError('volume-not-found', `volume ${name} does not exist in ${ref.env}`, { next: ['berth volumes list'] });
    return c.json({ volume: found }, 200);
  });
  register(api, R.createVolume, async (c) => {
    const { name, ...ref } = c.req.valid('param');
    const { fromSnapshot, ...volume } = c.req.valid('json');
    return c.json({ receipt: await changeVolume(deps, ref, name, 'create', volume, c.get('actor'), { snapshot: fromSnapshot }) }, 202);
  });
  register(api, R.resizeVolume, async (c) => {
    const { name, ...ref } = c.req.valid('param');
    return c.json({ receipt: await changeVolume(deps, ref, name, 'resize', c.req.valid('json'), c.get('actor')) }, 202);
  });
  register(api, R.createVolumeSnapshot, async (c) => {
      const { name, ...ref } = c.req.valid('param');
      return c.json({ receipt: await changeVolume(deps, ref, name, 'snapshot', {}, c.get('actor'), { stop: c.req.valid('json').stop }) }, 202);
    },
  );
  register(api, R.restoreVolume, async (c) => {
      const { name, ...ref } = c.req.valid('param');
      return c.json({ receipt: await changeVolume(deps, ref, name, 'restore', {}, c.get('actor'), { snapshot: c.req.valid('json').snapshot }) }, 202);
    },
  );
  register(api, R.deleteVolume, async (c) => {
    const { name, ...ref } = c.req.valid('param');
    return c.json({ receipt: await changeVolume(deps, ref, name, 'delete', {}, c.get('actor')) }, 202);
  });

  register(api, R.destroyEnv, async (c) => c.json({ receipt: await destroyEnv(deps, c.req.valid('param'), c.get('actor'), { purgeVolumes: c.req.valid('query')['purge-volumes'] === 'true' }) }, 202),
  );
}
