// The Host of the Node CLI: files, stdin, the snapshot packer, Ctrl-C, the terminal and WebSockets.
import { existsSync } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import type { Host, HostSocket, SocketEvents } from '../core/command.ts';
import { nodeTerminal } from './node-terminal.ts';

export function nodeHost(cwd: string): Host {
  const interrupted = new Promise<void>((done) => {
    process.once('SIGINT', () => done());
  });
  return {
    readFile: (path) => readFile(path, 'utf8'),
    writeFile: (path, content, options) => writeFile(path, content, { mode: options?.mode, flag: options?.exclusive ? 'wx' : 'w' }),
    fileExists: async (path) => existsSync(path),
    resolvePath: (...parts) => resolve(cwd, ...parts),
    // Only deploy packs; tar, gzip and crypto are not loaded for every command.
    packSnapshot: async (dir) => (await import('./pack-snapshot.ts')).packSnapshot(dir),
    readStdin: async () => {
      const chunks: Buffer[] = [];
      for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
      return Buffer.concat(chunks).toString('utf8');
    },
    stdinIsTTY: Boolean(process.stdin.isTTY),
    now: () => Date.now(),
    sleep: (ms) => new Promise((r) => setTimeout(r, ms)),
    interrupted,
    terminal: nodeTerminal(),
    openSocket: openSocketLazily,
    // Let stdout and stderr drain first: the remote command's last output must not be cut.
    exit: (code) => new Promise<never>(() => process.stdout.write('', () => process.stderr.write('', () => process.exit(code)))),
    openBrowser: async (url) => (await import('./open-browser.ts')).openBrowser(url),
    // Only `berth mcp` loads the SDK's stdio transport.
    serveMcp: async (server) => (await import('./mcp-stdio.ts')).serveOverStdio(server),
  };
}

/** `ws` loads when a command opens a socket (exec), not at every start of the CLI. */
function openSocketLazily(url: string, headers: Record<string, string>, events: SocketEvents): HostSocket {
  let socket: HostSocket | undefined;
  let closed = false;
  import('./node-socket.ts').then(
    ({ openNodeSocket }) => {
      if (!closed) socket = openNodeSocket(url, headers, events);
    },
    (err: unknown) => events.error(err instanceof Error ? err : new Error(String(err))),
  );
  // Callers send only after `open`, which comes from the real socket, so nothing is lost here.
  return {
    send: (text) => socket?.send(text),
    sendBytes: (bytes) => socket?.sendBytes(bytes),
    close: () => {
      closed = true;
      socket?.close();
    },
  };
}
