// Secret bundles reach a task through Secrets Manager: one secret per bundle and env
// (`berth/<org>/<project>/<app>/<env>/<bundle>`, encrypted with Berth's KMS key), whose versions
// are content-addressed. The task definition pins the version (`valueFrom` = ARN:::versionId), so a
// release keeps the secret values it was created with even after the bundle changes.
import { CreateSecretCommand, DeleteSecretCommand, ListSecretsCommand, PutSecretValueCommand, ResourceExistsException, ResourceNotFoundException, type SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import type { EnvRef } from '../../core/ports.ts';
import { attempt } from './aws-errors.ts';
import type { AwsRuntimeConfig } from './config.ts';
import { berthTags, contentToken, secretName } from './tags.ts';

/** Stores each bundle's values (idempotent) and returns bundle → `valueFrom` for ECS `secrets`. */
export async function ensureSecretBundles(
  secrets: SecretsManagerClient,
  config: Pick<AwsRuntimeConfig, 'kmsKeyId'>,
  env: EnvRef,
  bundles: Record<string, Record<string, string>>,
): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  for (const [bundle, values] of Object.entries(bundles)) {
    const name = secretName(env, bundle);
    // The file's content, as embedded mode writes it (minus the trailing newline the init container adds).
    const value = JSON.stringify(values, null, 2);
    // Same content → same token → Secrets Manager treats a repeat as a no-op and returns the same version.
    const token = contentToken(name, value);
    const stored = await attempt(
      `store secret bundle "${bundle}" in Secrets Manager`,
      async () => {
        const created = await secrets.send(
          new CreateSecretCommand({
            Name: name,
            Description: `Berth secret bundle "${bundle}" of ${env.org}/${env.project}/${env.app}/${env.env}`,
            KmsKeyId: config.kmsKeyId,
            SecretString: value,
            ClientRequestToken: token,
            Tags: berthTags(env, { 'berth:secret-bundle': bundle }),
          }),
        );
        return { arn: created.ARN!, versionId: created.VersionId! };
      },
      async (err) => {
        if (!(err instanceof ResourceExistsException)) throw err;
        const put = await secrets.send(new PutSecretValueCommand({ SecretId: name, SecretString: value, ClientRequestToken: token }));
        return { arn: put.ARN!, versionId: put.VersionId! };
      },
    );
    // ARN:json-key:version-stage:version-id — the whole JSON, this exact version.
    out[bundle] = `${stored.arn}:::${stored.versionId}`;
  }
  return out;
}

/**
 * Env destroy: deletes every bundle secret of the env at once, without a recovery window. The
 * secret is a delivery copy; the bundle itself (KMS-encrypted in the table) is kept, and a
 * recovery window would hold the name for 7–30 days (and bill for it).
 * https://docs.aws.amazon.com/secretsmanager/latest/apireference/API_DeleteSecret.html
 */
export async function deleteSecretBundles(secrets: SecretsManagerClient, env: EnvRef): Promise<string[]> {
  // The `name` filter matches by prefix; the trailing slash keeps env `prod` from matching `prod2`.
  const prefix = secretName(env, '');
  const names: string[] = [];
  let NextToken: string | undefined;
  do {
    const page = await attempt('list the env\'s secret bundles', () => secrets.send(new ListSecretsCommand({ Filters: [{ Key: 'name', Values: [prefix] }], MaxResults: 100, NextToken })));
    names.push(...(page.SecretList ?? []).flatMap((s) => (s.Name?.startsWith(prefix) ? [s.Name] : [])));
    NextToken = page.NextToken;
  } while (NextToken);
  for (const name of names) {
    await attempt(
      `delete secret ${name}`,
      () => secrets.send(new DeleteSecretCommand({ SecretId: name, ForceDeleteWithoutRecovery: true })),
      (err) => {
        // Deleted by an earlier, interrupted destroy.
        if (err instanceof ResourceNotFoundException) return undefined;
        throw err;
      },
    );
  }
  return names;
}
