// The Node side of `exec`: the process's terminal (raw mode, size, resize, Ctrl-C, a line of
// input) and a WebSocket client (`ws`, which can send the Authorization header a browser's cannot;
// text and binary frames).
import { createInterface } from 'node:readline';
import type { Terminal } from '../core/command.ts';

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
