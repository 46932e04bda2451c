import { DeployBody, EnvParams, OperationId, RollbackBody, ScaleBody } from '../../contract/api.ts';
import { deploy, rollback } from '../../core/services/deploys.ts';
import type { PlatformDeps } from '../../core/services/deps.ts';
import { cancelOperation } from '../../core/services/operations.ts';
import { scale } from '../../core/services/scale.ts';
import type { Api } from '../app.ts';
import * as R from '../../contract/routes/index.ts';
import { register } from '../route.ts';


export function registerDeployRoutes(api: Api, deps: PlatformDeps): void {
  register(api, R.createDeploy, async (c) => {
      const receipt = await deploy(deps, c.req.valid('param'), c.req.valid('json'), c.get('actor'));
      return c.json({ receipt }, receipt.dryRun ? 200 : 202);
    },
  );

  register(api, R.createRollback, async (c) => c.json({ receipt: await rollback(deps, c.req.valid('param'), c.req.valid('json'), c.get('actor')) }, 202),
  );

  register(api, R.scaleWorkload, async (c) => c.json({ receipt: await scale(deps, c.req.valid('param'), c.req.valid('json'), c.get('actor')) }, 202),
  );

  register(api, R.cancelOperation, async (c) => {
      const { operation: id, ...ref } = c.req.valid('param');
      return c.json({ operation: await cancelOperation(deps, ref, id, c.get('actor')) }, 202);
    },
  );
}
