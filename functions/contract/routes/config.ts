// Routes of an env's config and secret bundles; both take effect through the next release.
import { z } from 'zod';
import { ConfigChange, EnvParams, SecretsChange } from '../api.ts';
import { Name } from '../manifest.ts';
import { ConfigVersion } from '../records.ts';
import { SecretBundleSummary } from '../responses.ts';
import { defineRoute } from '../route-def.ts';

const ENV = '/orgs/{org}/projects/{project}/apps/{app}/envs/{env}';
const Next = z.array(z.string());

export const getConfig = defineRoute({
  operationId: 'getConfig', method: 'get', path: `${ENV}/config`, tag: 'config', permission: 'read', summary: 'Current config (plain env vars) of an env',
  params: EnvParams,
  responses: { 200: { description: 'The current config version', schema: z.object({ config: ConfigVersion }) } },
});
export const updateConfig = defineRoute({
  operationId: 'updateConfig', method: 'patch', path: `${ENV}/config`, tag: 'config', permission: 'deploy', summary: 'Set or unset config keys (takes effect with the next release)',
  params: EnvParams, body: ConfigChange, requestExample: { set: { LOG_LEVEL: 'info' }, unset: ['DEBUG'] }, errors: [409],
  responses: { 200: { description: 'The new config version', schema: z.object({ config: ConfigVersion, next: Next }) } },
});
export const listSecretBundles = defineRoute({
  operationId: 'listSecretBundles', method: 'get', path: `${ENV}/secrets`, tag: 'secrets', permission: 'read', summary: 'Secret bundles: names, keys, versions, digests; never values',
  params: EnvParams,
  responses: { 200: { description: 'Bundles', schema: z.object({ bundles: z.array(SecretBundleSummary) }) } },
});
export const putSecretBundle = defineRoute({
  operationId: 'putSecretBundle', method: 'put', path: `${ENV}/secrets/{bundle}`, tag: 'secrets', permission: 'deploy', summary: 'Set values in a secret bundle (new version)',
  params: EnvParams.extend({ bundle: Name }), body: SecretsChange, requestExample: { values: { DATABASE_URL: 'postgres://db.internal/shop' } }, errors: [409],
  responses: { 200: { description: 'The new bundle version (keys and digest only)', schema: z.object({ bundle: SecretBundleSummary, next: Next }) } },
});

export const CONFIG_ROUTES = [getConfig, updateConfig, listSecretBundles, putSecretBundle] as const;
