// A followed stream of a finished operation's events ends: the server's last line is
// `{"done":true,…}` and the client's one stream reader stops on it. An unknown operation is
// not-found, not an empty list or a stream that never ends.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ApiClient } from '../cli/core/api-client.ts';
import { CliError } from '../cli/core/errors.ts';
import { issueOwnerToken } from '../functions/api/auth.ts';
import { startEmbeddedPlatform, type EmbeddedPlatform } from '../functions/embedded/platform.ts';

let dir: string;
let platform: EmbeddedPlatform;
let api: ApiClient;
let operationId: string;
let token: string;
const ENV = '/v1/orgs/acme/projects/shop/apps/web/envs/prod';

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'berth-done-'));
  platform = await startEmbeddedPlatform({ home: join(dir, 'home'), port: 0, version: 'test' });
  token = (await issueOwnerToken(platform.deps.store, 'tester')).token;
  api = new ApiClient(platform.url, token);
  await api.post('/v1/orgs', { name: 'acme' });
  await api.post('/v1/orgs/acme/projects', { name: 'shop' });
  await api.post('/v1/orgs/acme/projects/shop/apps', { name: 'web' });
  ({ operationId } = await api.post<{ operationId: string }>('/v1/orgs/acme/projects/shop/apps/web/envs', { name: 'prod' }));
  // The env's provisioning operation, to its end (the stream below must then end by itself).
  for (;;) {
    const { operation } = await api.get<{ operation: { status: string } }>(`${ENV}/operations/${operationId}`);
    if (operation.status !== 'running') break;
    await new Promise((r) => setImmediate(r));
  }
});

afterAll(async () => {
  await platform.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('events follow', () => {
  it('ends after the last event of a finished operation', async () => {
    const { events } = await api.get<{ events: { id: string }[] }>(`${ENV}/events?operation=${operationId}`);
    expect(events.length).toBeGreaterThan(0);
    const streamed: { id: string }[] = [];
    // Never interrupted: only the stream's own end can make this resolve.
    await api.stream<{ id: string }>(`${ENV}/events?operation=${operationId}&follow=true`, (e) => streamed.push(e), new Promise(() => {}));
    expect(streamed.map((e) => e.id)).toEqual(events.map((e) => e.id));
  });

  it('sends {"done":true} as the last line', async () => {
    const res = await fetch(`${platform.url}${ENV}/events?operation=${operationId}&follow=true`, { headers: { authorization: `Bearer ${token}` } });
    const lines = (await res.text()).trim().split('\n').map((l) => JSON.parse(l));
    expect(lines.at(-1)).toEqual({ done: true, operation: operationId, status: 'succeeded' });
  });

  it('answers an unknown operation with not-found, followed or not', async () => {
    for (const follow of ['', '&follow=true']) {
      const err = await api.get(`${ENV}/events?operation=not-an-op${follow}`).then(() => undefined, (e: unknown) => e);
      expect(err).toBeInstanceOf(CliError);
      expect((err as CliError).body).toMatchObject({ category: 'not-found', code: 'operation-not-found', details: { operation: 'not-an-op' } });
    }
  });
});
