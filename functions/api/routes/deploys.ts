import { DeployBody, EnvParams } from '../../contract/api.ts';
import { deploy } from '../../core/services/deploys.ts';
import type { PlatformDeps } from '../../core/services/deps.ts';
import type { Api } from '../app.ts';
import { route } from '../route.ts';

const ENV = '/orgs/{org}/projects/{project}/apps/{app}/envs/{env}';

export function registerDeployRoutes(api: Api, deps: PlatformDeps): void {
  api.openapi(
    route({
      method: 'post',
      path: `${ENV}/deploys`,
      summary: 'Deploy: create a release and start rolling it out',
      tag: 'deploys',
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
}
