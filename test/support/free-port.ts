import { createServer } from 'node:net';

/** A port that was free a moment ago on [::1] and 127.0.0.1 (the OS picks it). */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '::', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}
