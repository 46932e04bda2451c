// One `berth exec` session: a command started in an instance's sandbox, dir and environment,
// wired to a WebSocket. With a TTY it runs on a pseudo-terminal (node-pty), otherwise with pipes.
// The message protocol (JSON text frames, bytes as base64):
//   client → server  {type:'start', argv}  first, then {type:'stdin', data}, {type:'eof'},
//                    {type:'resize', cols, rows}, {type:'signal', name}
//   server → client  {type:'started', instance, workload, release}, {type:'stdout'|'stderr', data},
//                    {type:'exit', code, signal}, {type:'error', code, message}
import { spawn as spawnChild } from 'node:child_process';
import { constants } from 'node:os';
import pty from 'node-pty';
import type { WebSocket } from 'ws';
import type { ExecClientMessage, ExecServerMessage } from '../contract/exec.ts';
import type { SpawnPlan } from '../drivers/local/instance-sandbox.ts';
import { signalGroup } from '../drivers/local/process-group.ts';
import { ReadyGate } from './tty-ready-gate.ts';

export interface ExecTarget {
  instance: string;
  workload: string;
  release: string;
  /** The command the ticket was issued for: `start` must ask for exactly this one. */
  argv: string[];
  /** How `argv` starts in the instance, looked up again at `start`: it may have stopped since the upgrade. */
  resolve(): SpawnPlan | undefined;
}

export interface TtySize {
  cols: number;
  rows: number;
}

type ClientMessage = ExecClientMessage;

/** What the session needs of the running command, whichever way it was started. */
interface Running {
  write(bytes: Buffer): void;
  end(): void;
  resize(size: TtySize): void;
  signal(name: NodeJS.Signals): void;
  kill(): void;
}

const NOTHING_RUNNING: Running = { write: () => undefined, end: () => undefined, resize: () => undefined, signal: () => undefined, kill: () => undefined };

// A session's command outlives a dropped socket by at most this long after SIGHUP/SIGTERM.
const KILL_GRACE_MS = 2000;
// Start failures read like a shell's: 127 for a command that cannot be run.
const NOT_RUNNABLE = 127;

export function runExecSession(ws: WebSocket, target: ExecTarget, tty: TtySize | undefined): void {
  let running: Running | undefined;
  let finished = false;
  const send = (message: ExecServerMessage): void => {
    if (ws.readyState === ws.OPEN) ws.send(JSON.stringify(message));
  };
  const fail = (code: string, message: string): void => {
    send({ type: 'error', code, message });
    ws.close(1008, code);
  };
  const exit = (code: number | null, signal: string | null): void => {
    if (finished) return;
    finished = true;
    // A signalled command gets the shell's 128+n, so the client always has a number to exit with.
    const signo = signal ? (constants.signals as Record<string, number>)[signal] : undefined;
    send({ type: 'exit', code: code ?? (signo ? 128 + signo : 1), signal });
    ws.close(1000, 'exit');
  };

  ws.on('message', (raw, isBinary) => {
    let msg: ClientMessage;
    try {
      msg = JSON.parse(isBinary ? '' : raw.toString()) as ClientMessage;
    } catch {
      return fail('bad-message', 'messages are JSON text frames');
    }
    if (!running) {
      if (msg.type !== 'start' || !Array.isArray(msg.argv) || !msg.argv.length || msg.argv.some((a) => typeof a !== 'string')) {
        return fail('bad-start', 'the first message must be {"type":"start","argv":["cmd", ...]} with a non-empty argv of strings');
      }
      if (JSON.stringify(target.argv) !== JSON.stringify(msg.argv)) {
        return fail('argv-mismatch', 'the command differs from the one the exec session was opened for; open a new session for it');
      }
      const plan = target.resolve();
      if (!plan) return fail('instance-not-running', `instance ${target.instance} is no longer running; pick another with \`berth status\``);
      send({ type: 'started', instance: target.instance, workload: target.workload, release: target.release });
      running = tty ? startPty(msg.argv, plan, tty, send, exit) : startPiped(msg.argv, plan, send, exit);
      return;
    }
    if (msg.type === 'stdin' && typeof msg.data === 'string') running.write(Buffer.from(msg.data, 'base64'));
    else if (msg.type === 'eof') running.end();
    else if (msg.type === 'resize' && validSize(msg)) running.resize({ cols: msg.cols, rows: msg.rows });
    else if (msg.type === 'signal' && typeof msg.name === 'string' && msg.name in constants.signals) running.signal(msg.name as NodeJS.Signals);
  });
  ws.on('close', () => {
    if (!finished) running?.kill();
    finished = true;
  });
}

function validSize(s: { cols: unknown; rows: unknown }): boolean {
  return Number.isInteger(s.cols) && Number.isInteger(s.rows) && (s.cols as number) > 0 && (s.rows as number) > 0 && (s.cols as number) < 10000 && (s.rows as number) < 10000;
}

function startPty(argv: string[], plan: SpawnPlan, size: TtySize, send: (m: ExecServerMessage) => void, exit: (code: number | null, signal: string | null) => void): Running {
  let p: pty.IPty;
  try {
    p = pty.spawn(plan.file, plan.args, { cwd: plan.cwd, env: plan.env, cols: size.cols, rows: size.rows, name: 'xterm-256color' });
  } catch (err) {
    send({ type: 'stderr', data: Buffer.from(`berth: cannot run ${argv[0]}: ${(err as Error).message}\r\n`).toString('base64') });
    exit(NOT_RUNNABLE, null);
    return NOTHING_RUNNING;
  }
  const stdout = (text: string): void => {
    if (text) send({ type: 'stdout', data: Buffer.from(text, 'utf8').toString('base64') });
  };
  // Input waits until the command owns its terminal (tty-ready.ts): a ^C before would be lost.
  const gate = new ReadyGate(plan.readyMarker, stdout, (text) => p.write(text));
  p.onData((d) => gate.output(d));
  p.onExit(({ exitCode, signal }) => {
    const name = signal ? (Object.entries(constants.signals).find(([, n]) => n === signal)?.[0] ?? null) : null;
    // node-pty reports exit before the last output has been read off the master side.
    setTimeout(() => {
      gate.end();
      exit(name ? null : exitCode, name);
    }, 50);
  });
  return {
    write: (bytes) => gate.input(bytes.toString('utf8')),
    // A terminal has no end of input of its own; ^D is what the line discipline reads as EOF.
    end: () => gate.input('\x04'),
    resize: ({ cols, rows }) => p.resize(cols, rows),
    // Ctrl-C goes through the pseudo-terminal, as a keyboard's would: the line discipline signals
    // the foreground job (not just the command we started), and a raw-mode program reads ^C.
    signal: (name) => (name === 'SIGINT' ? gate.input('\x03') : signalGroup(p.pid, name)),
    kill: () => killGroup(p.pid, 'SIGHUP'),
  };
}

function startPiped(argv: string[], plan: SpawnPlan, send: (m: ExecServerMessage) => void, exit: (code: number | null, signal: string | null) => void): Running {
  // Its own process group, so a signal or the kill on disconnect reaches what `sh -c` started.
  const child = spawnChild(plan.file, plan.args, { cwd: plan.cwd, env: plan.env, detached: true, stdio: ['pipe', 'pipe', 'pipe'] });
  child.stdout.on('data', (d: Buffer) => send({ type: 'stdout', data: d.toString('base64') }));
  child.stderr.on('data', (d: Buffer) => send({ type: 'stderr', data: d.toString('base64') }));
  // The command may exit without reading its input; a write to the closed pipe is not an error here.
  child.stdin.on('error', () => undefined);
  child.on('error', (err) => {
    if (child.pid !== undefined) return;
    send({ type: 'stderr', data: Buffer.from(`berth: cannot run ${argv[0]}: ${err.message}\n`).toString('base64') });
    exit(NOT_RUNNABLE, null);
  });
  // `close`, not `exit`: all output has been read by then.
  child.on('close', (code, signal) => exit(code, signal));
  return {
    write: (bytes) => child.stdin.write(bytes),
    end: () => child.stdin.end(),
    resize: () => undefined,
    signal: (name) => child.pid !== undefined && signalGroup(child.pid, name),
    kill: () => child.pid !== undefined && killGroup(child.pid, 'SIGTERM'),
  };
}

function killGroup(pgid: number, first: NodeJS.Signals): void {
  signalGroup(pgid, first);
  setTimeout(() => signalGroup(pgid, 'SIGKILL'), KILL_GRACE_MS).unref();
}
