import { DeployBody, EnvParams, RollbackBody, ScaleBody } from '../../contract/api.ts';
import { deploy, rollback } from '../../core/services/deploys.ts';
import type { PlatformDeps } from '../../core/services/deps.ts';
import { scale } from '../../core/services/scale.ts';
import type { Api } from '../app.ts';
import { route } from '../route.ts';

const ENV = '/orgs/{org}/projects/{project}/apps/{app}/envs/{env}';

export function registerDeployRoutes(api: Api, deps: PlatformDeps): void {
  api.openapi(
    route({
      method: 'post',
      path: `${ENV}/deploys`,
      summary: 'Deploy: create a release and start rolling it out',
      permission: 'deploy', tag: 'deploys',
      params: EnvParams,
      body: DeployBody,
      status: 202,
      returns: 'The receipt: release id, operation id, diff summary and follow-ups. The rollout continues in the background.',
    }),
    async (c) => {
      const receipt = await deploy(deps, c.req.valid('param'), c.req.valid('json'), c.get('actor'));
      return c.json({ receipt }, receipt.dryRun ? 200 : 202);
    },
  );

  api.openapi(
    route({
      method: 'post',
      path: `${ENV}/rollbacks`,
      summary: 'Roll back: point the env at an earlier release (its code, config and secret versions); nothing is rebuilt',
      permission: 'deploy', tag: 'deploys',
      params: EnvParams,
      body: RollbackBody,
      status: 202,
    }),
    async (c) => c.json({ receipt: await rollback(deps, c.req.valid('param'), c.req.valid('json'), c.get('actor')) }, 202),
  );

  api.openapi(
    route({ method: 'post', path: `${ENV}/scale`, summary: 'Scale a workload: count (min/max), cpu, memory; kept across releases', permission: 'deploy', tag: 'scale', params: EnvParams, body: ScaleBody, status: 202 }),
    async (c) => c.json({ receipt: await scale(deps, c.req.valid('param'), c.req.valid('json'), c.get('actor')) }, 202),
  );
}
