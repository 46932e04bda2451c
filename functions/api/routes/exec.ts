// `berth exec`: the API checks the token and the instance, then hands back how to join the session
// (the embedded WebSocket with a one-time ticket, or an ECS Exec session on AWS).
import { EnvParams, ExecBody } from '../../contract/api.ts';
import type { PlatformDeps } from '../../core/services/deps.ts';
import { openExecSession } from '../../core/services/exec.ts';
import type { Api } from '../app.ts';
import { route } from '../route.ts';

export function registerExecRoutes(api: Api, deps: PlatformDeps): void {
  api.openapi(
    route({
      method: 'post',
      path: '/orgs/{org}/projects/{project}/apps/{app}/envs/{env}/exec-sessions',
      summary: 'Open a command session in a running instance; the answer says how to join it (WebSocket ticket embedded, Session Manager stream on AWS)',
      permission: 'deploy', tag: 'exec',
      params: EnvParams,
      body: ExecBody,
      status: 201,
      // The channel is the credential: a one-time WebSocket ticket, or the Session Manager token.
      shownOnce: ['session.channel'],
    }),
    async (c) => c.json({ session: await openExecSession(deps, c.req.valid('param'), c.req.valid('json'), c.get('actor')) }, 201),
  );
}
