// Host ports for instances: whatever the OS hands out, minus the ones already promised.
import net from 'node:net';
import { BerthError } from '../../core/errors.ts';

/**
 * A free TCP port on `host` that is not in `taken`. A port reserved for an instance is unbound
 * until its process listens (or while it waits to restart), so the OS may hand it out again.
 */
export async function freePort(host: string, taken: Set<number>): Promise<number> {
  for (let attempt = 0; attempt < 20; attempt++) {
    const port = await ephemeralPort(host);
    if (!taken.has(port)) return port;
  }
  throw new BerthError('capacity', 'no-free-port', `no free TCP port on ${host} after 20 attempts; stop some instances or free ports`, { next: ['berth status'] });
}

function ephemeralPort(host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, host, () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}
