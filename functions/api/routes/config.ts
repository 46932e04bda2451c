import { ConfigChange, EnvParams, SecretsChange } from '../../contract/api.ts';
import { Name } from '../../contract/manifest.ts';
import { changeConfig, currentConfig } from '../../core/services/config.ts';
import type { PlatformDeps } from '../../core/services/deps.ts';
import { listSecretBundles, setSecrets } from '../../core/services/secrets.ts';
import type { Api } from '../app.ts';
import { route } from '../route.ts';

const ENV = '/orgs/{org}/projects/{project}/apps/{app}/envs/{env}';

export function registerConfigRoutes(api: Api, { store, cipher }: PlatformDeps): void {
  api.openapi(route({ method: 'get', path: `${ENV}/config`, summary: 'Current config (plain env vars) of an env', permission: 'read', tag: 'config', params: EnvParams }), async (c) => {
    return c.json({ config: await currentConfig(store, c.req.valid('param')) }, 200);
  });
  api.openapi(
    route({ method: 'patch', path: `${ENV}/config`, summary: 'Set or unset config keys (takes effect with the next release)', permission: 'deploy', tag: 'config', params: EnvParams, body: ConfigChange }),
    async (c) => {
      const config = await changeConfig(store, c.req.valid('param'), c.req.valid('json'), c.get('actor'));
      return c.json({ config, next: ['berth deploy (config changes take effect through a release)'] }, 200);
    },
  );

  api.openapi(route({ method: 'get', path: `${ENV}/secrets`, summary: 'Secret bundles: names, keys, versions, digests; never values', permission: 'read', tag: 'secrets', params: EnvParams }), async (c) => {
    return c.json({ bundles: await listSecretBundles(store, c.req.valid('param')) }, 200);
  });
  api.openapi(
    route({ method: 'put', path: `${ENV}/secrets/{bundle}`, summary: 'Set values in a secret bundle (new version)', permission: 'deploy', tag: 'secrets', params: EnvParams.extend({ bundle: Name }), body: SecretsChange }),
    async (c) => {
      const { bundle, ...ref } = c.req.valid('param');
      const summary = await setSecrets(store, cipher, ref, bundle, c.req.valid('json'), c.get('actor'));
      return c.json({ bundle: summary, next: ['berth deploy (secret changes take effect through a release)'] }, 200);
    },
  );
}
