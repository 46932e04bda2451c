// The two handshakes of a Session Manager session, as session-manager-plugin performs them.
//
// 1. Opening the data channel: the first frame on the socket is JSON text carrying the session's
//    token (FinalizeDataChannelHandshake in src/datachannel/streaming.go, OpenDataChannelInput in
//    src/service/service.go).
// 2. The agent's handshake: its first stream message is a HandshakeRequest listing actions for the
//    client; the client answers with a HandshakeResponse saying how each went; the agent then sends
//    HandshakeComplete and only from then on reads input (handleHandshakeRequest and
//    handleHandshakeComplete in streaming.go; PerformHandshake in amazon-ssm-agent's
//    agent/session/datachannel/datachannel.go, which ignores input that arrives earlier).

/**
 * The version the plugin's own source declares (src/version/version.go). The agent only logs it
 * (handleHandshakeResponse in datachannel.go); it is kept in the plugin's dotted form so nothing on
 * the service's side that may compare versions takes Berth for an older, lesser client.
 */
export const CLIENT_VERSION = '1.2.0.0';

/** Key order as the Go struct's, so the frame is the plugin's byte for byte. */
export function openDataChannelFrame(tokenValue: string, requestId: string, clientId: string): string {
  return JSON.stringify({ MessageSchemaVersion: '1.0', RequestId: requestId, TokenValue: tokenValue, ClientId: clientId, ClientVersion: CLIENT_VERSION });
}

export interface HandshakeRequest {
  AgentVersion: string;
  RequestedClientActions: { ActionType: string; ActionParameters?: unknown }[];
}

export interface ProcessedClientAction {
  ActionType: string;
  ActionStatus: number;
  ActionResult: unknown;
  Error: string;
}

export interface HandshakeResponse {
  ClientVersion: string;
  ProcessedClientActions: ProcessedClientAction[];
  /** null when there are none: Go marshals a nil slice so. */
  Errors: string[] | null;
}

export const ActionStatus = { Success: 1, Failed: 2, Unsupported: 3 } as const;

export interface HandshakeAnswer {
  response: HandshakeResponse;
  /** Why this session cannot go on with this client; the agent cancels it once it reads the response. */
  refusal?: { code: string; message: string };
}

// The session types the plugin runs as a shell (ProcessSessionTypeHandshakeAction); ECS Exec asks
// for InteractiveCommands.
const SHELL_SESSION_TYPES = new Set(['Standard_Stream', 'InteractiveCommands', 'NonInteractiveCommands']);

export function answerHandshake(request: HandshakeRequest): HandshakeAnswer {
  let refusal: HandshakeAnswer['refusal'];
  const errors: string[] = [];
  const actions = (request.RequestedClientActions ?? []).map((action): ProcessedClientAction => {
    const result = (status: number, error = '') => ({ ActionType: action.ActionType, ActionStatus: status, ActionResult: null, Error: error });
    if (action.ActionType === 'SessionType') {
      const type = (action.ActionParameters as { SessionType?: string } | undefined)?.SessionType ?? '';
      if (SHELL_SESSION_TYPES.has(type)) return result(ActionStatus.Success);
      const why = type === 'Port' ? 'port forwarding sessions are not supported by berth exec' : `Unknown session type ${type}`;
      errors.push(why);
      refusal ??= { code: 'ssm-session-type-unsupported', message: `the agent offered a ${type || 'nameless'} session, which berth exec cannot run (it runs shell sessions)` };
      return result(ActionStatus.Failed, `Failed to process action SessionType: ${why}`);
    }
    if (action.ActionType === 'KMSEncryption') {
      // The plugin would call KMS with the user's AWS credentials to fetch a data key; the CLI and
      // the console have no AWS credentials, only Berth's.
      const why = 'KMS encryption needs AWS credentials, which berth exec does not have';
      errors.push(why);
      refusal ??= {
        code: 'ssm-kms-encryption-unsupported',
        message: 'the cluster encrypts ECS Exec sessions with a KMS key (executeCommandConfiguration.kmsKeyId); berth exec cannot open encrypted sessions',
      };
      return result(ActionStatus.Failed, `Failed to process action KMSEncryption: ${why}`);
    }
    // The plugin puts Unsupported in ActionResult and leaves ActionStatus 0; the agent fails any
    // status but Success either way, so the status says it plainly here.
    const why = `Unsupported action ${action.ActionType}`;
    errors.push(why);
    refusal ??= { code: 'ssm-handshake-unsupported', message: `the agent asked for ${action.ActionType}, which berth exec does not support` };
    return result(ActionStatus.Unsupported, why);
  });
  return { response: { ClientVersion: CLIENT_VERSION, ProcessedClientActions: actions, Errors: errors.length ? errors : null }, refusal };
}

export interface HandshakeComplete {
  /** Nanoseconds (a Go time.Duration). */
  HandshakeTimeToComplete: number;
  /** Shown to the user when not empty (e.g. that the session is encrypted). */
  CustomerMessage: string;
}
