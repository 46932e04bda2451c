// The far side of a Session Manager data channel (the ssmmessages service and the SSM agent behind
// it), on a real local WebSocket server. Frames are written and read here with Buffer and
// node:crypto straight from the layout in session-manager-plugin's src/message/clientmessage.go,
// independently of cli/core/ssm, so a mistake there cannot cancel itself out.
import { createHash, randomUUID } from 'node:crypto';
import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import { WebSocketServer, type WebSocket } from 'ws';

export interface AgentFrame {
  type: string;
  seq: number;
  payloadType: number;
  payload: Buffer | string;
  flags?: number;
  id?: string;
  createdDate?: number;
  /** Sends a wrong digest, to see the client drop the frame. */
  corruptDigest?: boolean;
}

export function agentFrame(f: AgentFrame): Buffer {
  const payload = Buffer.from(f.payload);
  const buf = Buffer.alloc(120 + payload.length);
  buf.writeUInt32BE(116, 0);
  buf.fill(' ', 4, 36);
  buf.write(f.type, 4, 'utf8');
  buf.writeUInt32BE(1, 36);
  buf.writeBigUInt64BE(BigInt(f.createdDate ?? Date.now()), 40);
  buf.writeBigInt64BE(BigInt(f.seq), 48);
  buf.writeBigUInt64BE(BigInt(f.flags ?? 0), 56);
  // putUuid: the UUID's low 8 bytes first, then its high 8.
  const id = Buffer.from((f.id ?? randomUUID()).replace(/-/g, ''), 'hex');
  id.copy(buf, 64, 8, 16);
  id.copy(buf, 72, 0, 8);
  const digest = createHash('sha256').update(payload).digest();
  if (f.corruptDigest) digest[0] ^= 0xff;
  digest.copy(buf, 80);
  buf.writeUInt32BE(f.payloadType, 112);
  buf.writeUInt32BE(payload.length, 116);
  payload.copy(buf, 120);
  return buf;
}

export interface ReadFrame {
  headerLength: number;
  type: string;
  schemaVersion: number;
  createdDate: number;
  seq: number;
  flags: number;
  id: string;
  digestOk: boolean;
  payloadType: number;
  payload: Buffer;
  raw: Buffer;
}

export function readFrame(raw: Buffer): ReadFrame {
  const hex = Buffer.concat([raw.subarray(72, 80), raw.subarray(64, 72)]).toString('hex');
  const payload = raw.subarray(120, 120 + raw.readUInt32BE(116));
  return {
    headerLength: raw.readUInt32BE(0),
    type: raw.subarray(4, 36).toString('utf8').trimEnd(),
    schemaVersion: raw.readUInt32BE(36),
    createdDate: Number(raw.readBigUInt64BE(40)),
    seq: Number(raw.readBigInt64BE(48)),
    flags: Number(raw.readBigUInt64BE(56)),
    id: `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`,
    digestOk: createHash('sha256').update(payload).digest().equals(raw.subarray(80, 112)),
    payloadType: raw.readUInt32BE(112),
    payload,
    raw,
  };
}

/** One client connection, seen from the agent's side. */
export class AgentConnection {
  /** Input frames the agent acknowledges as they arrive, as the real agent does; off to watch resends. */
  autoAck = true;
  /** Frames the client sent again (same message id): resends, kept apart from the stream. */
  readonly resent: ReadFrame[] = [];
  closed = false;
  private readonly inbox: { data: Buffer; binary: boolean }[] = [];
  private readonly seen = new Set<string>();
  private wake?: () => void;

  constructor(readonly ws: WebSocket) {
    ws.on('message', (data, binary) => {
      this.inbox.push({ data: Buffer.from(data as Buffer), binary });
      this.wake?.();
    });
    ws.on('close', () => {
      this.closed = true;
      this.wake?.();
    });
  }

  /** The next text frame: the open_data_channel request. */
  async receiveText(): Promise<string> {
    const m = await this.take();
    if (m.binary) throw new Error(`expected a text frame, got ${m.data.length} binary bytes`);
    return m.data.toString('utf8');
  }

  /** The next binary frame the client had not sent before. */
  async receiveFrame(): Promise<ReadFrame> {
    for (;;) {
      const m = await this.take();
      if (!m.binary) throw new Error(`expected a binary frame, got text ${m.data.toString()}`);
      const frame = readFrame(m.data);
      if (this.seen.has(frame.id)) {
        this.resent.push(frame);
        continue;
      }
      this.seen.add(frame.id);
      if (this.autoAck && frame.type === 'input_stream_data') this.acknowledge(frame);
      return frame;
    }
  }

  /** Waits for a resend of `frame`. */
  async receiveResend(frame: ReadFrame): Promise<ReadFrame> {
    for (;;) {
      const again = this.resent.find((r) => r.id === frame.id);
      if (again) return again;
      const m = await this.take();
      const next = readFrame(m.data);
      if (next.id !== frame.id) throw new Error(`expected a resend of ${frame.seq}, got ${next.type} ${next.seq}`);
      this.resent.push(next);
    }
  }

  send(frame: AgentFrame): void {
    this.ws.send(agentFrame(frame));
  }

  acknowledge(frame: ReadFrame): void {
    const content = { AcknowledgedMessageType: frame.type, AcknowledgedMessageId: frame.id, AcknowledgedMessageSequenceNumber: frame.seq, IsSequentialMessage: true };
    this.send({ type: 'acknowledge', seq: 0, flags: 3, payloadType: 0, payload: JSON.stringify(content) });
  }

  private async take(): Promise<{ data: Buffer; binary: boolean }> {
    const deadline = Date.now() + 3_000;
    while (!this.inbox.length) {
      if (this.closed) throw new Error('the client closed the connection');
      if (Date.now() > deadline) throw new Error('no frame from the client within 3 s');
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, 50);
        this.wake = () => {
          clearTimeout(timer);
          resolve();
        };
      });
    }
    return this.inbox.shift()!;
  }
}

export async function startFakeAgent(): Promise<{ url: string; connection: Promise<AgentConnection>; close(): Promise<void> }> {
  const wss = new WebSocketServer({ host: '127.0.0.1', port: 0 });
  await once(wss, 'listening');
  const { port } = wss.address() as AddressInfo;
  const connection = new Promise<AgentConnection>((resolve) => wss.once('connection', (ws) => resolve(new AgentConnection(ws))));
  return {
    url: `ws://127.0.0.1:${port}/v1/data-channel/ecs-execute-command-0abc?role=publish_subscribe&cell-number=AAEAAQ`,
    connection,
    close: async () => {
      for (const client of wss.clients) client.terminate();
      await new Promise<void>((resolve) => wss.close(() => resolve()));
    },
  };
}
