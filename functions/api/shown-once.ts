// Answers that carry a credential shown once (a minted token, an invite code, an exec ticket) must
// never be kept in clear, not even in the idempotency record that replays them. The route declares
// which fields those are; the record keeps the answer without them, plus a digest of each, and a
// replay says the secret was shown once instead of showing it again.
import { createHash } from 'node:crypto';
import type { MiddlewareHandler } from 'hono';

export type ShownOnceVariables = { shownOnce?: readonly string[] };

/** Route middleware: tells the idempotency layer which answer fields (dot paths) hold a secret. */
export function declareShownOnce(fields: readonly string[]): MiddlewareHandler<{ Variables: ShownOnceVariables }> {
  return async (c, next) => {
    c.set('shownOnce', fields);
    await next();
  };
}

/**
 * The answer as a replay may show it: each declared field removed, `secretShownOnce: true` and a
 * note added, and the digest of each removed value. Unchanged (no digests) when no field is present.
 */
export function withoutShownOnce(body: string, fields: readonly string[]): { body: string; redactedDigests?: Record<string, string> } {
  let parsed: unknown;
  try {
    parsed = JSON.parse(body);
  } catch {
    // Not JSON: nothing of it can be kept safely.
    return { body: JSON.stringify({ secretShownOnce: true, note: 'this answer was shown once and is not stored' }), redactedDigests: { '': sha256(body) } };
  }
  const digests: Record<string, string> = {};
  for (const path of fields) {
    const value = remove(parsed, path.split('.'));
    if (value !== undefined) digests[path] = sha256(JSON.stringify(value));
  }
  const removed = Object.keys(digests);
  if (!removed.length) return { body };
  const note = `${removed.join(', ')} ${removed.length === 1 ? 'was' : 'were'} shown once, in the first answer to this Idempotency-Key, and ${removed.length === 1 ? 'is' : 'are'} not stored; if that answer was lost, revoke what it created and make a new one`;
  return { body: JSON.stringify({ ...(parsed as object), secretShownOnce: true, note }), redactedDigests: digests };
}

function remove(node: unknown, path: string[]): unknown {
  if (node === null || typeof node !== 'object') return undefined;
  const [head, ...rest] = path;
  if (!Object.hasOwn(node, head)) return undefined;
  const record = node as Record<string, unknown>;
  if (rest.length) return remove(record[head], rest);
  const value = record[head];
  delete record[head];
  return value;
}

const sha256 = (text: string) => `sha256:${createHash('sha256').update(text).digest('hex')}`;
