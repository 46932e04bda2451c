// Bearer-token auth. Tokens are random and opaque; only their sha256 is stored, so a leaked table
// does not leak a usable token.
import { createHash, randomBytes } from 'node:crypto';
import type { MiddlewareHandler } from 'hono';
import { BerthError } from '../core/errors.ts';
import { tokenId } from '../core/ids.ts';
import type { TokenRecord } from '../core/model.ts';
import type { Actor } from '../core/services/deps.ts';
import type { StateStore } from '../core/state-store.ts';

export const hashToken = (token: string): string => createHash('sha256').update(token).digest('hex');

export async function issueOwnerToken(store: StateStore, name: string): Promise<{ token: string; record: TokenRecord }> {
  const token = `berth_${randomBytes(24).toString('base64url')}`;
  const record: TokenRecord = { id: tokenId(), hash: hashToken(token), name, role: 'owner', createdAt: new Date().toISOString() };
  await store.putToken(record);
  return { token, record };
}

export type AuthVariables = { actor: Actor; requestId: string };

export function bearerAuth(store: StateStore): MiddlewareHandler<{ Variables: AuthVariables }> {
  return async (c, next) => {
    const header = c.req.header('authorization') ?? '';
    const match = /^Bearer\s+(\S+)$/i.exec(header);
    if (!match) {
      throw new BerthError('permission', 'unauthenticated', 'no API token was sent; send `Authorization: Bearer <token>`', {
        next: ['berth login --token <token>', 'export BERTH_TOKEN=<token>'],
        httpStatus: 401,
      });
    }
    const record = await store.getTokenByHash(hashToken(match[1]));
    if (!record) {
      throw new BerthError('permission', 'invalid-token', 'the API token is not valid (unknown or revoked)', { next: ['berth login --token <token>'], httpStatus: 401 });
    }
    c.set('actor', { id: record.id, name: record.name });
    await next();
  };
}
