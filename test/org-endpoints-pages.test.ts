// `endpoints --all` over a large org: GET /orgs/{org}/endpoints answers a page of apps at a time,
// ordered by project then app, and the `next` cursors walk every app exactly once.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { startOpsPlatform, type OpsPlatform } from './support/ops-harness.ts';

let dir: string;
let ops: OpsPlatform;
const APPS = ['alpha/a1', 'alpha/a2', 'alpha/a3', 'beta/b1', 'beta/b2'];

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'berth-org-endpoints-'));
  ops = await startOpsPlatform(join(dir, 'home'));
  expect((await ops.call('POST', '/v1/orgs', { name: 'acme' })).status).toBe(201);
  for (const project of ['beta', 'alpha']) expect((await ops.call('POST', '/v1/orgs/acme/projects', { name: project })).status).toBe(201);
  for (const path of [...APPS].reverse()) {
    const [project, app] = path.split('/');
    expect((await ops.call('POST', `/v1/orgs/acme/projects/${project}/apps`, { name: app })).status).toBe(201);
  }
}, 30_000);

afterAll(async () => {
  await ops?.platform.close();
  rmSync(dir, { recursive: true, force: true });
});

it('pages through every app once, in order, and ends with next null', async () => {
  const cursors: (string | null)[] = [];
  let after: string | null = null;
  do {
    const res = await ops.call('GET', `/v1/orgs/acme/endpoints?limit=2${after ? `&after=${after}` : ''}`);
    expect(res.status).toBe(200);
    expect(res.body.endpoints).toEqual([]);
    after = res.body.next;
    cursors.push(after);
  } while (after && cursors.length < 10);
  expect(cursors).toEqual(['alpha/a2', 'beta/b1', null]);
});

it('answers a bad cursor with the field and the fix', async () => {
  const res = await ops.call('GET', '/v1/orgs/acme/endpoints?after=not-a-cursor');
  expect(res.status).toBe(400);
  expect(JSON.stringify(res.body.error.details)).toContain('after');
});
