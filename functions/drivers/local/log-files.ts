// Embedded log store: one JSON-lines file per env, `<dir>/<org>/<project>/<app>/<env>/app.log`.
// App and system lines share the file (`source` tells them apart), so a crash's last words and
// the platform's account of it read in order, and stay readable after the process is gone.
import { EventEmitter } from 'node:events';
import { mkdirSync, openSync, writeSync, closeSync } from 'node:fs';
import { open, type FileHandle } from 'node:fs/promises';
import path from 'node:path';
import { InvalidInputError } from '../../core/errors.ts';
import type { EnvRef, LogLevel, LogLine, LogQuery, LogStore } from '../../core/ports.ts';

const LEVEL_RANK: Record<LogLevel, number> = { debug: 0, info: 1, warn: 2, error: 3 };

// Queries read the file backwards in chunks, so `limit` (the common tail) touches only the end.
const CHUNK_BYTES = 1 << 20;
// Lines are stamped when appended, so the file is in time order but for clock steps (NTP); a
// backwards scan stops once it is this far before `since` rather than reading the whole history.
const OUT_OF_ORDER_SLACK_MS = 10 * 60_000;

export class FileLogStore implements LogStore {
  private readonly fds = new Map<string, number>();
  private readonly appended = new EventEmitter();

  constructor(private readonly dir: string) {
    // One listener per `logs --follow`; there is no leak to warn about.
    this.appended.setMaxListeners(0);
  }

  /** The file holding an env's lines. */
  fileOf(env: EnvRef): string {
    const parts = [env.org, env.project, env.app, env.env];
    for (const part of parts) {
      if (!part || part === '.' || part === '..' || /[/\\\0]/.test(part)) {
        throw new InvalidInputError('invalid-env-ref', `"${part}" cannot name a log directory: env names are DNS labels such as "prod"`, { details: { env } });
      }
    }
    return path.join(this.dir, ...parts, 'app.log');
  }

  append(env: EnvRef, line: LogLine): void {
    const file = this.fileOf(env);
    // A synchronous write on a kept-open descriptor: a query right after append sees the line,
    // and nothing is lost when the platform dies between append and flush.
    writeSync(this.descriptor(file), serialize(line));
    this.appended.emit(file, line);
  }

  async query(env: EnvRef, query: LogQuery): Promise<LogLine[]> {
    const file = this.fileOf(env);
    const since = query.since === undefined ? undefined : normalizeTime(query.since, 'since');
    const until = query.until === undefined ? undefined : normalizeTime(query.until, 'until');
    const stopBefore = since === undefined ? undefined : new Date(Date.parse(since) - OUT_OF_ORDER_SLACK_MS).toISOString();
    const needles = prefilter(query);
    const limit = query.limit ?? Infinity;
    const matched: LogLine[] = [];
    if (limit <= 0) return matched;
    for await (const { buffer, start } of chunksNewestFirst(file)) {
      // Work on bytes and decode only candidate lines: decoding and parsing every line of a large
      // history is what makes a naive scan slow.
      let end = buffer.length;
      while (end > start) {
        const lineStart = buffer.lastIndexOf(NEWLINE, end - 1) + 1;
        const lineEnd = end;
        end = lineStart - 1;
        if (lineEnd === lineStart) continue;
        const ts = cheapTimestamp(buffer, lineStart, lineEnd);
        if (ts !== undefined) {
          if (until !== undefined && ts > until) continue;
          if (stopBefore !== undefined && ts < stopBefore) return matched.reverse();
          if (since !== undefined && ts < since) continue;
        }
        const bytes = buffer.subarray(lineStart, lineEnd);
        if (!needles.every((anyOf) => anyOf.some((needle) => bytes.includes(needle)))) continue;
        const line = parse(bytes.toString('utf8'));
        if (!line || !matches(line, query, since, until)) continue;
        matched.push(line);
        if (matched.length >= limit) return matched.reverse();
      }
    }
    return matched.reverse();
  }

  follow(env: EnvRef, query: LogQuery, onLine: (line: LogLine) => void): () => void {
    const file = this.fileOf(env);
    const since = query.since === undefined ? undefined : normalizeTime(query.since, 'since');
    const until = query.until === undefined ? undefined : normalizeTime(query.until, 'until');
    const listener = (line: LogLine): void => {
      if (matches(line, query, since, until)) onLine(line);
    };
    this.appended.on(file, listener);
    return () => {
      this.appended.off(file, listener);
    };
  }

  /** Closes the kept-open files (platform shutdown); later appends reopen them. */
  close(): void {
    for (const fd of this.fds.values()) closeSync(fd);
    this.fds.clear();
  }

  private descriptor(file: string): number {
    let fd = this.fds.get(file);
    if (fd === undefined) {
      mkdirSync(path.dirname(file), { recursive: true });
      fd = openSync(file, 'a');
      this.fds.set(file, fd);
    }
    return fd;
  }
}

function serialize(line: LogLine): string {
  // `ts` first, always: queries read it by position without parsing the line.
  const ordered: LogLine = {
    ts: line.ts,
    source: line.source,
    workload: line.workload,
    instance: line.instance,
    level: line.level,
    message: line.message,
  };
  return JSON.stringify(ordered) + '\n';
}

const NEWLINE = 0x0a;
const TS_PREFIX = Buffer.from('{"ts":"');
const QUOTE = 0x22;

/** The line's timestamp read by position, relying on `serialize` writing `ts` first. */
function cheapTimestamp(buffer: Buffer, lineStart: number, lineEnd: number): string | undefined {
  const from = lineStart + TS_PREFIX.length;
  if (from > lineEnd || buffer.compare(TS_PREFIX, 0, TS_PREFIX.length, lineStart, from) !== 0) return undefined;
  const end = buffer.indexOf(QUOTE, from);
  return end === -1 || end > lineEnd ? undefined : buffer.toString('latin1', from, end);
}

/**
 * Byte sequences a matching line must contain (each group: at least one of them), taken from the
 * exact JSON `serialize` writes. They only rule lines out; `matches` decides on the parsed line.
 */
function prefilter(query: LogQuery): Buffer[][] {
  const field = (name: string, value: string): Buffer => Buffer.from(`"${name}":${JSON.stringify(value)}`);
  const groups: Buffer[][] = [];
  if (query.workload !== undefined) groups.push([field('workload', query.workload)]);
  if (query.instance !== undefined) groups.push([field('instance', query.instance)]);
  if (query.source !== undefined) groups.push([field('source', query.source)]);
  if (query.level !== undefined) {
    const min = LEVEL_RANK[query.level];
    groups.push((Object.keys(LEVEL_RANK) as LogLevel[]).filter((l) => LEVEL_RANK[l] >= min).map((l) => field('level', l)));
  }
  return groups;
}

function parse(text: string): LogLine | undefined {
  try {
    return JSON.parse(text) as LogLine;
  } catch {
    // A torn last line (the machine stopped mid-write) must not make the history unreadable.
    return undefined;
  }
}

function matches(line: LogLine, query: LogQuery, since: string | undefined, until: string | undefined): boolean {
  if (query.workload !== undefined && line.workload !== query.workload) return false;
  if (query.instance !== undefined && line.instance !== query.instance) return false;
  if (query.source !== undefined && line.source !== query.source) return false;
  if (query.level !== undefined && (LEVEL_RANK[line.level] ?? 0) < LEVEL_RANK[query.level]) return false;
  if (since !== undefined && line.ts < since) return false;
  if (until !== undefined && line.ts > until) return false;
  return true;
}

/** Lines are stamped with `toISOString()`; bounds are brought to the same form so strings compare. */
function normalizeTime(value: string, field: 'since' | 'until'): string {
  const ms = Date.parse(value);
  if (Number.isNaN(ms)) {
    throw new InvalidInputError('invalid-time', `${field} "${value}" is not a date; use ISO-8601 such as 2024-05-01T12:00:00Z`, { details: { [field]: value } });
  }
  return new Date(ms).toISOString();
}

/**
 * Yields the file backwards in chunks of whole lines (`buffer[start..]`, each line ending in a
 * newline but perhaps the file's last); nothing when the env has no logs yet.
 */
async function* chunksNewestFirst(file: string): AsyncGenerator<{ buffer: Buffer; start: number }> {
  let handle;
  try {
    handle = await open(file, 'r');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return;
    throw err;
  }
  try {
    const { size } = await handle.stat();
    let position = size;
    // Bytes of a line cut by the previous chunk boundary. Splitting on the newline byte is safe
    // in UTF-8: 0x0A never occurs inside a multi-byte character.
    let carry: Buffer = Buffer.alloc(0);
    while (position > 0) {
      const length = Math.min(CHUNK_BYTES, position);
      position -= length;
      const buffer = Buffer.allocUnsafe(length + carry.length);
      await readFully(handle, buffer, length, position);
      carry.copy(buffer, length);
      if (position === 0) {
        yield { buffer, start: 0 };
        break;
      }
      const newline = buffer.indexOf(NEWLINE);
      if (newline === -1) {
        carry = buffer;
        continue;
      }
      carry = buffer.subarray(0, newline);
      yield { buffer, start: newline + 1 };
    }
  } finally {
    await handle.close();
  }
}

async function readFully(handle: FileHandle, buffer: Buffer, length: number, position: number): Promise<void> {
  let done = 0;
  while (done < length) {
    const { bytesRead } = await handle.read(buffer, done, length - done, position + done);
    if (bytesRead === 0) break;
    done += bytesRead;
  }
}
