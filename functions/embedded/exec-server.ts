// `berth exec` on the embedded platform: a WebSocket endpoint on the API's own HTTP server,
//   GET /v1/orgs/{org}/projects/{project}/apps/{app}/envs/{env}/exec?instance=I&tty=1&cols=80&rows=24
// It hooks the server's `upgrade` event directly (@hono/node-ws does not work with our
// @hono/node-server 2). Auth is the API's bearer token; refusals are written as plain HTTP
// responses with the API's error envelope before any upgrade, so clients report them the same way.
import type { IncomingMessage, Server } from 'node:http';
import type { Duplex } from 'node:stream';
import type { ServerType } from '@hono/node-server';
import { WebSocketServer, type WebSocket } from 'ws';
import { hashToken } from '../api/auth.ts';
import { BerthError } from '../core/errors.ts';
import type { EnvRef, InstanceStatus } from '../core/ports.ts';
import type { StateStore } from '../core/state-store.ts';
import { runExecSession, type TtySize } from './exec-session.ts';

/** What exec needs of the compute driver (the ProcessDriver, embedded). */
export interface ExecCompute {
  execSpec(env: EnvRef, instanceId: string): { cwd: string; env: Record<string, string> } | undefined;
  list(env: EnvRef): Promise<InstanceStatus[]>;
}

const EXEC_PATH = /^\/v1\/orgs\/([^/]+)\/projects\/([^/]+)\/apps\/([^/]+)\/envs\/([^/]+)\/exec$/;

/** Serves exec sessions on `server`; the returned function ends every open session (platform close). */
export function attachExecServer(server: ServerType, deps: { store: StateStore }, compute: ExecCompute): () => void {
  const wss = new WebSocketServer({ noServer: true });
  const onUpgrade = (req: IncomingMessage, socket: Duplex, head: Buffer): void => {
    accept(req, deps.store, compute).then(
      (session) => {
        if (socket.destroyed) return;
        wss.handleUpgrade(req, socket, head, (ws: WebSocket) => runExecSession(ws, session.target, session.tty));
      },
      (err: unknown) => refuse(socket, err),
    );
  };
  (server as Server).on('upgrade', onUpgrade);
  return () => {
    (server as Server).off('upgrade', onUpgrade);
    // Closing a session's socket kills its command (see runExecSession).
    for (const ws of wss.clients) ws.terminate();
    wss.close();
  };
}

async function accept(req: IncomingMessage, store: StateStore, compute: ExecCompute) {
  const url = new URL(req.url ?? '/', 'http://exec');
  const m = EXEC_PATH.exec(url.pathname);
  if (!m) throw new BerthError('not-found', 'route-not-found', `no WebSocket route ${url.pathname}; exec is at /v1/orgs/{org}/projects/{project}/apps/{app}/envs/{env}/exec`);
  const token = /^Bearer\s+(\S+)$/i.exec(req.headers.authorization ?? '')?.[1];
  if (!token) {
    throw new BerthError('permission', 'unauthenticated', 'no API token was sent; send `Authorization: Bearer <token>`', { next: ['berth login --token <token>', 'export BERTH_TOKEN=<token>'], httpStatus: 401 });
  }
  if (!(await store.getTokenByHash(hashToken(token)))) {
    throw new BerthError('permission', 'invalid-token', 'the API token is not valid (unknown or revoked)', { next: ['berth login --token <token>'], httpStatus: 401 });
  }
  const [org, project, app, env] = m.slice(1).map(decodeURIComponent);
  const ref: EnvRef = { org, project, app, env };
  const instance = url.searchParams.get('instance');
  if (!instance) throw new BerthError('invalid-input', 'instance-missing', 'exec needs ?instance=<id>; `berth status` lists the instances', { next: ['berth status'] });
  const status = (await compute.list(ref)).find((i) => i.id === instance);
  if (!status || !compute.execSpec(ref, instance)) {
    throw new BerthError('not-found', 'instance-not-found', `instance ${instance} is not running in ${org}/${project}/${app}/${env}; pick a running one from \`berth status\``, {
      details: { instance },
      next: ['berth status', 'berth exec -- <command>'],
    });
  }
  return {
    target: { instance, workload: status.workload, release: status.releaseId, resolve: () => compute.execSpec(ref, instance) },
    tty: url.searchParams.get('tty') === '1' ? ttySize(url.searchParams) : undefined,
  };
}

function ttySize(q: URLSearchParams): TtySize {
  const n = (name: string, fallback: number) => {
    const v = Number(q.get(name));
    return Number.isInteger(v) && v > 0 && v < 10000 ? v : fallback;
  };
  return { cols: n('cols', 80), rows: n('rows', 24) };
}

function refuse(socket: Duplex, err: unknown): void {
  const e = err instanceof BerthError ? err : new BerthError('internal', 'unexpected', 'unexpected error while opening an exec session; the server log has the details');
  if (!(err instanceof BerthError)) console.error('exec:', err);
  const body = JSON.stringify({ error: e.toBody() });
  const reason = { 400: 'Bad Request', 401: 'Unauthorized', 404: 'Not Found' }[e.httpStatus] ?? 'Error';
  if (socket.destroyed) return;
  socket.end(
    `HTTP/1.1 ${e.httpStatus} ${reason}\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
  );
}
