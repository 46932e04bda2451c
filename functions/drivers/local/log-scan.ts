// Reading the embedded log store: each stream's files backwards in chunks, matching lines picked
// out on bytes before any is decoded, and the streams of an env merged newest first by time, so
// `berth logs` reads instances interleaved as they happened and a tail touches only the ends.
import { fstatSync, read as fsRead } from 'node:fs';
import type { LogLevel, LogLine, LogQuery } from '../../core/ports.ts';

export const LEVEL_RANK: Record<LogLevel, number> = { debug: 0, info: 1, warn: 2, error: 3 };

const CHUNK_BYTES = 1 << 20;

/** A query with its bounds normalized (`toISOString()` form, so strings compare as instants). */
export interface Scan {
  query: LogQuery;
  since?: string;
  until?: string;
  /** A backwards scan stops at a line older than this (`since` minus the clock-step slack). */
  stopBefore?: string;
}

export function serialize(line: LogLine): string {
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

export function matches(line: LogLine, scan: Scan): boolean {
  const { query, since, until } = scan;
  if (query.workload !== undefined && line.workload !== query.workload) return false;
  if (query.instance !== undefined && line.instance !== query.instance) return false;
  if (query.source !== undefined && line.source !== query.source) return false;
  if (query.level !== undefined && (LEVEL_RANK[line.level] ?? 0) < LEVEL_RANK[query.level]) return false;
  if (since !== undefined && line.ts < since) return false;
  if (until !== undefined && line.ts > until) return false;
  return true;
}

/**
 * Matching lines of one stream's files (opened newest first), newest first, in batches of at most
 * `batch` lines: a tail of 100 parses about 100 lines, not a whole chunk.
 */
export async function* scanNewestFirst(fds: number[], scan: Scan, batch: number): AsyncGenerator<LogLine[]> {
  const needles = prefilter(scan.query);
  let out: LogLine[] = [];
  for (const fd of fds) {
    for await (const { buffer, start } of chunksNewestFirst(fd)) {
      // Work on bytes and decode only candidate lines: decoding and parsing every line of a
      // large history is what makes a naive scan slow.
      let end = buffer.length;
      while (end > start) {
        const lineStart = buffer.lastIndexOf(NEWLINE, end - 1) + 1;
        const lineEnd = end;
        end = lineStart - 1;
        if (lineEnd === lineStart) continue;
        const ts = cheapTimestamp(buffer, lineStart, lineEnd);
        if (ts !== undefined) {
          if (scan.until !== undefined && ts > scan.until) continue;
          if (scan.stopBefore !== undefined && ts < scan.stopBefore) {
            if (out.length) yield out;
            return;
          }
          if (scan.since !== undefined && ts < scan.since) continue;
        }
        const bytes = buffer.subarray(lineStart, lineEnd);
        if (!needles.every((anyOf) => anyOf.some((needle) => bytes.includes(needle)))) continue;
        const line = parse(bytes.toString('utf8'));
        if (!line || !matches(line, scan)) continue;
        out.push(line);
        if (out.length >= batch) {
          yield out;
          out = [];
        }
      }
    }
  }
  if (out.length) yield out;
}

/**
 * The newest `limit` lines of several newest-first sources, oldest first. Each stream is in time
 * order (lines are stamped as they are appended); equal stamps keep their order within a stream.
 */
export async function mergeNewestFirst(sources: AsyncGenerator<LogLine[]>[], limit: number): Promise<LogLine[]> {
  interface Cursor {
    source: AsyncGenerator<LogLine[]>;
    batch: LogLine[];
    at: number;
  }
  const refill = async (c: Cursor): Promise<boolean> => {
    for (;;) {
      const next = await c.source.next();
      if (next.done) return false;
      if (next.value.length) {
        c.batch = next.value;
        c.at = 0;
        return true;
      }
    }
  };
  const cursors: Cursor[] = [];
  for (const source of sources) {
    const c: Cursor = { source, batch: [], at: 0 };
    if (await refill(c)) cursors.push(c);
  }
  const out: LogLine[] = [];
  try {
    while (cursors.length && out.length < limit) {
      let best = 0;
      for (let k = 1; k < cursors.length; k++) if (cursors[k].batch[cursors[k].at].ts > cursors[best].batch[cursors[best].at].ts) best = k;
      const c = cursors[best];
      out.push(c.batch[c.at++]);
      if (c.at >= c.batch.length && !(await refill(c))) cursors.splice(best, 1);
    }
  } finally {
    // Sources stopped early (the limit) end their loops.
    for (const c of cursors) await c.source.return(undefined);
  }
  return out.reverse();
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

/**
 * Yields a file backwards in chunks of whole lines (`buffer[start..]`, each line ending in a
 * newline but perhaps the file's last).
 */
async function* chunksNewestFirst(fd: number): AsyncGenerator<{ buffer: Buffer; start: number }> {
  const size = fstatSync(fd).size;
  let position = size;
  // Bytes of a line cut by the previous chunk boundary. Splitting on the newline byte is safe
  // in UTF-8: 0x0A never occurs inside a multi-byte character.
  let carry: Buffer = Buffer.alloc(0);
  while (position > 0) {
    const length = Math.min(CHUNK_BYTES, position);
    position -= length;
    const buffer = Buffer.allocUnsafe(length + carry.length);
    await readFully(fd, buffer, length, position);
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
}

const readAt = (fd: number, buffer: Buffer, offset: number, length: number, position: number) =>
  new Promise<number>((resolve, reject) => fsRead(fd, buffer, offset, length, position, (err, bytesRead) => (err ? reject(err) : resolve(bytesRead))));

async function readFully(fd: number, buffer: Buffer, length: number, position: number): Promise<void> {
  let done = 0;
  while (done < length) {
    const bytesRead = await readAt(fd, buffer, done, length - done, position + done);
    if (bytesRead === 0) break;
    done += bytesRead;
  }
}
