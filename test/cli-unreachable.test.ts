// One "API unreachable" path for every client: requests, streams (--follow), device login's OAuth
// posts, the exec socket and the MCP server's calls all say the same thing, naming the URL and the
// fix, with structured details (the socket error's code; whether a retry is safe).
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { ApiClient } from '../cli/core/api-client.ts';
import type { Host } from '../cli/core/command.ts';
import { CliError } from '../cli/core/errors.ts';
import { execSession } from '../cli/core/exec-client.ts';
import { fetchApi } from '../functions/mcp/api-caller.ts';

const servers: Server[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => new Promise((r) => s.close(r))));
});

async function listen(handler: Parameters<typeof createServer>[1]): Promise<string> {
  const server = createServer(handler);
  servers.push(server);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

/** A URL nothing listens on: a port that was just given back. */
async function closedUrl(): Promise<string> {
  const url = await listen(() => {});
  await new Promise((r) => servers.pop()!.close(r));
  return url;
}

async function caught(p: Promise<unknown>): Promise<CliError> {
  const err = await p.then(() => undefined, (e: unknown) => e);
  if (!(err instanceof CliError)) throw new Error(`expected a CliError, got ${String(err)}`);
  return err;
}

const FIXES = ['npm start (in the Berth checkout) to run the embedded platform', 'berth login --api <url> (or BERTH_API=<url>) to use a platform elsewhere'];

describe('API unreachable', () => {
  it('a request to a closed port names the URL, the socket error and the fix', async () => {
    const url = await closedUrl();
    const err = await caught(new ApiClient(url, 't').get('/v1/health'));
    expect(err.body).toMatchObject({ category: 'internal', code: 'api-unreachable', details: { url, errno: 'ECONNREFUSED', dropped: false }, next: FIXES });
    expect(err.body.message).toContain(`the Berth API at ${url} is not reachable`);
    expect(err.body.message).toContain('ECONNREFUSED');
  });

  it('a stream the server drops mid-way ends with the same error, after the lines that came', async () => {
    const url = await listen((_req, res) => {
      res.writeHead(200, { 'content-type': 'application/x-ndjson' });
      res.write('{"n":1}\n', () => setImmediate(() => res.socket?.destroy()));
    });
    const items: unknown[] = [];
    const err = await caught(new ApiClient(url, 't').stream('/v1/logs?follow=true', (i) => items.push(i), new Promise(() => {})));
    expect(items).toEqual([{ n: 1 }]);
    expect(err.body).toMatchObject({ code: 'api-unreachable', details: { url }, next: FIXES });
  });

  it('a mutation whose connection dropped is sent once more, with the same Idempotency-Key', async () => {
    const keys: string[] = [];
    const url = await listen((req, res) => {
      keys.push(String(req.headers['idempotency-key']));
      if (keys.length === 1) return req.socket.destroy();
      res.writeHead(200, { 'content-type': 'application/json' }).end('{"ok":true}');
    });
    expect(await new ApiClient(url, 't').post('/v1/x', {})).toEqual({ ok: true });
    expect(keys).toHaveLength(2);
    expect(keys[0]).toBe(keys[1]);
  });

  it('a refused connection is not retried', async () => {
    const url = await closedUrl();
    let calls = 0;
    const err = await caught(new ApiClient(url, 't', (input, init) => (calls++, fetch(input, init))).post('/v1/x', {}));
    expect(err.body.code).toBe('api-unreachable');
    expect(calls).toBe(1);
  });

  it('the MCP server answers a tool call with the same error body', async () => {
    const url = await closedUrl();
    const answer = await fetchApi({ baseUrl: url })({ method: 'GET', path: '/v1/health' });
    const cli = await caught(new ApiClient(url, 't').get('/v1/health'));
    expect(answer).toMatchObject({ ok: false, status: 0, error: cli.body });
  });

  it('the exec socket says the same, without the ticket in the URL', async () => {
    const host = {
      terminal: { size: () => undefined },
      openSocket: (_url: string, _headers: Record<string, string>, events: { error(err: Error): void }) => {
        queueMicrotask(() => events.error(Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:9'), { code: 'ECONNREFUSED' })));
        return { send() {}, sendBytes() {}, close() {} };
      },
    } as unknown as Host;
    const err = await caught(execSession(host, { url: 'ws://127.0.0.1:9/v1/exec/abc?ticket=secret', instance: 'i-1', argv: ['ls'], tty: false }, () => {}));
    expect(err.body).toMatchObject({ code: 'api-unreachable', details: { url: 'ws://127.0.0.1:9/v1/exec/abc', errno: 'ECONNREFUSED' }, next: FIXES });
    expect(err.body.message).toMatch(/^the exec endpoint at ws:\/\/127\.0\.0\.1:9\/v1\/exec\/abc is not reachable/);
    expect(err.body.message).not.toContain('secret');
  });
});
