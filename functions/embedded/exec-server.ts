// `berth exec` on the embedded platform: a WebSocket endpoint on the API's own HTTP server,
//   GET /v1/orgs/{org}/projects/{project}/apps/{app}/envs/{env}/exec?ticket=T&cols=80&rows=24
// where the ticket comes from `POST …/exec-sessions` (exec-tickets.ts), which checks the API token
// like every route, and fixes the instance, the command and the TTY choice. It hooks the server's `upgrade` event directly (@hono/node-ws does
// not work with our @hono/node-server 2). Refusals are written as plain HTTP responses with the
// API's error envelope before any upgrade, so clients report them the same way.
import type { IncomingMessage, Server } from 'node:http';
import type { Duplex } from 'node:stream';
import type { ServerType } from '@hono/node-server';
import { WebSocketServer, type WebSocket } from 'ws';
import { BerthError, InvalidInputError } from '../core/errors.ts';
import type { EnvRef, InstanceStatus } from '../core/ports.ts';
import type { SpawnPlan } from '../drivers/local/instance-sandbox.ts';
import { runExecSession, type TtySize } from './exec-session.ts';
import type { ExecTickets } from './exec-tickets.ts';

/** What exec needs of the compute driver (the ProcessDriver, embedded). */
export interface ExecCompute {
  /** How `command` starts inside the instance (its sandbox, dir and env); undefined when it is not running. */
  execLaunch(env: EnvRef, instanceId: string, command: string[], options?: { tty?: boolean }): SpawnPlan | undefined;
  list(env: EnvRef): Promise<InstanceStatus[]>;
}

const EXEC_PATH = /^\/v1\/orgs\/([^/]+)\/projects\/([^/]+)\/apps\/([^/]+)\/envs\/([^/]+)\/exec$/;

/** Serves exec sessions on `server`; the returned function ends every open session (platform close). */
export function attachExecServer(server: ServerType, deps: { tickets: ExecTickets }, compute: ExecCompute): () => void {
  const wss = new WebSocketServer({ noServer: true });
  const onUpgrade = (req: IncomingMessage, socket: Duplex, head: Buffer): void => {
    accept(req, deps, compute).then(
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

async function accept(req: IncomingMessage, deps: { tickets: ExecTickets }, compute: ExecCompute) {
  const url = new URL(req.url ?? '/', 'http://exec');
  const m = EXEC_PATH.exec(url.pathname);
  if (!m) throw new BerthError('not-found', 'route-not-found', `no WebSocket route ${url.pathname}; exec is at /v1/orgs/{org}/projects/{project}/apps/{app}/envs/{env}/exec`);
  const [org, project, app, env] = m.slice(1).map(decodeSegment);
  const ref: EnvRef = { org, project, app, env };
  const ticket = url.searchParams.get('ticket');
  if (!ticket) {
    throw new BerthError('permission', 'exec-ticket-missing', 'the exec socket needs ?ticket=<t> from POST …/exec-sessions (which checks the API token); `berth exec` does both', {
      next: ['berth exec -- <command>'],
      httpStatus: 401,
    });
  }
  const grant = deps.tickets.redeem(ticket);
  if (!grant || grant.env.org !== org || grant.env.project !== project || grant.env.app !== app || grant.env.env !== env) {
    throw new BerthError('permission', 'exec-ticket-invalid', 'the exec ticket is unknown, used or expired (a ticket is good once, for a minute); ask for a new session', {
      next: ['berth exec -- <command>'],
      httpStatus: 401,
    });
  }
  return session(ref, grant.instance, compute, grant.tty ? ttySize(url.searchParams) : undefined, grant.argv);
}

async function session(ref: EnvRef, instance: string, compute: ExecCompute, tty: TtySize | undefined, argv: string[]) {
  const { org, project, app, env } = ref;
  const status = (await compute.list(ref)).find((i) => i.id === instance);
  const options = { tty: tty !== undefined };
  if (!status || !compute.execLaunch(ref, instance, argv, options)) {
    throw new BerthError('not-found', 'instance-not-found', `instance ${instance} is not running in ${org}/${project}/${app}/${env}; pick a running one from \`berth status\``, {
      details: { instance },
      next: ['berth status', 'berth exec -- <command>'],
    });
  }
  return {
    target: { instance, workload: status.workload, release: status.releaseId, argv, resolve: () => compute.execLaunch(ref, instance, argv, options) },
    tty,
  };
}

/** A path segment, decoded; a bad `%` escape is the client's mistake, answered 400 before any upgrade. */
function decodeSegment(segment: string): string {
  try {
    return decodeURIComponent(segment);
  } catch {
    throw new InvalidInputError('path-invalid', `the exec path has a bad % escape in ${JSON.stringify(segment)}; encode "%" as %25 (\`berth exec\` builds this path for you)`, {
      details: { segment },
      next: ['berth exec -- <command>'],
    });
  }
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
