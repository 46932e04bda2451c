import { DeployBody, EnvParams, OperationId, RollbackBody, ScaleBody } from '../../contract/api.ts';
import { deploy, rollback } from '../../core/services/deploys.ts';
import type { PlatformDeps } from '../../core/services/deps.ts';
import { cancelOperation } from '../../core/services/operations.ts';
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

  api.openapi(
    route({
      method: 'post',
      path: `${ENV}/operations/{operation}/cancel`,
      summary: 'Cancel a running operation: it ends through its compensation (what it changed is put back) as `cancelled`',
      permission: 'deploy', tag: 'operations',
      params: EnvParams.extend({ operation: OperationId }),
      status: 202,
      returns: 'The operation with `cancelRequested`; follow it with GET …/operations/{operation} until it is no longer running.',
    }),
    async (c) => {
      const { operation: id, ...ref } = c.req.valid('param');
      return c.json({ operation: await cancelOperation(deps, ref, id, c.get('actor')) }, 202);
    },
  );
}
