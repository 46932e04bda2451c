// Issue 6's matrix: every route of the API (the OpenAPI document plus the raw artifact routes) ×
// every role × own org / other org / no token / expired / revoked token → the answer the route's
// declared permission implies. Routes are called with names that do not exist below the org and
// with empty bodies, so an allowed call stops at validation or not-found and changes nothing.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApi } from '../functions/api/app.ts';
import { issueToken } from '../functions/api/auth.ts';
import { ARTIFACT_ROUTES } from '../functions/api/routes/artifacts.ts';
import type { Role } from '../functions/core/model.ts';
import { MINIMUM_ROLE, ROLES, roleAllows, type Permission } from '../functions/core/roles.ts';
import { startOpsPlatform, type OpsPlatform } from './support/ops-harness.ts';

let dir: string;
let ops: OpsPlatform;
let app: ReturnType<typeof createApi>;
const tokens: Record<string, string> = {};

/** A value for each path parameter: valid in form, absent in fact. */
const PARAM_VALUES: Record<string, string> = {
  org: 'acme',
  project: 'nope',
  app: 'nope',
  env: 'nope',
  name: 'nope',
  bundle: 'nope',
  release: 'rel-1',
  operation: 'op-00000000000000000000000000',
  email: 'nobody@example.com',
  id: 'tok-000000000000',
  digest: `sha256:${'0'.repeat(64)}`,
};

interface RouteRow {
  method: string;
  path: string;
  permission: Permission;
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'berth-authz-'));
  ops = await startOpsPlatform(join(dir, 'home'));
  for (const org of ['acme', 'globex']) expect((await ops.call('POST', '/v1/orgs', { name: org })).status).toBe(201);
  const store = ops.platform.deps.store;
  for (const role of ROLES) tokens[role] = (await issueToken(store, { name: role, kind: 'ci', principal: `token:${role}`, org: 'acme', role, createdBy: 'owner' })).token;
  tokens.otherOrg = (await issueToken(store, { name: 'globex-owner', kind: 'ci', principal: 'token:g', org: 'globex', role: 'owner', createdBy: 'owner' })).token;
  tokens.expired = (await issueToken(store, { name: 'old', kind: 'ci', principal: 'token:old', org: 'acme', role: 'owner', createdBy: 'owner', expiresAt: new Date(Date.now() - 60_000).toISOString() })).token;
  const revoked = await issueToken(store, { name: 'gone', kind: 'ci', principal: 'token:gone', org: 'acme', role: 'owner', createdBy: 'owner' });
  await store.revokeToken(revoked.record, new Date().toISOString());
  tokens.revoked = revoked.token;
  // Its own app instance: the same deps, with room for a burst of requests from one token.
  app = createApi(ops.platform.deps, { version: 'test', rateLimits: false });
}, 30_000);

afterAll(async () => {
  await ops?.platform.close();
  rmSync(dir, { recursive: true, force: true });
});

async function routeTable(): Promise<RouteRow[]> {
  const doc = (await (await app.request('/v1/openapi.json')).json()) as { paths: Record<string, Record<string, { 'x-berth-permission'?: Permission }>> };
  const rows: RouteRow[] = [];
  for (const [path, ops] of Object.entries(doc.paths)) {
    for (const [method, op] of Object.entries(ops)) {
      if (!op['x-berth-permission']) throw new Error(`${method.toUpperCase()} ${path} declares no permission`);
      rows.push({ method: method.toUpperCase(), path, permission: op['x-berth-permission'] });
    }
  }
  for (const r of ARTIFACT_ROUTES) rows.push({ method: r.method.toUpperCase(), path: `/v1${r.path}`, permission: r.permission });
  // `DELETE /tokens/self` (logout) really revokes the caller's token: it goes last.
  const selfDestructive = (r: RouteRow) => r.method === 'DELETE' && r.path.endsWith('/tokens/self');
  return [...rows.filter((r) => !selfDestructive(r)), ...rows.filter(selfDestructive)];
}

type Caller = Role | 'otherOrg' | 'none' | 'expired' | 'revoked';
const CALLERS: Caller[] = [...ROLES, 'otherOrg', 'none', 'expired', 'revoked'];

/** What the declared permission implies for this caller: a status, or "passes the guard". */
function expected(row: RouteRow, caller: Caller): { status?: number; code?: string; passes?: true } {
  if (row.permission === 'public') return { passes: true };
  if (caller === 'none') return { status: 401, code: 'unauthenticated' };
  if (caller === 'expired') return { status: 401, code: 'token-expired' };
  if (caller === 'revoked') return { status: 401, code: 'token-revoked' };
  if (row.permission === 'authenticated') return { passes: true };
  if (row.permission === 'platform') return { status: 403, code: 'platform-token-required' };
  if (caller === 'otherOrg') return { status: 404, code: 'org-not-found' };
  return roleAllows(caller, row.permission as keyof typeof MINIMUM_ROLE) ? { passes: true } : { status: 403, code: 'role-insufficient' };
}

describe('the authorization matrix', () => {
  it('answers every route × caller as its declared permission says', async () => {
    const rows = await routeTable();
    expect(rows.length).toBeGreaterThan(40);
    const unexpected: string[] = [];
    let cases = 0;
    for (const row of rows) {
      const path = row.path.replace(/\{(\w+)\}/g, (_, p: string) => encodeURIComponent(PARAM_VALUES[p] ?? 'nope'));
      for (const caller of CALLERS) {
        const headers: Record<string, string> = { 'content-type': 'application/json' };
        if (caller !== 'none') headers.authorization = `Bearer ${tokens[caller]}`;
        const body = row.method === 'GET' || row.method === 'DELETE' ? undefined : row.path.includes('/artifacts/') ? 'x' : '{}';
        const res = await app.request(path, { method: row.method, headers, body });
        const text = await res.text();
        const code = (() => {
          try {
            return (JSON.parse(text) as { error?: { code?: string } }).error?.code;
          } catch {
            return undefined;
          }
        })();
        const want = expected(row, caller);
        cases++;
        const ok = want.passes ? ![401, 403, 429].includes(res.status) && code !== 'org-not-found' : res.status === want.status && code === want.code;
        if (!ok) unexpected.push(`${row.method} ${row.path} as ${caller}: got ${res.status} ${code ?? ''}, want ${want.passes ? 'past the guard' : `${want.status} ${want.code}`}`);
      }
    }
    console.log(`authorization matrix: ${rows.length} routes × ${CALLERS.length} callers = ${cases} cases, ${unexpected.length} unexpected`);
    expect(unexpected).toEqual([]);
  });
});
