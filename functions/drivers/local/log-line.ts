// Turns a child process's byte streams into log lines with a severity.
import { StringDecoder } from 'node:string_decoder';
import type { LogLevel } from '../../core/ports.ts';

export type StreamName = 'stdout' | 'stderr';

// `ERROR boom`, `[warn] disk low`, `Info: ready`; the token must end at a space, colon or bracket
// so that `Errors: 0` or `information` is not read as a level.
const LEADING_LEVEL = /^\s*(?:\[(debug|info|warn|warning|error)\]|(debug|info|warn|warning|error)(?=[\s:]|$))/i;

// pino/bunyan write numeric levels (10 trace … 60 fatal); many Node apps log with them.
function numericLevel(n: number): LogLevel {
  if (n >= 50) return 'error';
  if (n >= 40) return 'warn';
  if (n >= 30) return 'info';
  return 'debug';
}

function namedLevel(name: string): LogLevel | undefined {
  switch (name.toLowerCase()) {
    case 'debug':
    case 'trace':
      return 'debug';
    case 'info':
    case 'notice':
      return 'info';
    case 'warn':
    case 'warning':
      return 'warn';
    case 'error':
    case 'fatal':
    case 'critical':
      return 'error';
    default:
      return undefined;
  }
}

function jsonLevel(line: string): LogLevel | undefined {
  if (!line.startsWith('{')) return undefined;
  let parsed: unknown;
  try {
    parsed = JSON.parse(line);
  } catch {
    // Output that merely starts with `{` is not structured logging; fall through to the defaults.
    return undefined;
  }
  const level = (parsed as { level?: unknown } | null)?.level;
  if (typeof level === 'number') return numericLevel(level);
  if (typeof level === 'string') return namedLevel(level);
  return undefined;
}

/** The severity of one line of app output; the message itself is kept verbatim. */
export function levelOf(line: string, stream: StreamName): LogLevel {
  const json = jsonLevel(line);
  if (json) return json;
  const match = LEADING_LEVEL.exec(line);
  const token = match?.[1] ?? match?.[2];
  if (token) return namedLevel(token) ?? 'info';
  return stream === 'stderr' ? 'error' : 'info';
}

// A process that never writes a newline must not grow memory without bound.
const MAX_LINE_CHARS = 16 * 1024;

/** Splits a byte stream into lines, across chunk and UTF-8 character boundaries. */
export class LineSplitter {
  private readonly decoder = new StringDecoder('utf8');
  private partial = '';

  constructor(private readonly onLine: (line: string) => void) {}

  write(chunk: Buffer): void {
    this.take(this.decoder.write(chunk));
  }

  /** Emits what is left once the stream has ended. */
  end(): void {
    this.take(this.decoder.end());
    if (this.partial) this.emit(this.partial);
    this.partial = '';
  }

  private take(text: string): void {
    if (!text) return;
    const parts = (this.partial + text).split('\n');
    this.partial = parts.pop() ?? '';
    for (const part of parts) this.emit(part);
    while (this.partial.length > MAX_LINE_CHARS) {
      this.emit(this.partial.slice(0, MAX_LINE_CHARS));
      this.partial = this.partial.slice(MAX_LINE_CHARS);
    }
  }

  private emit(raw: string): void {
    const line = raw.endsWith('\r') ? raw.slice(0, -1) : raw;
    if (line.length > 0) this.onLine(line);
  }
}
