// The payloads of a shell session besides raw bytes: terminal size, exit code, channel closed.

/** A Size message (payload type 3): `{"cols":…,"rows":…}`, SizeData in the plugin's clientmessage.go. */
export function sizePayload(size: { cols: number; rows: number }): Uint8Array {
  return new TextEncoder().encode(JSON.stringify({ cols: size.cols, rows: size.rows }));
}

/**
 * An ExitCode message (payload type 12) reads `EXIT_CODE: <n>` (sendExitCode in amazon-ssm-agent's
 * agent/session/shell/shell.go). The agent sends one only for NonInteractiveCommands sessions with
 * separate output streams; ECS Exec sessions are interactive and end without one.
 */
export function parseExitCode(payload: Uint8Array): number | undefined {
  const m = /EXIT_CODE:\s*(-?\d+)/.exec(new TextDecoder().decode(payload));
  return m ? Number(m[1]) : undefined;
}

/** The service's channel_closed payload (ChannelClosed in clientmessage.go); `Output` says why, when it says anything. */
export interface ChannelClosed {
  MessageId?: string;
  CreatedDate?: string;
  DestinationId?: string;
  SessionId?: string;
  MessageType?: string;
  SchemaVersion?: number;
  Output?: string;
}

export function parseChannelClosed(payload: Uint8Array): ChannelClosed {
  try {
    return JSON.parse(new TextDecoder().decode(payload)) as ChannelClosed;
  } catch {
    // The plugin logs a payload it cannot read and closes all the same.
    return {};
  }
}
