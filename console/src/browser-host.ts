// The Host of the console: what `cli/lib/node-host.ts` gives the CLI, from the browser. Files are
// the workspace, the network is fetch and WebSocket, the terminal is a TerminalSession, Ctrl-C
// (or closing a panel) is `interrupted`, and `exit` ends the run with a code.
import type { Host, HostSocket, SocketEvents } from '../../cli/core/command.ts';
import { packWorkspace } from './pack-snapshot.ts';
import type { TerminalSession } from './terminal-session.ts';
import { fsError, type Workspace } from './workspace.ts';

/** One command's run: its Ctrl-C, its exit code, its sockets. */
export class RunControl {
  readonly interrupted: Promise<void>;
  readonly exited: Promise<number>;
  private interrupt!: () => void;
  private exit!: (code: number) => void;
  readonly sockets = new Set<WebSocket>();

  constructor() {
    this.interrupted = new Promise((resolve) => (this.interrupt = resolve));
    this.exited = new Promise((resolve) => (this.exit = resolve));
  }

  stop(): void {
    this.interrupt();
  }

  end(code: number): void {
    this.exit(code);
  }

  /** Closing a panel: interrupt, and close what the command holds open. */
  abort(): void {
    this.interrupt();
    for (const ws of this.sockets) ws.close();
  }
}

export function browserHost(workspace: Workspace, session: TerminalSession, run: RunControl): Host {
  return {
    readFile: async (path) => workspace.read(path),
    writeFile: async (path, content, options) => workspace.write(path, content, options),
    fileExists: async (path) => workspace.exists(path),
    resolvePath: (...parts) => workspace.resolve(...parts),
    packSnapshot: (dir) => packWorkspace(workspace, dir),
    // No pipe into a browser tab: commands that read stdin get nothing (use their --file or flags).
    readStdin: async () => '',
    stdinIsTTY: true,
    now: () => Date.now(),
    sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
    interrupted: run.interrupted,
    terminal: session.terminal(),
    openSocket: (url, _headers, events) => openBrowserSocket(url, events, run),
    exit: (code) => {
      run.end(code);
      return new Promise<never>(() => undefined);
    },
    openBrowser: async (url) => {
      const tab = window.open(url, '_blank');
      if (!tab) return false;
      tab.opener = null;
      return true;
    },
  };
}

/**
 * A browser WebSocket cannot send headers (the exec socket's one-time ticket is in its URL), and
 * it never sees the status of a refused upgrade: a refusal is reported as an error.
 */
function openBrowserSocket(url: string, events: SocketEvents, run: RunControl): HostSocket {
  const ws = new WebSocket(url);
  ws.binaryType = 'arraybuffer';
  run.sockets.add(ws);
  let opened = false;
  ws.onopen = () => {
    opened = true;
    events.open();
  };
  ws.onmessage = (e) => {
    if (typeof e.data === 'string') events.message(e.data);
    else if (events.binary) events.binary(new Uint8Array(e.data as ArrayBuffer));
    else events.message(new TextDecoder().decode(e.data as ArrayBuffer));
  };
  ws.onerror = () => {
    if (!opened) events.error(new Error('the WebSocket connection was refused or failed'));
  };
  ws.onclose = (e) => {
    run.sockets.delete(ws);
    events.close(e.code, e.reason);
  };
  return {
    send: (text) => {
      if (ws.readyState === WebSocket.OPEN) ws.send(text);
    },
    sendBytes: (bytes) => {
      if (ws.readyState === WebSocket.OPEN) ws.send(bytes as Uint8Array<ArrayBuffer>);
    },
    close: () => ws.close(),
  };
}

