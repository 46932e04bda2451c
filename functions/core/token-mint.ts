// Minting API tokens: random and opaque, returned once; only their sha256 is ever stored.
import { createHash, randomBytes } from 'node:crypto';
import { tokenId } from './ids.ts';
import type { Role, TokenRecord } from './model.ts';
import type { StateStore } from './state-store.ts';

export const hashToken = (token: string): string => createHash('sha256').update(token).digest('hex');

/** The name the installer's bootstrap token acts under. */
export const INSTALLER = 'owner';

export interface NewToken {
  name: string;
  kind: TokenRecord['kind'];
  principal: string;
  org?: string;
  role?: Role;
  createdBy: string;
  expiresAt?: string;
}

/** Mints a token and stores its hash; the token itself is returned once and never again. */
export async function issueToken(store: StateStore, spec: NewToken): Promise<{ token: string; record: TokenRecord }> {
  const token = `berth_${randomBytes(24).toString('base64url')}`;
  const record: TokenRecord = { id: tokenId(), hash: hashToken(token), createdAt: new Date().toISOString(), ...spec };
  await store.putToken(record);
  return { token, record };
}

/** The installer's bootstrap token (first `npm start`; the stack's bootstrap on AWS). */
export function issueOwnerToken(store: StateStore, label = 'bootstrap'): Promise<{ token: string; record: TokenRecord }> {
  return issueToken(store, { name: label, kind: 'bootstrap', principal: INSTALLER, createdBy: INSTALLER });
}

