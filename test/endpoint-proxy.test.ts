// Integration: real TCP listeners on loopback, real backends, real clients.
import net from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import type { Endpoint } from '../functions/contract/manifest.ts';
import type { EnvRef } from '../functions/core/ports.ts';
import { BerthError } from '../functions/core/errors.ts';
import { endpointNotes, TcpEndpointDriver } from '../functions/drivers/local/endpoint-proxy.ts';
import { decodeProxyV2Header } from '../functions/drivers/local/proxy-protocol.ts';

const ENV: EnvRef = { org: 'acme', project: 'shop', app: 'store', env: 'prod' };
const OTHER_ENV: EnvRef = { ...ENV, env: 'staging' };

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

function newDriver(options?: ConstructorParameters<typeof TcpEndpointDriver>[0]): TcpEndpointDriver {
  const driver = new TcpEndpointDriver(options);
  cleanups.push(() => driver.shutdown());
  return driver;
}

/** A port nothing listens on right now, on either loopback. */
async function freePort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen({ host: '::1', port: 0, ipv6Only: true }, resolve));
  const { port } = server.address() as net.AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

interface Backend {
  name: string;
  port: number;
  /** Every byte each connection sent, in connection order. */
  received: Buffer[];
}

/** Answers `<name>:<bytes received>` once the client finished sending (half-close). */
async function startBackend(name: string): Promise<Backend> {
  const backend: Backend = { name, port: 0, received: [] };
  const server = net.createServer((socket) => {
    const chunks: Buffer[] = [];
    socket.on('data', (chunk) => chunks.push(chunk));
    socket.on('end', () => {
      const all = Buffer.concat(chunks);
      backend.received.push(all);
      socket.end(`${name}:${all.toString('latin1')}`);
    });
    socket.on('error', () => {});
  });
  await new Promise<void>((resolve) => server.listen({ host: '127.0.0.1', port: 0 }, resolve));
  backend.port = (server.address() as net.AddressInfo).port;
  cleanups.push(() => new Promise<void>((resolve) => server.close(() => resolve())));
  return backend;
}

function target(backend: Backend) {
  return { instance: `i-${backend.name}`, host: '127.0.0.1', port: backend.port };
}

/** Sends `payload`, half-closes, and resolves with everything the server sent back. */
function request(host: string, port: number, payload = 'ping', onConnect?: (socket: net.Socket) => void): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = net.connect({ host, port }, () => {
      onConnect?.(socket);
      socket.end(payload);
    });
    const chunks: Buffer[] = [];
    socket.on('data', (chunk) => chunks.push(chunk));
    socket.on('error', reject);
    socket.on('close', () => resolve(Buffer.concat(chunks).toString('latin1')));
  });
}

function connectError(host: string, port: number): Promise<string | undefined> {
  return new Promise((resolve) => {
    const socket = net.connect({ host, port });
    socket.on('connect', () => {
      socket.destroy();
      resolve(undefined);
    });
    socket.on('error', (error: NodeJS.ErrnoException) => resolve(error.code));
  });
}

function endpoint(port: number, extra: Partial<Endpoint> = {}): Endpoint {
  return { workload: 'web', port, ...extra };
}

describe('TcpEndpointDriver', () => {
  it('listens on [::1] and spreads connections round-robin over the targets', async () => {
    const [a, b] = await Promise.all([startBackend('a'), startBackend('b')]);
    const port = await freePort();
    const driver = newDriver();

    const binding = await driver.ensure(ENV, 'public', endpoint(port));
    expect(binding.listeners).toEqual([{ family: 'IPv6', address: '::1', port }]);
    driver.setTargets(ENV, 'public', [target(a), target(b)]);

    const answers = [];
    for (let i = 0; i < 4; i++) answers.push(await request('::1', port, `req${i}`));
    expect(answers).toEqual(['a:req0', 'b:req1', 'a:req2', 'b:req3']);
  });

  it('refuses IPv4 unless the endpoint opts in, and follows the flag both ways', async () => {
    const a = await startBackend('a');
    const port = await freePort();
    const driver = newDriver();
    await driver.ensure(ENV, 'public', endpoint(port));
    driver.setTargets(ENV, 'public', [target(a)]);
    expect(await connectError('127.0.0.1', port)).toBe('ECONNREFUSED');

    const dual = await driver.ensure(ENV, 'public', endpoint(port, { ipv4: true }));
    expect(dual.listeners).toEqual([
      { family: 'IPv6', address: '::1', port },
      { family: 'IPv4', address: '127.0.0.1', port },
    ]);
    expect(await request('127.0.0.1', port, 'v4')).toBe('a:v4');
    expect(await request('::1', port, 'v6')).toBe('a:v6');

    await driver.ensure(ENV, 'public', endpoint(port));
    expect(await connectError('127.0.0.1', port)).toBe('ECONNREFUSED');
    expect(await request('::1', port, 'still')).toBe('a:still');
  });

  it('prepends a PROXY v2 header naming the client and the endpoint port', async () => {
    const a = await startBackend('a');
    const port = await freePort();
    const driver = newDriver();
    await driver.ensure(ENV, 'public', endpoint(port, { proxyProtocol: 'v2' }));
    driver.setTargets(ENV, 'public', [target(a)]);

    let clientPort = 0;
    const answer = await request('::1', port, 'hello', (socket) => (clientPort = socket.localPort!));
    const decoded = decodeProxyV2Header(a.received[0]!);
    expect(decoded).toMatchObject({ family: 'IPv6', sourceAddress: '::1', sourcePort: clientPort, destinationAddress: '::1', destinationPort: port });
    expect(a.received[0]!.subarray(decoded!.length).toString()).toBe('hello');
    expect(answer.startsWith('a:')).toBe(true);
  });

  it('sends no header without proxyProtocol', async () => {
    const a = await startBackend('a');
    const port = await freePort();
    const driver = newDriver();
    await driver.ensure(ENV, 'public', endpoint(port));
    driver.setTargets(ENV, 'public', [target(a)]);
    await request('::1', port, 'plain');
    expect(a.received).toEqual([Buffer.from('plain')]);
  });

  it('fails with capacity/port-in-use when the port is taken, and leaves nothing half-bound', async () => {
    const port = await freePort();
    const squatter = net.createServer();
    await new Promise<void>((resolve) => squatter.listen({ host: '127.0.0.1', port }, resolve));
    cleanups.push(() => new Promise<void>((resolve) => squatter.close(() => resolve())));
    const driver = newDriver();

    const error = await driver.ensure(ENV, 'public', endpoint(port, { ipv4: true })).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(BerthError);
    expect(error).toMatchObject({ category: 'capacity', code: 'port-in-use' });
    expect((error as Error).message).toContain(`127.0.0.1:${port}`);
    expect((error as Error).message).toMatch(/choose another `port`.*berth\.yaml/);
    expect((await driver.list(ENV))).toEqual([]);
    expect(await connectError('::1', port)).toBe('ECONNREFUSED');

    // IPv6 alone is free on that port.
    const binding = await driver.ensure(ENV, 'public', endpoint(port));
    expect(binding.listeners).toEqual([{ family: 'IPv6', address: '::1', port }]);
  });

  it('names [::1] in the error when the IPv6 port is taken', async () => {
    const port = await freePort();
    const first = newDriver();
    await first.ensure(ENV, 'public', endpoint(port));
    const error = await newDriver().ensure(OTHER_ENV, 'public', endpoint(port)).catch((e: unknown) => e);
    expect(error).toMatchObject({ category: 'capacity', code: 'port-in-use', details: { address: '::1', port } });
    expect((error as Error).message).toContain(`[::1]:${port}`);
  });

  it('skips a dead target', async () => {
    const a = await startBackend('a');
    const dead = { instance: 'i-dead', host: '127.0.0.1', port: await freePort() };
    const port = await freePort();
    const driver = newDriver();
    await driver.ensure(ENV, 'public', endpoint(port));
    driver.setTargets(ENV, 'public', [dead, target(a)]);
    const answers = await Promise.all([1, 2, 3].map((i) => request('::1', port, `r${i}`)));
    expect(answers.sort()).toEqual(['a:r1', 'a:r2', 'a:r3']);
  });

  it('holds a connection until targets arrive, and drops it when none come', async () => {
    const a = await startBackend('a');
    const port = await freePort();
    const driver = newDriver({ holdMs: 400 });
    await driver.ensure(ENV, 'public', endpoint(port));

    const held = request('::1', port, 'early');
    setTimeout(() => driver.setTargets(ENV, 'public', [target(a)]), 100);
    expect(await held).toBe('a:early');

    driver.setTargets(ENV, 'public', []);
    const started = Date.now();
    const dropped = await request('::1', port, 'late').catch((e: NodeJS.ErrnoException) => e.code);
    expect(['', 'ECONNRESET']).toContain(dropped);
    expect(Date.now() - started).toBeGreaterThanOrEqual(350);
  });

  it('is idempotent, moves to a new port, and lists endpoints per env', async () => {
    const a = await startBackend('a');
    const [port, moved] = [await freePort(), await freePort()];
    const driver = newDriver();
    await driver.ensure(ENV, 'public', endpoint(port));
    driver.setTargets(ENV, 'public', [target(a)]);
    expect(await driver.ensure(ENV, 'public', endpoint(port))).toEqual({ listeners: [{ family: 'IPv6', address: '::1', port }] });
    expect(await request('::1', port)).toBe('a:ping');

    await driver.ensure(ENV, 'public', endpoint(moved));
    expect(await connectError('::1', port)).toBe('ECONNREFUSED');
    expect(await request('::1', moved)).toBe('a:ping');

    await driver.ensure(OTHER_ENV, 'public', endpoint(port));
    expect((await driver.list(ENV))).toEqual([
      { name: 'public', endpoint: endpoint(moved), binding: { listeners: [{ family: 'IPv6', address: '::1', port: moved }] }, targets: [target(a)] },
    ]);
    expect((await driver.list(OTHER_ENV)).map((e) => e.binding.listeners[0]!.port)).toEqual([port]);
  });

  it('remove closes the listener and the open connections', async () => {
    const a = await startBackend('a');
    const port = await freePort();
    const driver = newDriver();
    await driver.ensure(ENV, 'public', endpoint(port));
    driver.setTargets(ENV, 'public', [target(a)]);

    // The backend answers only after the client half-closes, so this connection stays open.
    const socket = net.connect({ host: '::1', port });
    socket.on('error', () => {});
    await new Promise((resolve) => socket.once('connect', resolve));
    socket.write('pending');
    await new Promise((resolve) => setTimeout(resolve, 50));
    const closed = new Promise((resolve) => socket.once('close', resolve));

    await driver.remove(ENV, 'public');
    await closed;
    expect(await connectError('::1', port)).toBe('ECONNREFUSED');
    expect((await driver.list(ENV))).toEqual([]);
    await driver.remove(ENV, 'public'); // removing again is a no-op
  });
});

describe('endpointNotes', () => {
  it('says IPv6-only, no PROXY header, and that TLS is the app\'s job', () => {
    const notes = endpointNotes(endpoint(8080, { targetPort: 3000 })).join('\n');
    expect(notes).toMatch(/IPv6 only/);
    expect(notes).toMatch(/ipv4: true/);
    expect(notes).toMatch(/no PROXY protocol/);
    expect(notes).toMatch(/TLS is the app's job.*port 3000 of workload "web"/);
  });

  it('mentions IPv4 and the PROXY v2 header when enabled', () => {
    const notes = endpointNotes(endpoint(8080, { ipv4: true, proxyProtocol: 'v2' })).join('\n');
    expect(notes).toMatch(/IPv6 and IPv4/);
    expect(notes).toMatch(/PROXY protocol v2/);
  });
});
