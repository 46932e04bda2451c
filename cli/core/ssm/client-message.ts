// The Session Manager data-channel frame ("ClientMessage"), byte for byte as session-manager-plugin
// writes and reads it: src/message/clientmessage.go (layout), src/message/messageparser.go
// (SerializeClientMessage, DeserializeClientMessage, Validate). https://github.com/aws/session-manager-plugin
//
//   offset  0  HeaderLength    uint32   116: the header up to, not including, PayloadLength
//           4  MessageType     32 bytes UTF-8, padded with spaces
//          36  SchemaVersion   uint32
//          40  CreatedDate     uint64   epoch milliseconds
//          48  SequenceNumber  int64
//          56  Flags           uint64   bit 0 SYN, bit 1 FIN
//          64  MessageId       16 bytes a UUID, its low 8 bytes first (see uuidToWire)
//          80  PayloadDigest   32 bytes SHA-256 of the payload
//         112  PayloadType     uint32
//         116  PayloadLength   uint32
//         120  Payload
//
// Every integer is big-endian.
import { sha256 } from './sha256.ts';

export const MessageType = {
  InputStreamData: 'input_stream_data',
  OutputStreamData: 'output_stream_data',
  Acknowledge: 'acknowledge',
  ChannelClosed: 'channel_closed',
  StartPublication: 'start_publication',
  PausePublication: 'pause_publication',
} as const;

export const PayloadType = {
  Output: 1,
  Error: 2,
  Size: 3,
  Parameter: 4,
  HandshakeRequest: 5,
  HandshakeResponse: 6,
  HandshakeComplete: 7,
  EncChallengeRequest: 8,
  EncChallengeResponse: 9,
  Flag: 10,
  StdErr: 11,
  ExitCode: 12,
} as const;

export const HEADER_LENGTH = 116;
export const PAYLOAD_OFFSET = HEADER_LENGTH + 4;
const MESSAGE_TYPE_LENGTH = 32;

export interface ClientMessage {
  messageType: string;
  schemaVersion: number;
  /** Epoch milliseconds. */
  createdDate: number;
  sequenceNumber: number;
  flags: number;
  /** Lowercase, hyphenated. */
  messageId: string;
  payloadType: number;
  payload: Uint8Array;
}

export function encodeClientMessage(m: ClientMessage): Uint8Array {
  const type = new TextEncoder().encode(m.messageType);
  if (type.length > MESSAGE_TYPE_LENGTH) throw new RangeError(`message type ${m.messageType} is longer than ${MESSAGE_TYPE_LENGTH} bytes`);
  const frame = new Uint8Array(PAYLOAD_OFFSET + m.payload.length);
  const view = new DataView(frame.buffer);
  view.setUint32(0, HEADER_LENGTH);
  frame.fill(0x20, 4, 4 + MESSAGE_TYPE_LENGTH);
  frame.set(type, 4);
  view.setUint32(36, m.schemaVersion);
  view.setBigUint64(40, BigInt(m.createdDate));
  view.setBigInt64(48, BigInt(m.sequenceNumber));
  view.setBigUint64(56, BigInt(m.flags));
  frame.set(uuidToWire(m.messageId), 64);
  frame.set(sha256(m.payload), 80);
  view.setUint32(112, m.payloadType);
  view.setUint32(116, m.payload.length);
  frame.set(m.payload, PAYLOAD_OFFSET);
  return frame;
}

export type ParsedClientMessage = { message: ClientMessage } | { invalid: string };

/** Reads a frame and checks it as the plugin's Validate does; an invalid frame is dropped unacknowledged, so the agent sends it again. */
export function parseClientMessage(frame: Uint8Array): ParsedClientMessage {
  if (frame.length < PAYLOAD_OFFSET) return { invalid: `a frame is at least ${PAYLOAD_OFFSET} bytes; this one has ${frame.length}` };
  const view = new DataView(frame.buffer, frame.byteOffset, frame.byteLength);
  const headerLength = view.getUint32(0);
  // The payload starts after the header the sender declares, not at a fixed offset (DeserializeClientMessage).
  if (headerLength + 4 > frame.length) return { invalid: `header length ${headerLength} is beyond the frame's ${frame.length} bytes` };
  const message: ClientMessage = {
    messageType: new TextDecoder().decode(frame.subarray(4, 4 + MESSAGE_TYPE_LENGTH)).replace(/^\0+|\0+$/g, '').trim(),
    schemaVersion: view.getUint32(36),
    createdDate: Number(view.getBigUint64(40)),
    sequenceNumber: Number(view.getBigInt64(48)),
    flags: Number(view.getBigUint64(56)),
    messageId: uuidFromWire(frame.subarray(64, 80)),
    payloadType: view.getUint32(112),
    payload: frame.slice(headerLength + 4),
  };
  // Publication notices skip validation (Validate in messageparser.go).
  if (message.messageType === MessageType.StartPublication || message.messageType === MessageType.PausePublication) return { message };
  if (headerLength === 0) return { invalid: 'header length is zero' };
  if (!message.messageType) return { invalid: 'message type is missing' };
  if (message.createdDate === 0) return { invalid: 'created date is missing' };
  if (view.getUint32(116) !== 0 && !equalBytes(sha256(message.payload), frame.subarray(80, 112))) {
    return { invalid: `payload digest does not match (${message.messageType}, sequence ${message.sequenceNumber})` };
  }
  return { message };
}

/**
 * The plugin writes a UUID as two big-endian 64-bit halves, least significant first (putUuid in
 * messageparser.go): on the wire, bytes 8-15 of the UUID come before bytes 0-7.
 */
export function uuidToWire(uuid: string): Uint8Array {
  const hex = uuid.replace(/-/g, '');
  if (!/^[0-9a-f]{32}$/i.test(hex)) throw new RangeError(`${JSON.stringify(uuid)} is not a UUID`);
  const bytes = new Uint8Array(16);
  for (let i = 0; i < 16; i++) bytes[i] = parseInt(hex.slice(i * 2, i * 2 + 2), 16);
  return new Uint8Array([...bytes.subarray(8), ...bytes.subarray(0, 8)]);
}

export function uuidFromWire(wire: Uint8Array): string {
  const hex = [...wire.subarray(8, 16), ...wire.subarray(0, 8)].map((b) => b.toString(16).padStart(2, '0')).join('');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

function equalBytes(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i]);
}
