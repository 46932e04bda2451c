// The client side of an exec session (protocol in functions/embedded/exec-session.ts): opens the
// socket through the Host, relays the terminal both ways, resolves with the remote exit code.
// Uses no Node API, so the console can run it over its own socket and terminal.
import type { ExecServerMessage, ExecStarted } from '../../functions/contract/exec.ts';
import type { Host } from './command.ts';
import { apiUnreachable } from '../../functions/core/api-unreachable.ts';
import { CliError, cliError } from './errors.ts';
import { settleOnce } from './settle-once.ts';

export interface ExecRequest {
  /** ws(s):// URL of the exec socket with its one-time ticket (from `POST …/exec-sessions`). */
  url: string;
  instance: string;
  argv: string[];
  tty: boolean;
}

// The socket's messages are the contract's (declared once, with the server's side).
export type Started = ExecStarted;
type ServerMessage = ExecServerMessage;

const CTRL_C = 0x03;

export function execSession(host: Host, req: ExecRequest, onStarted: (s: Started) => void): Promise<number> {
  const term = host.terminal;
  const url = new URL(req.url);
  const size = req.tty ? (term.size() ?? { cols: 80, rows: 24 }) : undefined;
  if (size) for (const [k, v] of Object.entries({ cols: String(size.cols), rows: String(size.rows) })) url.searchParams.set(k, v);
  const cleanups: (() => void)[] = [];

  return new Promise<number>((resolve, reject) => {
    const { settle } = settleOnce(cleanups);
    const send = (m: object) => socket.send(JSON.stringify(m));
    const relay = () => {
      if (req.tty) {
        term.setRawMode(true);
        cleanups.push(() => term.setRawMode(false));
        cleanups.push(
          term.onResize(() => {
            const s = term.size();
            if (s) send({ type: 'resize', cols: s.cols, rows: s.rows });
          }),
        );
      } else {
        cleanups.push(term.onInterrupt(() => send({ type: 'signal', name: 'SIGINT' })));
      }
      cleanups.push(
        term.onInput(
          (bytes) => {
            // In raw mode Ctrl-C arrives as a key; it is passed on as the interrupt it means.
            if (req.tty && bytes.length === 1 && bytes[0] === CTRL_C) send({ type: 'signal', name: 'SIGINT' });
            else send({ type: 'stdin', data: toBase64(bytes) });
          },
          () => send({ type: 'eof' }),
        ),
      );
    };
    const socket = host.openSocket(url.toString(), {}, {
      open: () => send({ type: 'start', argv: req.argv }),
      message: (text) => {
        const m = JSON.parse(text) as ServerMessage;
        if (m.type === 'started') {
          onStarted(m);
          relay();
        } else if (m.type === 'stdout' || m.type === 'stderr') {
          term.write(m.type, fromBase64(m.data));
        } else if (m.type === 'exit') {
          settle(() => resolve(m.code));
        } else if (m.type === 'error') {
          settle(() => reject(cliError(m.code === 'instance-not-running' ? 'not-found' : 'invalid-input', m.code, m.message, ['berth status'])));
        }
      },
      refused: (status, body) => settle(() => reject(refusal(status, body))),
      close: () => settle(() => reject(cliError('internal', 'exec-disconnected', `the exec session on ${req.instance} ended before the command exited (connection closed)`, ['berth status', `berth logs --instance ${req.instance}`]))),
      error: (err) => settle(() => reject(new CliError(apiUnreachable(`${url.origin}${url.pathname}`, err, 'the exec endpoint')))),
    });
    cleanups.push(() => socket.close());
  });
}

function refusal(status: number, body: string): CliError {
  try {
    const parsed = JSON.parse(body) as { error?: CliError['body'] };
    if (parsed.error?.category) return new CliError({ ...parsed.error, next: parsed.error.next ?? [] });
  } catch {
    // not the API's envelope: fall through
  }
  return cliError('internal', 'bad-response', `the exec endpoint answered ${status}: ${body.slice(0, 200)}`);
}

function toBase64(bytes: Uint8Array): string {
  let s = '';
  for (let i = 0; i < bytes.length; i += 0x8000) s += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  return btoa(s);
}

function fromBase64(data: string): Uint8Array {
  const s = atob(data);
  const bytes = new Uint8Array(s.length);
  for (let i = 0; i < s.length; i++) bytes[i] = s.charCodeAt(i);
  return bytes;
}
