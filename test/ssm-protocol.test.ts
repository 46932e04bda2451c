// `berth exec` on AWS speaks the Session Manager data-channel protocol itself. Framing is checked
// against the byte layout and vectors of session-manager-plugin's Go tests
// (src/message/messageparser_test.go), the handshake and acknowledgements against the JSON the
// plugin sends (src/datachannel/streaming.go), and a whole session against a local WebSocket
// server playing the agent (test/support/ssm-fake-agent.ts).
import { createHash, randomBytes } from 'node:crypto';
import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import { WebSocketServer } from 'ws';
import { afterEach, describe, expect, it } from 'vitest';
import type { Host, Terminal } from '../cli/core/command.ts';
import { CliError } from '../cli/core/errors.ts';
import { acknowledgedSequence, acknowledgement } from '../cli/core/ssm/acknowledge.ts';
import { encodeClientMessage, parseClientMessage, PayloadType, uuidFromWire, uuidToWire, type ClientMessage } from '../cli/core/ssm/client-message.ts';
import { answerHandshake, CLIENT_VERSION, openDataChannelFrame } from '../cli/core/ssm/handshake.ts';
import { IncomingSequence, OutgoingSequence } from '../cli/core/ssm/sequencer.ts';
import { ssmExecSession } from '../cli/core/ssm/session.ts';
import { sha256 } from '../cli/core/ssm/sha256.ts';
import { parseExitCode } from '../cli/core/ssm/stream-payloads.ts';
import { openNodeSocket } from '../cli/lib/node-socket.ts';
import { agentFrame, startFakeAgent, type AgentConnection } from './support/ssm-fake-agent.ts';

// The message of TestSerializeAndDeserializeClientMessage (messageparser_test.go).
const GO_MESSAGE_ID = 'dd01e56b-ff48-483e-a508-b5f073f31b16';
const GO_MESSAGE: ClientMessage = {
  messageType: 'input_stream_data',
  schemaVersion: 1,
  createdDate: 1503434274948,
  sequenceNumber: 1,
  flags: 2,
  messageId: GO_MESSAGE_ID,
  payloadType: 0,
  payload: new TextEncoder().encode('payload'),
};
// What SerializeClientMessage writes for it, field by field.
const GO_FRAME_HEX = [
  '00000074', // HeaderLength 116
  Buffer.from('input_stream_data'.padEnd(32, ' ')).toString('hex'), // MessageType, space-padded
  '00000001', // SchemaVersion
  '0000015e0baa7884', // CreatedDate 1503434274948
  '0000000000000001', // SequenceNumber
  '0000000000000002', // Flags
  'a508b5f073f31b16' + 'dd01e56bff48483e', // MessageId: low half, then high half
  '239f59ed55e737c77147cf55ad0c1b030b6d7ee748a7426952f9b852d5a935e5', // SHA-256("payload")
  '00000000', // PayloadType
  '00000007', // PayloadLength
  Buffer.from('payload').toString('hex'),
].join('');

const text = (bytes: Uint8Array) => new TextDecoder().decode(bytes);
const bytes = (s: string) => new TextEncoder().encode(s);

describe('SHA-256', () => {
  it('matches node:crypto at block boundaries and beyond', () => {
    for (const n of [0, 1, 55, 56, 63, 64, 65, 1024, 70_000]) {
      const data = randomBytes(n);
      expect(Buffer.from(sha256(data)).toString('hex'), `${n} bytes`).toBe(createHash('sha256').update(data).digest('hex'));
    }
    expect(Buffer.from(sha256(bytes('abc'))).toString('hex')).toBe('ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad');
  });
});

describe('the ClientMessage frame', () => {
  it('encodes the Go test message to the bytes SerializeClientMessage writes', () => {
    expect(Buffer.from(encodeClientMessage(GO_MESSAGE)).toString('hex')).toBe(GO_FRAME_HEX);
  });

  it('puts every header field at the plugin’s offset, the sequence number as longToBytes(5747283) does', () => {
    const frame = Buffer.from(encodeClientMessage({ ...GO_MESSAGE, messageType: 'acknowledge', sequenceNumber: 5747283, flags: 3, payloadType: PayloadType.Size }));
    expect(frame.readUInt32BE(0)).toBe(116);
    expect(frame.subarray(4, 36).toString()).toBe('acknowledge'.padEnd(32, ' '));
    expect(frame.readUInt32BE(36)).toBe(1);
    expect(Number(frame.readBigUInt64BE(40))).toBe(1503434274948);
    expect([...frame.subarray(48, 56)]).toEqual([0x00, 0x00, 0x00, 0x00, 0x00, 0x57, 0xb2, 0x53]);
    expect(Number(frame.readBigUInt64BE(56))).toBe(3);
    expect(frame.subarray(80, 112).toString('hex')).toBe(createHash('sha256').update('payload').digest('hex'));
    expect(frame.readUInt32BE(112)).toBe(3);
    expect(frame.readUInt32BE(116)).toBe(7);
    expect(frame.subarray(120).toString()).toBe('payload');
  });

  it('writes a UUID low half first and reads it back', () => {
    expect(Buffer.from(uuidToWire(GO_MESSAGE_ID)).toString('hex')).toBe('a508b5f073f31b16dd01e56bff48483e');
    expect(uuidFromWire(uuidToWire(GO_MESSAGE_ID))).toBe(GO_MESSAGE_ID);
  });

  it('decodes the Go test frame to the same message', () => {
    const parsed = parseClientMessage(Buffer.from(GO_FRAME_HEX, 'hex'));
    expect(parsed).toEqual({ message: { ...GO_MESSAGE, payload: expect.any(Uint8Array) } });
    expect(text((parsed as { message: ClientMessage }).message.payload)).toBe('payload');
  });

  it('reads the payload after the header length the sender declares', () => {
    const frame = Buffer.from(GO_FRAME_HEX, 'hex');
    const longer = Buffer.concat([frame.subarray(0, 116), Buffer.alloc(4), frame.subarray(116)]);
    longer.writeUInt32BE(120, 0);
    longer.writeUInt32BE(7, 120);
    const parsed = parseClientMessage(longer);
    expect('message' in parsed && text(parsed.message.payload)).toBe('payload');
  });

  it('refuses a frame whose payload digest does not match, as Validate does', () => {
    const frame = Buffer.from(GO_FRAME_HEX, 'hex');
    frame[80] ^= 0xff;
    expect(parseClientMessage(frame)).toEqual({ invalid: expect.stringContaining('digest') });
  });

  it('refuses a frame without created date or type, or too short for a header', () => {
    expect(parseClientMessage(encodeClientMessage({ ...GO_MESSAGE, createdDate: 0 }))).toEqual({ invalid: 'created date is missing' });
    expect(parseClientMessage(encodeClientMessage({ ...GO_MESSAGE, messageType: '' }))).toEqual({ invalid: 'message type is missing' });
    expect(parseClientMessage(new Uint8Array(119))).toEqual({ invalid: expect.stringContaining('119') });
  });

  it('lets publication notices through unvalidated', () => {
    const notice = Buffer.from(encodeClientMessage({ ...GO_MESSAGE, messageType: 'pause_publication', createdDate: 0 }));
    notice[80] ^= 0xff;
    expect(parseClientMessage(notice)).toEqual({ message: expect.objectContaining({ messageType: 'pause_publication' }) });
  });
});

describe('acknowledgements', () => {
  it('acknowledge a stream message with the plugin’s JSON, outside the stream (sequence 0, flags 3)', () => {
    const received: ClientMessage = { ...GO_MESSAGE, messageType: 'output_stream_data', sequenceNumber: 2, payloadType: PayloadType.Output };
    const ack = acknowledgement(received, '3f1e9f80-1c55-4cb4-b1b5-0a7e2e3f4d5c', 1700000000000);
    expect(ack).toMatchObject({ messageType: 'acknowledge', schemaVersion: 1, createdDate: 1700000000000, sequenceNumber: 0, flags: 3, payloadType: 0 });
    expect(text(ack.payload)).toBe(
      `{"AcknowledgedMessageType":"output_stream_data","AcknowledgedMessageId":"${GO_MESSAGE_ID}","AcknowledgedMessageSequenceNumber":2,"IsSequentialMessage":true}`,
    );
    expect(acknowledgedSequence(ack)).toBe(2);
  });
});

describe('the handshakes', () => {
  it('opens the data channel with the plugin’s JSON text, token included', () => {
    const frame = openDataChannelFrame('tok', 'req-1', 'client-1');
    expect(frame).toBe('{"MessageSchemaVersion":"1.0","RequestId":"req-1","TokenValue":"tok","ClientId":"client-1","ClientVersion":"1.2.0.0"}');
  });

  it('accepts the interactive session ECS Exec asks for', () => {
    const answer = answerHandshake({ AgentVersion: '3.3.987.0', RequestedClientActions: [{ ActionType: 'SessionType', ActionParameters: { SessionType: 'InteractiveCommands', Properties: null } }] });
    expect(answer.refusal).toBeUndefined();
    expect(JSON.stringify(answer.response)).toBe(
      `{"ClientVersion":"${CLIENT_VERSION}","ProcessedClientActions":[{"ActionType":"SessionType","ActionStatus":1,"ActionResult":null,"Error":""}],"Errors":null}`,
    );
  });

  it('fails KMS encryption and port sessions, saying why', () => {
    const kms = answerHandshake({
      AgentVersion: '3.3.987.0',
      RequestedClientActions: [
        { ActionType: 'SessionType', ActionParameters: { SessionType: 'Standard_Stream' } },
        { ActionType: 'KMSEncryption', ActionParameters: { KMSKeyId: 'arn:aws:kms:eu-west-1:123456789012:key/k' } },
      ],
    });
    expect(kms.response.ProcessedClientActions.map((a) => [a.ActionType, a.ActionStatus])).toEqual([
      ['SessionType', 1],
      ['KMSEncryption', 2],
    ]);
    expect(kms.response.Errors).toHaveLength(1);
    expect(kms.refusal?.code).toBe('ssm-kms-encryption-unsupported');
    const port = answerHandshake({ AgentVersion: '3', RequestedClientActions: [{ ActionType: 'SessionType', ActionParameters: { SessionType: 'Port' } }] });
    expect(port.response.ProcessedClientActions[0].ActionStatus).toBe(2);
    expect(port.refusal?.code).toBe('ssm-session-type-unsupported');
  });
});

describe('sequencing', () => {
  const stream = (seq: number): ClientMessage => ({ ...GO_MESSAGE, messageType: 'output_stream_data', sequenceNumber: seq, payload: bytes(`m${seq}`) });
  const delivered = (r: { deliver: ClientMessage[] }) => r.deliver.map((m) => m.sequenceNumber);

  it('delivers in order, holds (and acknowledges) early messages, drops duplicates unacknowledged', () => {
    const incoming = new IncomingSequence();
    expect(incoming.accept(stream(0))).toMatchObject({ acknowledge: true });
    const early = incoming.accept(stream(2));
    expect([early.acknowledge, delivered(early)]).toEqual([true, []]);
    expect(delivered(incoming.accept(stream(3)))).toEqual([]);
    const due = incoming.accept(stream(1));
    expect([due.acknowledge, delivered(due)]).toEqual([true, [1, 2, 3]]);
    expect(incoming.accept(stream(1))).toEqual({ acknowledge: false, deliver: [] });
    expect(delivered(incoming.accept(stream(4)))).toEqual([4]);
  });

  it('drops an early message unacknowledged once the hold is full, so the agent resends it', () => {
    const incoming = new IncomingSequence(2);
    incoming.accept(stream(1));
    incoming.accept(stream(2));
    expect(incoming.accept(stream(3))).toEqual({ acknowledge: false, deliver: [] });
    expect(delivered(incoming.accept(stream(0)))).toEqual([0, 1, 2]);
  });

  it('numbers outgoing messages from 0 and resends the oldest unacknowledged one when overdue', () => {
    const outgoing = new OutgoingSequence();
    expect([outgoing.next(), outgoing.next()]).toEqual([0, 1]);
    outgoing.sent(0, bytes('a'), 1000);
    outgoing.sent(1, bytes('b'), 1000);
    expect(outgoing.overdue(1200)).toBeUndefined();
    expect(outgoing.overdue(1201)).toMatchObject({ sequenceNumber: 0, resends: 1 });
    expect(outgoing.overdue(1202)).toBeUndefined();
    outgoing.acknowledged(0, 1210);
    expect(outgoing.unacknowledged).toEqual([1]);
    expect(outgoing.overdue(5000)).toMatchObject({ sequenceNumber: 1, frame: bytes('b') });
  });

  it('reads the agent’s exit code message', () => {
    expect(parseExitCode(bytes('EXIT_CODE: 3'))).toBe(3);
    expect(parseExitCode(bytes('no code'))).toBeUndefined();
  });
});

describe('the Node socket', () => {
  it('hands binary frames to `binary` when given, and as text to `message` otherwise', async () => {
    const wss = new WebSocketServer({ host: '127.0.0.1', port: 0 });
    await once(wss, 'listening');
    wss.on('connection', (ws) => ws.on('message', (data, isBinary) => ws.send(data as Buffer, { binary: isBinary })));
    const url = `ws://127.0.0.1:${(wss.address() as AddressInfo).port}`;
    const roundTrip = (withBinary: boolean) =>
      new Promise<string[]>((resolve, reject) => {
        const got: string[] = [];
        const socket = openNodeSocket(url, {}, {
          open: () => {
            socket.sendBytes(Uint8Array.of(0x68, 0x69));
            socket.send('text');
          },
          message: (t) => {
            got.push(`message:${t}`);
            if (got.length === 2) resolve(got), socket.close();
          },
          ...(withBinary ? { binary: (b: Uint8Array) => got.push(`binary:${Buffer.from(b).toString('hex')}`) } : {}),
          refused: () => reject(new Error('refused')),
          close: () => undefined,
          error: reject,
        });
      });
    expect(await roundTrip(true)).toEqual(['binary:6869', 'message:text']);
    expect(await roundTrip(false)).toEqual(['message:hi', 'message:text']);
    await new Promise<void>((resolve) => wss.close(() => resolve()));
  });
});

// ---------------------------------------------------------------------------------------------

interface TestTerminal {
  host: Host;
  stdout: () => string;
  stderr: () => string;
  rawModes: boolean[];
  type(s: string | Uint8Array): void;
  endInput(): void;
  interrupt(): void;
  resize(size: { cols: number; rows: number }): void;
}

function testHost(initialSize: { cols: number; rows: number } | undefined): TestTerminal {
  const out: Buffer[] = [];
  const err: Buffer[] = [];
  const rawModes: boolean[] = [];
  let size = initialSize;
  let input: ((b: Uint8Array) => void) | undefined;
  let end: (() => void) | undefined;
  let resized: (() => void) | undefined;
  let interrupted: (() => void) | undefined;
  const terminal: Terminal = {
    size: () => size,
    setRawMode: (raw) => rawModes.push(raw),
    onInput: (data, done) => ((input = data), (end = done), () => ((input = undefined), (end = undefined))),
    onResize: (listener) => ((resized = listener), () => (resized = undefined)),
    onInterrupt: (listener) => ((interrupted = listener), () => (interrupted = undefined)),
    write: (stream, b) => (stream === 'stdout' ? out : err).push(Buffer.from(b)),
    readLine: async () => undefined,
  };
  const unused = () => {
    throw new Error('not used by an exec session');
  };
  const host: Host = {
    readFile: unused,
    writeFile: unused,
    fileExists: unused,
    resolvePath: unused,
    packSnapshot: unused,
    readStdin: unused,
    stdinIsTTY: true,
    now: () => Date.now(),
    sleep: (ms) => new Promise((r) => setTimeout(r, ms)),
    interrupted: new Promise(() => undefined),
    terminal,
    openSocket: openNodeSocket,
    exit: unused,
  };
  return {
    host,
    stdout: () => Buffer.concat(out).toString(),
    stderr: () => Buffer.concat(err).toString(),
    rawModes,
    type: (s) => input!(typeof s === 'string' ? bytes(s) : s),
    endInput: () => end!(),
    interrupt: () => interrupted!(),
    resize: (s) => ((size = s), resized!()),
  };
}

const SESSION_TYPE_REQUEST = JSON.stringify({
  AgentVersion: '3.3.987.0',
  RequestedClientActions: [{ ActionType: 'SessionType', ActionParameters: { SessionType: 'InteractiveCommands', Properties: null } }],
});
const HANDSHAKE_COMPLETE = JSON.stringify({ HandshakeTimeToComplete: 1_000_000, CustomerMessage: '' });
const channelClosed = (output = '') =>
  JSON.stringify({ MessageId: GO_MESSAGE_ID, CreatedDate: '2024-05-01T10:00:00.000Z', DestinationId: 'ecs:prod_0abc_0abc-1', SessionId: 'ecs-execute-command-0abc', MessageType: 'channel_closed', SchemaVersion: 1, Output: output });

let agents: { close(): Promise<void> }[] = [];
afterEach(async () => {
  await Promise.all(agents.map((a) => a.close()));
  agents = [];
});

async function startSession(size: { cols: number; rows: number } | undefined, tty: boolean, token = 'token-abc') {
  const agent = await startFakeAgent();
  agents.push(agent);
  const term = testHost(size);
  let started = 0;
  const result = ssmExecSession(term.host, { sessionId: 'ecs-execute-command-0abc', streamUrl: agent.url, tokenValue: token }, { tty, instance: 'task-0abc' }, () => started++);
  result.catch(() => undefined);
  const conn = await agent.connection;
  return { term, conn, result, started: () => started };
}

/** Plays the agent's handshake; returns the client's handshake response. */
async function handshake(conn: AgentConnection, request = SESSION_TYPE_REQUEST) {
  const open = JSON.parse(await conn.receiveText()) as Record<string, string>;
  if (open.TokenValue !== 'token-abc') {
    conn.ws.close(1008, 'token rejected');
    return undefined;
  }
  conn.send({ type: 'output_stream_data', seq: 0, flags: 1, payloadType: PayloadType.HandshakeRequest, payload: request });
  const ack = await conn.receiveFrame();
  const response = await conn.receiveFrame();
  return { open, ack, response };
}

describe('an exec session against a local agent', () => {
  it('handshakes, delivers output in order once, relays keys, size and resize, and ends 0 on channel_closed', async () => {
    const { term, conn, result, started } = await startSession({ cols: 120, rows: 40 }, true);
    conn.autoAck = false;
    const hs = (await handshake(conn))!;
    expect(Object.keys(hs.open)).toEqual(['MessageSchemaVersion', 'RequestId', 'TokenValue', 'ClientId', 'ClientVersion']);
    expect(hs.open).toMatchObject({ MessageSchemaVersion: '1.0', TokenValue: 'token-abc', RequestId: expect.stringMatching(/^[0-9a-f-]{36}$/) });
    expect(hs.ack).toMatchObject({ type: 'acknowledge', seq: 0, flags: 3, digestOk: true, headerLength: 116 });
    expect(JSON.parse(hs.ack.payload.toString())).toMatchObject({ AcknowledgedMessageType: 'output_stream_data', AcknowledgedMessageSequenceNumber: 0, IsSequentialMessage: true });
    expect(hs.response).toMatchObject({ type: 'input_stream_data', seq: 0, flags: 0, payloadType: PayloadType.HandshakeResponse, digestOk: true });
    expect(JSON.parse(hs.response.payload.toString())).toMatchObject({ ProcessedClientActions: [{ ActionType: 'SessionType', ActionStatus: 1 }] });
    // Unacknowledged, the response comes again, byte for byte.
    const resend = await conn.receiveResend(hs.response);
    expect(resend.raw.equals(hs.response.raw)).toBe(true);
    conn.acknowledge(hs.response);
    conn.autoAck = true;
    expect(started()).toBe(0);

    conn.send({ type: 'output_stream_data', seq: 1, payloadType: PayloadType.HandshakeComplete, payload: HANDSHAKE_COMPLETE });
    expect(await conn.receiveFrame()).toMatchObject({ type: 'acknowledge', seq: 0 });
    const size = await conn.receiveFrame();
    expect(size).toMatchObject({ type: 'input_stream_data', seq: 1, payloadType: PayloadType.Size });
    expect(size.payload.toString()).toBe('{"cols":120,"rows":40}');
    expect(started()).toBe(1);
    expect(term.rawModes).toEqual([true]);

    // A corrupt frame is dropped unacknowledged; then 3 before 2, then 2 again.
    conn.send({ type: 'output_stream_data', seq: 2, payloadType: PayloadType.Output, payload: 'garbled', corruptDigest: true });
    conn.send({ type: 'output_stream_data', seq: 3, payloadType: PayloadType.Output, payload: 'world\r\n' });
    expect(JSON.parse((await conn.receiveFrame()).payload.toString())).toMatchObject({ AcknowledgedMessageSequenceNumber: 3 });
    expect(term.stdout()).toBe('');
    conn.send({ type: 'output_stream_data', seq: 2, payloadType: PayloadType.Output, payload: 'hello ' });
    expect(JSON.parse((await conn.receiveFrame()).payload.toString())).toMatchObject({ AcknowledgedMessageSequenceNumber: 2 });
    expect(term.stdout()).toBe('hello world\r\n');
    conn.send({ type: 'output_stream_data', seq: 2, payloadType: PayloadType.Output, payload: 'hello ' });

    term.type('ls -la\n');
    // The next frame is the input: the duplicate got no ack.
    expect(await conn.receiveFrame()).toMatchObject({ type: 'input_stream_data', seq: 2, payloadType: PayloadType.Output, payload: Buffer.from('ls -la\n') });
    term.type('\n');
    expect((await conn.receiveFrame()).payload).toEqual(Buffer.from('\r'));
    term.type(Uint8Array.of(0x03));
    expect(await conn.receiveFrame()).toMatchObject({ seq: 4, payload: Buffer.of(0x03) });
    term.type(new Uint8Array(2100).fill(0x61));
    const chunks = [await conn.receiveFrame(), await conn.receiveFrame(), await conn.receiveFrame()];
    expect(chunks.map((c) => [c.seq, c.payload.length])).toEqual([
      [5, 1024],
      [6, 1024],
      [7, 52],
    ]);

    term.resize({ cols: 100, rows: 30 });
    term.resize({ cols: 100, rows: 30 });
    term.type('x');
    const resized = await conn.receiveFrame();
    expect([resized.seq, resized.payloadType, resized.payload.toString()]).toEqual([8, PayloadType.Size, '{"cols":100,"rows":30}']);
    expect(await conn.receiveFrame()).toMatchObject({ seq: 9, payload: Buffer.from('x') });

    conn.send({ type: 'channel_closed', seq: 0, flags: 3, payloadType: 0, payload: channelClosed() });
    await expect(result).resolves.toBe(0);
    expect(term.stdout()).toBe('hello world\r\n');
    expect(term.stderr()).toBe('');
    expect(term.rawModes).toEqual([true, false]);
  });

  it('without a tty: stderr apart, Ctrl-C and end of input as keys, the plugin’s fallback size, and the agent’s exit code', async () => {
    const { term, conn, result } = await startSession(undefined, false);
    await handshake(conn);
    conn.send({ type: 'output_stream_data', seq: 1, payloadType: PayloadType.HandshakeComplete, payload: JSON.stringify({ HandshakeTimeToComplete: 5, CustomerMessage: 'This session is encrypted using AWS KMS.' }) });
    await conn.receiveFrame();
    expect((await conn.receiveFrame()).payload.toString()).toBe('{"cols":300,"rows":100}');
    term.interrupt();
    expect((await conn.receiveFrame()).payload).toEqual(Buffer.of(0x03));
    term.endInput();
    expect((await conn.receiveFrame()).payload).toEqual(Buffer.of(0x04));
    conn.send({ type: 'output_stream_data', seq: 2, payloadType: PayloadType.StdErr, payload: 'oops\n' });
    conn.send({ type: 'output_stream_data', seq: 3, payloadType: PayloadType.ExitCode, payload: 'EXIT_CODE: 3' });
    await conn.receiveFrame();
    await conn.receiveFrame();
    conn.send({ type: 'channel_closed', seq: 0, flags: 3, payloadType: 0, payload: channelClosed('Session terminated: idle timeout') });
    await expect(result).resolves.toBe(3);
    expect(term.stdout()).toBe('');
    expect(term.stderr()).toBe('This session is encrypted using AWS KMS.\noops\nSession terminated: idle timeout\n');
    expect(term.rawModes).toEqual([]);
  });

  it('fails with exec-disconnected when the connection drops before channel_closed', async () => {
    const { term, conn, result } = await startSession({ cols: 80, rows: 24 }, true);
    await handshake(conn);
    conn.send({ type: 'output_stream_data', seq: 1, payloadType: PayloadType.HandshakeComplete, payload: HANDSHAKE_COMPLETE });
    await conn.receiveFrame();
    await conn.receiveFrame();
    conn.ws.terminate();
    const err = await result.then(() => undefined, (e: unknown) => e);
    expect(err).toBeInstanceOf(CliError);
    expect((err as CliError).body).toMatchObject({ category: 'internal', code: 'exec-disconnected', message: expect.stringContaining('task-0abc'), next: expect.arrayContaining(['berth status']) });
    expect(term.rawModes).toEqual([true, false]);
  });

  it('refuses a KMS-encrypted session with a clear error and never starts', async () => {
    const request = JSON.stringify({
      AgentVersion: '3.3.987.0',
      RequestedClientActions: [
        { ActionType: 'SessionType', ActionParameters: { SessionType: 'InteractiveCommands' } },
        { ActionType: 'KMSEncryption', ActionParameters: { KMSKeyId: 'alias/exec' } },
      ],
    });
    const { term, conn, result, started } = await startSession({ cols: 80, rows: 24 }, true);
    const hs = (await handshake(conn, request))!;
    expect(JSON.parse(hs.response.payload.toString()).ProcessedClientActions.map((a: { ActionStatus: number }) => a.ActionStatus)).toEqual([1, 2]);
    // The agent cancels the session on the failed action.
    conn.send({ type: 'channel_closed', seq: 0, flags: 3, payloadType: 0, payload: channelClosed() });
    await expect(result).rejects.toMatchObject({ body: { category: 'conflict', code: 'ssm-kms-encryption-unsupported' } });
    expect(started()).toBe(0);
    expect(term.rawModes).toEqual([]);
  });

  it('fails with exec-session-not-started when the service rejects the token', async () => {
    const { conn, result } = await startSession({ cols: 80, rows: 24 }, true, 'stale-token');
    expect(await handshake(conn)).toBeUndefined();
    await expect(result).rejects.toMatchObject({ body: { code: 'exec-session-not-started', message: expect.stringContaining('1008 token rejected') } });
  });

  it('fails with ssm-unreachable when nothing listens at the stream URL', async () => {
    const term = testHost(undefined);
    const free = new WebSocketServer({ host: '127.0.0.1', port: 0 });
    await once(free, 'listening');
    const { port } = free.address() as AddressInfo;
    await new Promise<void>((resolve) => free.close(() => resolve()));
    const result = ssmExecSession(term.host, { sessionId: 's', streamUrl: `ws://127.0.0.1:${port}/v1/data-channel/s`, tokenValue: 't' }, { tty: false });
    await expect(result).rejects.toMatchObject({ body: { code: 'ssm-unreachable', message: expect.stringContaining(`127.0.0.1:${port}`) } });
  });
});

it('the agent-side frame helper agrees with the plugin’s Go vector', () => {
  // Guards the fake agent itself: it must write what SerializeClientMessage writes.
  const frame = agentFrame({ type: 'input_stream_data', seq: 1, flags: 2, id: GO_MESSAGE_ID, createdDate: 1503434274948, payloadType: 0, payload: 'payload' });
  expect(frame.toString('hex')).toBe(GO_FRAME_HEX);
});
