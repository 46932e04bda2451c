// Acknowledgements, both ways. The agent resends a stream message until it is acknowledged, and so
// does the client; the ack is a frame of its own, as session-manager-plugin builds it
// (SendAcknowledgeMessage in src/datachannel/streaming.go, SerializeClientMessageWithAcknowledgeContent
// in src/message/messageparser.go).
import { MessageType, type ClientMessage } from './client-message.ts';

/** The ack's JSON payload; the key order is the Go struct's (AcknowledgeContent in clientmessage.go). */
export interface AcknowledgeContent {
  AcknowledgedMessageType: string;
  AcknowledgedMessageId: string;
  AcknowledgedMessageSequenceNumber: number;
  IsSequentialMessage: boolean;
}

export function acknowledgement(of: ClientMessage, messageId: string, now: number): ClientMessage {
  const content: AcknowledgeContent = {
    AcknowledgedMessageType: of.messageType,
    AcknowledgedMessageId: of.messageId,
    AcknowledgedMessageSequenceNumber: of.sequenceNumber,
    IsSequentialMessage: true,
  };
  return {
    messageType: MessageType.Acknowledge,
    schemaVersion: 1,
    createdDate: now,
    // Acks are outside the stream: sequence 0, flags SYN|FIN, no payload type (the plugin leaves it 0).
    sequenceNumber: 0,
    flags: 3,
    messageId,
    payloadType: 0,
    payload: new TextEncoder().encode(JSON.stringify(content)),
  };
}

/** The sequence number an incoming ack confirms, or undefined if its payload is not an ack. */
export function acknowledgedSequence(ack: ClientMessage): number | undefined {
  try {
    const content = JSON.parse(new TextDecoder().decode(ack.payload)) as Partial<AcknowledgeContent>;
    return typeof content.AcknowledgedMessageSequenceNumber === 'number' ? content.AcknowledgedMessageSequenceNumber : undefined;
  } catch {
    // Not JSON: the plugin logs and ignores such an ack; nothing is confirmed.
    return undefined;
  }
}
