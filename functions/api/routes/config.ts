import { ConfigChange, EnvParams, SecretsChange } from '../../contract/api.ts';
import { Name } from '../../contract/manifest.ts';
import { changeConfig, currentConfig } from '../../core/services/config.ts';
import type { PlatformDeps } from '../../core/services/deps.ts';
import { listSecretBundles, setSecrets } from '../../core/services/secrets.ts';
import type { Api } from '../app.ts';
import * as R from '../../contract/routes/index.ts';
import { register } from '../route.ts';


export function registerConfigRoutes(api: Api, { store, cipher }: PlatformDeps): void {
  register(api, R.getConfig, async (c) => {
    return c.json({ config: await currentConfig(store, c.req.valid('param')) }, 200);
  });
  register(api, R.updateConfig, async (c) => {
      const config = await changeConfig(store, c.req.valid('param'), c.req.valid('json'), c.get('actor'));
      return c.json({ config, next: ['berth deploy (config changes take effect through a release)'] }, 200);
    },
  );

  register(api, R.listSecretBundles, async (c) => {
    return c.json({ bundles: await listSecretBundles(store, c.req.valid('param')) }, 200);
  });
  register(api, R.putSecretBundle, async (c) => {
      const { bundle, ...ref } = c.req.valid('param');
      const summary = await setSecrets(store, cipher, ref, bundle, c.req.valid('json'), c.get('actor'));
      return c.json({ bundle: summary, next: ['berth deploy (secret changes take effect through a release)'] }, 200);
    },
  );
}
