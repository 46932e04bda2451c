// The Node side of `exec`: the process's terminal (raw mode, size, resize, Ctrl-C, a line of
// input) and a WebSocket client (`ws`, which can send the Authorization header a browser's cannot;
// text and binary frames).
import { createInterface } from 'node:readline';
import WebSocket from 'ws';
import type { HostSocket, SocketEvents, Terminal } from '../core/command.ts';

export function nodeTerminal(): Terminal {
  return {
    size: () => (process.stdout.isTTY ? { cols: process.stdout.columns, rows: process.stdout.rows } : undefined),
    setRawMode: (raw) => {
      if (process.stdin.isTTY) process.stdin.setRawMode(raw);
    },
    onInput(data, end) {
      const onData = (chunk: Buffer) => data(new Uint8Array(chunk.buffer, chunk.byteOffset, chunk.byteLength));
      process.stdin.on('data', onData);
      process.stdin.once('end', end);
      process.stdin.resume();
      return () => {
        process.stdin.off('data', onData);
        process.stdin.off('end', end);
        process.stdin.pause();
      };
    },
    onResize(listener) {
      process.stdout.on('resize', listener);
      return () => process.stdout.off('resize', listener);
    },
    onInterrupt(listener) {
      process.on('SIGINT', listener);
      return () => process.off('SIGINT', listener);
    },
    write: (stream, bytes) => (stream === 'stdout' ? process.stdout : process.stderr).write(bytes),
    readLine: (prompt) =>
      new Promise((resolve) => {
        const rl = createInterface({ input: process.stdin, output: process.stderr, terminal: false });
        let answered = false;
        process.stderr.write(prompt);
        rl.once('line', (line) => {
          answered = true;
          rl.close();
          resolve(line);
        });
        rl.once('close', () => answered || resolve(undefined));
      }),
  };
}

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
