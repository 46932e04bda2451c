// Names that JavaScript objects already hold. As a key of a plain object (config, a workload, a
// secret bundle) they are not data: `__proto__` is silently dropped by object spread and by zod's
// records, `constructor` and `prototype` resolve to the object's machinery, and the DynamoDB
// marshaller throws on them. So they are refused at the boundary, as keys and as names.
// No Node-only imports: the console and the CLI validate with this too.

export const RESERVED_KEYS = ['__proto__', 'constructor', 'prototype'] as const;

export const RESERVED_KEY_MESSAGE = `is reserved (${RESERVED_KEYS.join(', ')} name JavaScript object internals); pick another name`;

export function isReservedKey(key: string): boolean {
  return (RESERVED_KEYS as readonly string[]).includes(key);
}

/**
 * The path of the first reserved key in a parsed JSON or YAML value, or undefined. Checked on the
 * raw parsed value, before any schema: `JSON.parse` keeps `__proto__` as an own key, but a zod
 * record (or any object copy) would drop it and answer as if it was never sent.
 */
export function findReservedKey(value: unknown, path: (string | number)[] = [], depth = 0): (string | number)[] | undefined {
  // Bodies are at most 1 MiB and JSON nests shallowly; the cap keeps a hostile nesting from the stack.
  if (depth > 64 || value === null || typeof value !== 'object') return undefined;
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) {
      const found = findReservedKey(value[i], [...path, i], depth + 1);
      if (found) return found;
    }
    return undefined;
  }
  for (const key of Object.keys(value)) {
    if (isReservedKey(key)) return [...path, key];
    const found = findReservedKey((value as Record<string, unknown>)[key], [...path, key], depth + 1);
    if (found) return found;
  }
  return undefined;
}
