// The Node CLI's WebSocket client (`ws`, which can send the Authorization header a browser's
// cannot), for `exec`: text and binary frames, the refusal body of a failed upgrade, keepalive.
import WebSocket from 'ws';
import type { HostSocket, SocketEvents } from '../core/command.ts';

export function openNodeSocket(url: string, headers: Record<string, string>, events: SocketEvents): HostSocket {
  const ws = new WebSocket(url, { headers });
  // session-manager-plugin pings every 5 minutes so an idle session's connection is not dropped
  // (src/communicator/websocketchannel.go, StartPings); any WebSocket server answers a ping itself.
  const keepalive = setInterval(() => ws.readyState === WebSocket.OPEN && ws.ping(), 5 * 60_000);
  keepalive.unref();
  ws.on('open', () => events.open());
  ws.on('message', (data, isBinary) => {
    if (isBinary && events.binary) events.binary(rawBytes(data));
    else events.message(data.toString());
  });
  ws.on('unexpected-response', (req, res) => {
    let body = '';
    res.setEncoding('utf8');
    res.on('data', (chunk: string) => (body += chunk));
    res.on('end', () => {
      events.refused(res.statusCode ?? 0, body);
      req.destroy();
    });
  });
  ws.on('close', (code, reason) => {
    clearInterval(keepalive);
    events.close(code, reason.toString());
  });
  ws.on('error', (err) => events.error(err));
  return {
    send: (text) => {
      if (ws.readyState === WebSocket.OPEN) ws.send(text);
    },
    sendBytes: (bytes) => {
      if (ws.readyState === WebSocket.OPEN) ws.send(bytes);
    },
    close: () => ws.close(),
  };
}

function rawBytes(data: WebSocket.RawData): Uint8Array {
  const buf = Array.isArray(data) ? Buffer.concat(data) : Buffer.isBuffer(data) ? data : Buffer.from(data);
  return new Uint8Array(buf.buffer, buf.byteOffset, buf.byteLength);
}
