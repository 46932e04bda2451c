// The one path builder of the contract: every segment URL-encoded, a missing one an error.
import { describe, expect, it } from 'vitest';
import { pathFor } from '../functions/contract/path.ts';
import { getStatus, listLogs, removeMember } from '../functions/contract/routes/index.ts';

describe('pathFor', () => {
  const REF = { org: 'acme', project: 'shop', app: 'web', env: 'prod' };

  it('fills the route template under /v1', () => {
    expect(pathFor(getStatus, REF)).toBe('/v1/orgs/acme/projects/shop/apps/web/envs/prod/status');
  });

  it('URL-encodes every segment, so a value never adds a segment or a query', () => {
    expect(pathFor(removeMember, { org: 'acme', email: 'a/b?c@example.com' })).toBe('/v1/orgs/acme/members/a%2Fb%3Fc%40example.com');
    expect(pathFor(getStatus, { ...REF, env: '../x' })).toBe('/v1/orgs/acme/projects/shop/apps/web/envs/..%2Fx/status');
  });

  it('adds the query it is given, leaving out undefined values', () => {
    expect(pathFor(listLogs, REF, { follow: true, workload: undefined, limit: 5 })).toBe('/v1/orgs/acme/projects/shop/apps/web/envs/prod/logs?follow=true&limit=5');
  });

  it('throws naming the route and the missing parameter', () => {
    expect(() => pathFor(getStatus, { org: 'acme' } as never)).toThrow('pathFor(getStatus): parameter project is missing');
  });
});
