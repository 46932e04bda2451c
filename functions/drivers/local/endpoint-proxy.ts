// Embedded endpoints: real TCP listeners on [::1] (and 127.0.0.1 when the endpoint opts into IPv4)
// that spread connections round-robin over the healthy instances, like a dual-stack NLB listener.
import net from 'node:net';
import type { Endpoint } from '../../contract/manifest.ts';
import { CapacityError, PermissionError } from '../../core/errors.ts';
import type { EndpointBinding, EndpointDriver, EndpointTarget, EnvRef } from '../../core/ports.ts';
import { encodeProxyV2Header } from './proxy-protocol.ts';

// Kept importable from here for existing callers; the text itself belongs to the contract.
export { endpointNotes } from '../../contract/endpoint-notes.ts';

type Family = 'IPv6' | 'IPv4';

const LOOPBACK: Record<Family, string> = { IPv6: '::1', IPv4: '127.0.0.1' };

export interface TcpEndpointDriverOptions {
  /** How long a new connection waits for a target (e.g. while a deploy swaps instances). @default 5000 */
  holdMs?: number;
  /** How long one attempt to reach a target may take before the next one is tried. @default 2000 */
  connectTimeoutMs?: number;
  /** While holding a connection, how often unreachable targets are tried again. @default 200 */
  retryIntervalMs?: number;
}

interface EndpointState {
  env: EnvRef;
  name: string;
  endpoint: Endpoint;
  listeners: Map<Family, net.Server>;
  targets: EndpointTarget[];
  /** Round-robin cursor: the next connection starts at targets[cursor % targets.length]. */
  cursor: number;
  /** Client and upstream sockets, destroyed when the endpoint is removed. */
  sockets: Set<net.Socket>;
  /** Held connections waiting for `setTargets`; called when targets change or the endpoint goes. */
  waiters: Set<() => void>;
  removed: boolean;
}

export class TcpEndpointDriver implements EndpointDriver {
  private readonly endpoints = new Map<string, EndpointState>();
  /** Per-endpoint queue so concurrent ensure/remove calls apply in order, never interleaved. */
  private readonly queues = new Map<string, Promise<unknown>>();
  private readonly holdMs: number;
  private readonly connectTimeoutMs: number;
  private readonly retryIntervalMs: number;

  constructor(options: TcpEndpointDriverOptions = {}) {
    this.holdMs = options.holdMs ?? 5000;
    this.connectTimeoutMs = options.connectTimeoutMs ?? 2000;
    this.retryIntervalMs = options.retryIntervalMs ?? 200;
  }

  ensure(env: EnvRef, name: string, endpoint: Endpoint): Promise<EndpointBinding> {
    return this.serialize(keyOf(env, name), () => this.apply(env, name, endpoint));
  }

  setTargets(env: EnvRef, name: string, targets: EndpointTarget[]): void {
    const state = this.endpoints.get(keyOf(env, name));
    if (!state) return;
    state.targets = targets.map((t) => ({ ...t }));
    wake(state);
  }

  remove(env: EnvRef, name: string): Promise<void> {
    const key = keyOf(env, name);
    return this.serialize(key, async () => {
      const state = this.endpoints.get(key);
      if (!state) return;
      this.endpoints.delete(key);
      state.removed = true;
      wake(state);
      for (const socket of state.sockets) socket.destroy();
      await Promise.all([...state.listeners.values()].map(closeServer));
      state.listeners.clear();
    });
  }

  /** Env destroy: every listener of the env closes; a TCP listener shares nothing with another. */
  async destroyEnv(env: EnvRef): Promise<void> {
    for (const e of await this.list(env)) await this.remove(env, e.name);
  }

  async list(env: EnvRef): Promise<{ name: string; endpoint: Endpoint; binding: EndpointBinding; targets: EndpointTarget[] }[]> {
    const prefix = `${envKeyOf(env)}/`;
    return [...this.endpoints.entries()]
      .filter(([key]) => key.startsWith(prefix))
      .map(([, s]) => ({ name: s.name, endpoint: { ...s.endpoint }, binding: bindingOf(s), targets: s.targets.map((t) => ({ ...t })) }))
      .sort((a, b) => a.name.localeCompare(b.name));
  }

  async shutdown(): Promise<void> {
    await Promise.all([...this.endpoints.values()].map((s) => this.remove(s.env, s.name)));
  }

  private async apply(env: EnvRef, name: string, endpoint: Endpoint): Promise<EndpointBinding> {
    const key = keyOf(env, name);
    const state: EndpointState = this.endpoints.get(key) ?? {
      env: { ...env },
      name,
      endpoint,
      listeners: new Map(),
      targets: [],
      cursor: 0,
      sockets: new Set(),
      waiters: new Set(),
      removed: false,
    };
    const wanted: Family[] = endpoint.ipv4 ? ['IPv6', 'IPv4'] : ['IPv6'];
    const portMoved = state.listeners.size > 0 && state.endpoint.port !== endpoint.port;
    const keep = portMoved ? [] : wanted.filter((f) => state.listeners.has(f));

    // Bind everything new before closing anything old: a busy port leaves the endpoint as it was.
    const opened = new Map<Family, net.Server>();
    try {
      for (const family of wanted.filter((f) => !keep.includes(f))) {
        opened.set(family, await this.listen(state, family, endpoint.port));
      }
    } catch (error) {
      await Promise.all([...opened.values()].map(closeServer));
      throw error;
    }
    // Existing connections stay up when a listener closes (only new connections are affected), so
    // this stops accepting without waiting for them to end, unlike remove().
    for (const [family, server] of [...state.listeners]) {
      if (keep.includes(family)) continue;
      state.listeners.delete(family);
      server.close();
    }
    for (const [family, server] of opened) state.listeners.set(family, server);

    state.endpoint = { ...endpoint };
    this.endpoints.set(key, state);
    return bindingOf(state);
  }

  private listen(state: EndpointState, family: Family, port: number): Promise<net.Server> {
    const host = LOOPBACK[family];
    // allowHalfOpen: a client that finished sending (FIN) still gets the app's whole answer.
    const server = net.createServer({ allowHalfOpen: true }, (client) => this.accept(state, client));
    return new Promise((resolve, reject) => {
      const onListenError = (error: NodeJS.ErrnoException) => reject(listenError(error, state.name, host, port));
      server.once('error', onListenError);
      server.listen({ host, port, ipv6Only: family === 'IPv6' }, () => {
        server.off('error', onListenError);
        // After binding, the only server errors are failed accepts (e.g. EMFILE); the client never
        // saw the connection, so there is nobody to tell, and the platform must not crash on it.
        server.on('error', () => {});
        resolve(server);
      });
    });
  }

  private accept(state: EndpointState, client: net.Socket): void {
    if (state.removed) {
      client.destroy();
      return;
    }
    track(state, client);
    void this.forward(state, client);
  }

  private async forward(state: EndpointState, client: net.Socket): Promise<void> {
    // The client's bytes wait in the socket (paused, not flowing) until an upstream is connected.
    const upstream = await this.connectUpstream(state, client);
    const header = upstream && state.endpoint.proxyProtocol === 'v2' ? proxyHeaderFor(client) : undefined;
    if (!upstream || client.destroyed || state.removed || header === null) {
      upstream?.destroy();
      client.destroy();
      return;
    }
    if (header) upstream.write(header);
    splice(client, upstream);
  }

  /** Tries targets round-robin; holds the client up to `holdMs` while there is none that answers. */
  private async connectUpstream(state: EndpointState, client: net.Socket): Promise<net.Socket | null> {
    const deadline = Date.now() + this.holdMs;
    while (!client.destroyed && !state.removed) {
      const targets = state.targets;
      for (let attempt = 0; attempt < targets.length && !client.destroyed && !state.removed; attempt++) {
        const target = targets[state.cursor++ % targets.length]!;
        const remaining = deadline - Date.now();
        const upstream = await dial(target, Math.max(1, Math.min(this.connectTimeoutMs, remaining)));
        if (upstream) {
          track(state, upstream);
          return upstream;
        }
        if (state.targets !== targets) break; // a deploy replaced the targets: start over with the new set
      }
      const remaining = deadline - Date.now();
      if (remaining <= 0) return null;
      await waitForTargets(state, Math.min(remaining, this.retryIntervalMs));
    }
    return null;
  }

  private serialize<T>(key: string, task: () => Promise<T>): Promise<T> {
    const previous = this.queues.get(key) ?? Promise.resolve();
    const result = previous.then(task, task);
    const settled = result.then(
      () => undefined,
      () => undefined,
    );
    this.queues.set(key, settled);
    void settled.then(() => {
      if (this.queues.get(key) === settled) this.queues.delete(key);
    });
    return result;
  }
}

function envKeyOf(env: EnvRef): string {
  return `${env.org}/${env.project}/${env.app}/${env.env}`;
}

function keyOf(env: EnvRef, name: string): string {
  return `${envKeyOf(env)}/${name}`;
}

function bindingOf(state: EndpointState): EndpointBinding {
  const listeners: EndpointBinding['listeners'] = [];
  for (const family of ['IPv6', 'IPv4'] as const) {
    const address = state.listeners.get(family)?.address();
    if (address && typeof address === 'object') listeners.push({ family, address: address.address, port: address.port });
  }
  return { listeners };
}

function listenError(error: NodeJS.ErrnoException, name: string, host: string, port: number): Error {
  const shown = host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`;
  const details = { endpoint: name, address: host, port };
  const fix = `choose another \`port\` for endpoint "${name}" in berth.yaml`;
  if (error.code === 'EADDRINUSE') {
    return new CapacityError('port-in-use', `${shown} is already in use by another process, so endpoint "${name}" cannot listen on it; ${fix}`, {
      details,
      next: ['berth endpoints list', 'berth deploy'],
      cause: error,
    });
  }
  if (error.code === 'EACCES') {
    return new PermissionError('port-privileged', `endpoint "${name}" may not listen on ${shown}: ports below 1024 need elevated privileges; ${fix} (1024 or above)`, {
      details,
      next: ['berth deploy'],
      cause: error,
    });
  }
  if (error.code === 'EADDRNOTAVAIL') {
    return new CapacityError('address-unavailable', `${shown} is not available on this machine (is the ${host.includes(':') ? 'IPv6' : 'IPv4'} loopback enabled?), so endpoint "${name}" cannot listen on it`, {
      details,
      next: ['berth endpoints list'],
      cause: error,
    });
  }
  return error;
}

function track(state: EndpointState, socket: net.Socket): void {
  state.sockets.add(socket);
  socket.once('close', () => state.sockets.delete(socket));
  // A reset from either peer is routine for a proxy; closing both sides (splice) is the answer.
  socket.on('error', () => socket.destroy());
}

/** Resolves with a connected socket, or null when the target refused or did not answer in time. */
function dial(target: EndpointTarget, timeoutMs: number): Promise<net.Socket | null> {
  return new Promise((resolve) => {
    const socket = net.connect({ host: target.host, port: target.port, allowHalfOpen: true });
    const fail = () => {
      clearTimeout(timer);
      socket.destroy();
      resolve(null);
    };
    const timer = setTimeout(fail, timeoutMs);
    socket.once('error', fail);
    socket.once('connect', () => {
      clearTimeout(timer);
      socket.off('error', fail);
      resolve(socket);
    });
  });
}

function waitForTargets(state: EndpointState, ms: number): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      clearTimeout(timer);
      state.waiters.delete(done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    state.waiters.add(done);
  });
}

function wake(state: EndpointState): void {
  for (const waiter of [...state.waiters]) waiter();
}

/** Source = the client, destination = the listener it reached (what an NLB reports). */
function proxyHeaderFor(client: net.Socket): Buffer | null {
  const { remoteAddress, remotePort, localAddress, localPort } = client;
  if (!remoteAddress || remotePort === undefined || !localAddress || localPort === undefined) return null; // the client is already gone
  const family = client.remoteFamily === 'IPv4' ? 'IPv4' : 'IPv6';
  try {
    return encodeProxyV2Header({ family, sourceAddress: remoteAddress, sourcePort: remotePort, destinationAddress: localAddress, destinationPort: localPort });
  } catch {
    // Node reported an address the header cannot carry; forwarding without it would lie to the app.
    return null;
  }
}

/**
 * Pipes both directions. A FIN travels through (pipe ends the other side once its data is
 * flushed); an error or an abrupt close on one side closes the other, so no socket outlives its peer.
 */
function splice(client: net.Socket, upstream: net.Socket): void {
  client.pipe(upstream);
  upstream.pipe(client);
  const closeOther = (other: net.Socket) => (hadError: boolean) => {
    if (other.destroyed) return;
    if (hadError) other.destroy();
    else endThenDestroy(other);
  };
  client.once('close', closeOther(upstream));
  upstream.once('close', closeOther(client));
}

/** Flushes what is queued for `socket`, then closes it; a peer that stops reading gets 5 s. */
function endThenDestroy(socket: net.Socket): void {
  const timer = setTimeout(() => socket.destroy(), 5000);
  timer.unref();
  socket.once('close', () => clearTimeout(timer));
  socket.end(() => socket.destroy());
}

function closeServer(server: net.Server): Promise<void> {
  return new Promise((resolve) => server.close(() => resolve()));
}
