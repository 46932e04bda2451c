// `berth exec`: the API checks the token and the instance, then hands back how to join the session
// (the embedded WebSocket with a one-time ticket, or an ECS Exec session on AWS).
import { EnvParams, ExecBody } from '../../contract/api.ts';
import type { PlatformDeps } from '../../core/services/deps.ts';
import { openExecSession } from '../../core/services/exec.ts';
import type { Api } from '../app.ts';
import * as R from '../../contract/routes/index.ts';
import { register } from '../route.ts';

export function registerExecRoutes(api: Api, deps: PlatformDeps): void {
  register(api, R.createExecSession, async (c) => c.json({ session: await openExecSession(deps, c.req.valid('param'), c.req.valid('json'), c.get('actor')) }, 201),
  );
}
