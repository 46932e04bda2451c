// `berth exec` on AWS: the client side of an ECS Exec (Session Manager) shell session. The API
// calls ECS ExecuteCommand and hands over the session it returns; this speaks the data-channel
// protocol to its stream URL as session-manager-plugin does, so nobody installs the plugin. Like
// execSession (../exec-client.ts) it relays the terminal both ways and uses no Node API: the web
// console runs it over its own socket and terminal.
//
// The exit code: an ECS Exec session is interactive (a pty on the agent's side), and the agent ends
// it with channel_closed and no exit status (executeCommandsWithPty in amazon-ssm-agent's
// agent/session/shell/shell.go); the plugin then exits 0 (Stop in shellsession_unix.go). So a clean
// close resolves 0, unless the agent did send an ExitCode message, which it does only for
// non-interactive sessions.
import type { Host } from '../command.ts';
import { CliError, cliError } from '../errors.ts';
import { acknowledgedSequence, acknowledgement } from './acknowledge.ts';
import { encodeClientMessage, MessageType, parseClientMessage, PayloadType, type ClientMessage } from './client-message.ts';
import { answerHandshake, openDataChannelFrame, type HandshakeComplete, type HandshakeRequest } from './handshake.ts';
import { IncomingSequence, OutgoingSequence, RESEND_MAX_ATTEMPTS } from './sequencer.ts';
import { parseChannelClosed, parseExitCode, sizePayload, type ChannelClosed } from './stream-payloads.ts';
import { settleOnce } from '../settle-once.ts';

/** What ECS ExecuteCommand returns as `session`. */
export interface SsmSessionRef {
  sessionId: string;
  /** wss:// URL of ssmmessages' data channel. */
  streamUrl: string;
  tokenValue: string;
}

export interface SsmExecOptions {
  tty: boolean;
  /** The instance the session runs in, for messages and next commands. */
  instance?: string;
}

const CTRL_C = 0x03;
const EOT = 0x04;
// The plugin sends stdin in reads of at most 1,024 bytes (StdinBufferLimit in shellsession.go), the
// size the agent's own stream payloads keep to.
const INPUT_CHUNK = 1024;
// How often unacknowledged input is checked for resending (ResendSleepInterval in config.go).
const RESEND_CHECK_MS = 100;
// The size the plugin reports when it cannot read the terminal's (handleTerminalResize): wide, so a
// piped command's output is not wrapped by the remote pty.
const FALLBACK_SIZE = { cols: 300, rows: 100 };

export function ssmExecSession(host: Host, session: SsmSessionRef, options: SsmExecOptions, onStarted?: () => void): Promise<number> {
  const term = host.terminal;
  const incoming = new IncomingSequence();
  const outgoing = new OutgoingSequence();
  // Both names: the instance for the user, the session id for CloudTrail and AWS support.
  const where = `${options.instance ? ` on ${options.instance}` : ''} (${session.sessionId})`;
  const next = ['berth status', ...(options.instance ? [`berth logs --instance ${options.instance}`] : [])];
  const cleanups: (() => void)[] = [];
  let handshakeSeen = false;
  let started = false;
  let refusal: { code: string; message: string } | undefined;
  let exitCode: number | undefined;
  let lastSize = '';

  return new Promise<number>((resolve, reject) => {
    const ending = settleOnce(cleanups);
    const settle = (fn: () => void) => ending.settle(fn);
    const fail = (err: CliError) => settle(() => reject(err));

    const sendInput = (payloadType: number, payload: Uint8Array) => {
      const sequenceNumber = outgoing.next();
      const frame = encodeClientMessage({
        messageType: MessageType.InputStreamData,
        schemaVersion: 1,
        createdDate: host.now(),
        sequenceNumber,
        flags: 0,
        messageId: crypto.randomUUID(),
        payloadType,
        payload,
      });
      socket.sendBytes(frame);
      outgoing.sent(sequenceNumber, frame, host.now());
    };
    const sendKeys = (bytes: Uint8Array) => {
      // A lone newline goes as carriage return, the Enter key (SendInputDataMessage in streaming.go).
      const keys = bytes.length === 1 && bytes[0] === 0x0a ? Uint8Array.of(0x0d) : bytes;
      for (let i = 0; i < keys.length; i += INPUT_CHUNK) sendInput(PayloadType.Output, keys.subarray(i, i + INPUT_CHUNK));
    };
    const sendSize = () => {
      const size = term.size() ?? FALLBACK_SIZE;
      if (`${size.cols}x${size.rows}` === lastSize) return;
      lastSize = `${size.cols}x${size.rows}`;
      sendInput(PayloadType.Size, sizePayload(size));
    };

    // The agent reads input only once the handshake is complete; the size goes first, as the plugin's.
    const start = () => {
      started = true;
      sendSize();
      if (options.tty) {
        term.setRawMode(true);
        cleanups.push(() => term.setRawMode(false));
      } else {
        // Ctrl-C outside raw mode is a signal here; the remote pty turns the byte back into SIGINT
        // (handleControlSignals in shellsession.go).
        cleanups.push(term.onInterrupt(() => sendKeys(Uint8Array.of(CTRL_C))));
      }
      cleanups.push(term.onResize(sendSize));
      cleanups.push(
        term.onInput(sendKeys, () => {
          // The session is a pty, which has no end of input but Ctrl-D: without it `berth exec -- cat < file`
          // would never end. The plugin sends nothing; in raw mode end of input is not the user's keystroke.
          if (!options.tty) sendKeys(Uint8Array.of(EOT));
        }),
      );
      onStarted?.();
    };

    const onStream = (m: ClientMessage) => {
      switch (m.payloadType) {
        case PayloadType.HandshakeRequest: {
          handshakeSeen = true;
          const request = parseJson<HandshakeRequest>(m.payload);
          if (!request) return fail(protocolError('the agent’s handshake request is not JSON'));
          const answer = answerHandshake(request);
          refusal ??= answer.refusal;
          sendInput(PayloadType.HandshakeResponse, new TextEncoder().encode(JSON.stringify(answer.response)));
          return;
        }
        case PayloadType.HandshakeComplete: {
          const message = parseJson<HandshakeComplete>(m.payload)?.CustomerMessage;
          // The plugin prints it on stdout; here stdout is the command's own.
          if (message) term.write('stderr', new TextEncoder().encode(`${message}\n`));
          if (!started && !refusal) start();
          return;
        }
        case PayloadType.StdErr:
          term.write('stderr', m.payload);
          return;
        case PayloadType.ExitCode:
          exitCode = parseExitCode(m.payload) ?? exitCode;
          return;
        case PayloadType.EncChallengeRequest:
          // Follows only a KMSEncryption action, which was refused.
          return;
        default:
          // Output, and anything else the plugin would print as well (DisplayMessage). An agent too old
          // for the handshake starts straight with output (ProcessFirstMessage in sessionhandler.go).
          if (!started && !handshakeSeen && m.payloadType === PayloadType.Output) start();
          term.write('stdout', m.payload);
      }
    };

    const onChannelClosed = (closed: ChannelClosed) => {
      if (refusal) return fail(cliError('conflict', refusal.code, refusal.message, next));
      if (!started) {
        return fail(cliError('internal', 'exec-session-not-started', `the exec session${where} closed before the command started${closed.Output ? ` (${closed.Output})` : ''}`, next));
      }
      // Why the service closed it, e.g. an idle timeout; the plugin prints it too.
      if (closed.Output) term.write('stderr', new TextEncoder().encode(`${closed.Output}\n`));
      settle(() => resolve(exitCode ?? 0));
    };

    const onFrame = (frame: Uint8Array) => {
      if (ending.settled) return;
      const parsed = parseClientMessage(frame);
      // Dropped unacknowledged, as the plugin does (OutputMessageHandler): the agent sends it again.
      if ('invalid' in parsed) return;
      const m = parsed.message;
      if (m.messageType === MessageType.OutputStreamData) {
        const { acknowledge, deliver } = incoming.accept(m);
        if (acknowledge) socket.sendBytes(encodeClientMessage(acknowledgement(m, crypto.randomUUID(), host.now())));
        for (const d of deliver) if (!ending.settled) onStream(d);
      } else if (m.messageType === MessageType.Acknowledge) {
        const sequence = acknowledgedSequence(m);
        if (sequence !== undefined) outgoing.acknowledged(sequence, host.now());
      } else if (m.messageType === MessageType.ChannelClosed) {
        onChannelClosed(parseChannelClosed(m.payload));
      }
      // start_publication and pause_publication: the plugin ignores both and keeps resending until acked.
    };

    // No ResumeSession: the plugin reconnects with it using the user's AWS credentials, which the CLI
    // does not have. A lost connection ends the session.
    const lost = (why: string) => {
      if (refusal) return fail(cliError('conflict', refusal.code, refusal.message, next));
      if (!started) return fail(cliError('internal', 'exec-session-not-started', `the exec session${where} closed before the command started (${why})`, next));
      fail(cliError('internal', 'exec-disconnected', `the exec session${where} ended before the command exited (${why})`, next));
    };

    const origin = safeOrigin(session.streamUrl);
    const socket = host.openSocket(session.streamUrl, {}, {
      open: () => socket.send(openDataChannelFrame(session.tokenValue, crypto.randomUUID(), crypto.randomUUID())),
      binary: onFrame,
      // The plugin reads text frames as frames too (websocketchannel.go); UTF-8 text re-encodes exactly.
      message: (text) => onFrame(new TextEncoder().encode(text)),
      refused: (status, body) =>
        fail(cliError('internal', 'ssm-refused', `Session Manager (${origin}) refused the exec session${where}: HTTP ${status} ${body.slice(0, 200)}`.trim(), next)),
      close: (code, reason) => lost(['connection closed', [code, reason].filter(Boolean).join(' ')].filter(Boolean).join(': ')),
      error: (err) => {
        // A session that never started never reached the service; one that did lost its connection.
        if (started || handshakeSeen) return lost(err.message);
        fail(cliError('internal', 'ssm-unreachable', `Session Manager (${origin}) is not reachable (${err.message})`, ['check the network path to ssmmessages in the env’s region', ...next]));
      },
    });
    cleanups.push(() => socket.close());

    const resend = setInterval(() => {
      const due = outgoing.overdue(host.now());
      if (!due) return;
      if (due.resends > RESEND_MAX_ATTEMPTS) {
        return fail(cliError('timeout', 'exec-stalled', `the exec session${where} stopped acknowledging input (message ${due.sequenceNumber} resent ${RESEND_MAX_ATTEMPTS} times)`, next));
      }
      socket.sendBytes(due.frame);
    }, RESEND_CHECK_MS);
    cleanups.push(() => clearInterval(resend));
  });
}

function protocolError(what: string): CliError {
  return cliError('internal', 'ssm-protocol', `${what}; berth exec speaks the Session Manager protocol of session-manager-plugin 1.2`, ['berth status']);
}

function parseJson<T>(payload: Uint8Array): T | undefined {
  try {
    return JSON.parse(new TextDecoder().decode(payload)) as T;
  } catch {
    return undefined;
  }
}

function safeOrigin(url: string): string {
  try {
    return new URL(url).host;
  } catch {
    return url;
  }
}
