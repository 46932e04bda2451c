// How big an env's config and a secret bundle may be. Each is stored whole, as one item, so the
// limit is the store's, with headroom; checked in the contract (one request) and again by the
// service (the merged result), so a value that cannot be stored is refused, never a 500.
// No Node-only imports: the CLI and the console check with this too.

/**
 * A DynamoDB item holds at most 400 KB (names and values together); a config version holds all of
 * an env's config. 350 KiB leaves room for the item's own fields.
 * https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/ServiceQuotas.html#limits-items
 */
export const MAX_CONFIG_BYTES = 350 * 1024;

/**
 * A bundle reaches an instance as one JSON file; on AWS that file is one Secrets Manager secret,
 * which holds at most 65,536 bytes. Embedded keeps the same limit, so a bundle that works there
 * works on AWS; its ciphertext (base64, about 4/3 of it) fits a DynamoDB item with room to spare.
 * https://docs.aws.amazon.com/secretsmanager/latest/userguide/reference_limits.html
 */
export const MAX_SECRET_BUNDLE_BYTES = 64 * 1024;

const utf8 = new TextEncoder();

/** Bytes of the JSON text of `value`: an upper bound of what DynamoDB counts for the same data. */
export function jsonBytes(value: unknown): number {
  return utf8.encode(JSON.stringify(value)).length;
}

/** Bytes of a bundle's file, as the instance receives it (functions/drivers/aws/ecs-secrets.ts). */
export function secretBundleBytes(values: Record<string, string>): number {
  return utf8.encode(JSON.stringify(values, null, 2)).length;
}

const kib = (bytes: number) => `${Math.round(bytes / 1024)} KiB`;

export function configTooLarge(bytes: number, what = 'the config'): string {
  return `${what} would be ${bytes} bytes, over the ${kib(MAX_CONFIG_BYTES)} limit (${MAX_CONFIG_BYTES} bytes) for all of an env's config keys and values together (it is stored as one DynamoDB item); keep large data out of config: put it in the artifact or on a volume`;
}

export function secretBundleTooLarge(bytes: number, what = 'the secret bundle'): string {
  return `${what} would be ${bytes} bytes, over the ${kib(MAX_SECRET_BUNDLE_BYTES)} limit (${MAX_SECRET_BUNDLE_BYTES} bytes) for one bundle (as its JSON file; a Secrets Manager secret holds at most that); split it into several bundles, or keep large files on a volume`;
}
