// Embedded log store: JSON lines per env, `<dir>/<org>/<project>/<app>/<env>/app.log`, rotated to
// `app.log.<n>` at a size limit, with a per-env retention by total size and age (log-retention.ts).
// App and system lines share the files (`source` tells them apart), so a crash's last words and
// the platform's account of it read in order, and stay readable after the process is gone.
// Writing never holds an app up: see log-segment-writer.ts.
import { EventEmitter } from 'node:events';
import { closeSync, fstatSync, openSync, read as fsRead, readdirSync, readSync, statSync } from 'node:fs';
import path from 'node:path';
import { InvalidInputError } from '../../core/errors.ts';
import type { EnvRef, LogLevel, LogLine, LogPage, LogQuery, LogStore } from '../../core/ports.ts';
import { applyRetention } from './log-retention.ts';
import { ACTIVE_FILE, SegmentWriter, segmentsOf, type WriteFn } from './log-segment-writer.ts';

const LEVEL_RANK: Record<LogLevel, number> = { debug: 0, info: 1, warn: 2, error: 3 };

// Queries read the files backwards in chunks, so `limit` (the common tail) touches only the end.
const CHUNK_BYTES = 1 << 20;
// Lines are stamped when appended, so the files are in time order but for clock steps (NTP); a
// backwards scan stops once it is this far before `since` rather than reading the whole history.
const OUT_OF_ORDER_SLACK_MS = 10 * 60_000;

const MiB = 1024 * 1024;

export interface LogStoreOptions {
  /** @default 10 MiB: `app.log` is rotated before a write would take it past this. */
  maxFileBytes?: number;
  /** @default 100 MiB: an env's files together; the oldest rotated files go first. */
  maxEnvBytes?: number;
  /** @default 30 days, as the AWS log groups (infra/berth-props.ts `logRetention`). */
  maxAgeMs?: number;
  /** @default 8 MiB: bytes waiting for the disk beyond which lines are dropped (and counted). */
  maxQueuedBytes?: number;
  /** @default Date.now; tests pass a fake clock for retention by age. */
  now?: () => number;
  /** Test-only: the asynchronous file write (a slow disk). */
  write?: WriteFn;
}

export class FileLogStore implements LogStore {
  private readonly writers = new Map<string, SegmentWriter>();
  private readonly appended = new EventEmitter();
  private readonly limits: Required<Omit<LogStoreOptions, 'write'>> & { write?: WriteFn };

  constructor(
    private readonly dir: string,
    options: LogStoreOptions = {},
  ) {
    // One listener per `logs --follow`; there is no leak to warn about.
    this.appended.setMaxListeners(0);
    this.limits = {
      maxFileBytes: options.maxFileBytes ?? 10 * MiB,
      maxEnvBytes: options.maxEnvBytes ?? 100 * MiB,
      maxAgeMs: options.maxAgeMs ?? 30 * 24 * 3600_000,
      maxQueuedBytes: options.maxQueuedBytes ?? 8 * MiB,
      now: options.now ?? Date.now,
      write: options.write,
    };
  }

  /** The file new lines of an env go to. */
  fileOf(env: EnvRef): string {
    const parts = [env.org, env.project, env.app, env.env];
    for (const part of parts) {
      if (!part || part === '.' || part === '..' || /[/\\\0]/.test(part)) {
        throw new InvalidInputError('invalid-env-ref', `"${part}" cannot name a log directory: env names are DNS labels such as "prod"`, { details: { env } });
      }
    }
    return path.join(this.dir, ...parts, ACTIVE_FILE);
  }

  append(env: EnvRef, line: LogLine): void {
    const file = this.fileOf(env);
    // Queued, not written: the app's pipe is drained whatever the disk does. A dropped line is
    // not shown to followers either, so a stream and the history tell the same story.
    if (this.writer(file).append(serialize(line), `${line.workload}\t${line.instance}`)) this.appended.emit(file, line);
  }

  /** Resolves once every line appended so far is on disk. */
  async flush(): Promise<void> {
    await Promise.all([...this.writers.values()].map((w) => w.flushed()));
  }

  /** A follower's poll: lines are on disk once `query` has flushed, so nothing shows up late here. */
  async read(env: EnvRef, query: LogQuery & { after: string }): Promise<LogPage> {
    const { after, limit = 1000, ...rest } = query;
    const lines = await this.query(env, { ...rest, since: after });
    const page = lines.slice(0, limit);
    return { lines: page, next: page.at(-1)?.ts ?? normalizeTime(after, 'after'), more: lines.length > limit };
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
    // A query right after append sees the line.
    await this.writers.get(file)?.flushed();
    const files = openNewestFirst(path.dirname(file));
    try {
      for (const fd of files) {
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
      }
      return matched.reverse();
    } finally {
      for (const fd of files) closeSync(fd);
    }
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

  /**
   * Applies the retention to every env (an env that stopped logging still ages out); returns the
   * files deleted, relative to the store's dir.
   */
  sweep(): string[] {
    const deleted: string[] = [];
    for (const envDir of envDirs(this.dir)) {
      const file = path.join(envDir, ACTIVE_FILE);
      for (const name of this.retain(file)) deleted.push(path.relative(this.dir, path.join(envDir, name)));
    }
    return deleted;
  }

  /** Sweeps now and every `intervalMs` (the embedded platform: hourly); returns the stop. */
  startSweeping(intervalMs: number, onError: (err: unknown) => void): () => void {
    const run = () => {
      try {
        this.sweep();
      } catch (err) {
        onError(err);
      }
    };
    run();
    const timer = setInterval(run, intervalMs);
    timer.unref();
    return () => clearInterval(timer);
  }

  /** Writes what is queued and closes the files (platform shutdown); later appends reopen them. */
  async close(): Promise<void> {
    await Promise.all([...this.writers.values()].map((w) => w.close()));
  }

  private retain(file: string): string[] {
    const writer = this.writers.get(file);
    return applyRetention(path.dirname(file), this.limits, this.limits.now(), () => {
      // Lines on their way to the active file make it young again.
      if (writer?.pendingBytes) return false;
      writer?.closeFile();
      return true;
    });
  }

  private writer(file: string): SegmentWriter {
    let writer = this.writers.get(file);
    if (!writer) {
      const dir = path.dirname(file);
      const names = safeReaddir(dir);
      const size = names.includes(ACTIVE_FILE) ? statSync(file).size : 0;
      const nextSeq = (segmentsOf(names).at(-1)?.seq ?? 0) + 1;
      const [org, project, app, env] = path.relative(this.dir, dir).split(path.sep);
      const marker = (key: string, count: number): string => {
        const [workload = '-', instance = '-'] = key ? key.split('\t') : [];
        const why = key ? 'the log writer fell behind (the disk is slower than the app writes)' : 'the log file could not be written';
        return serialize({ ts: new Date(this.limits.now()).toISOString(), source: 'system', workload, instance, level: 'warn', message: `${count} line${count === 1 ? '' : 's'} dropped: ${why}` });
      };
      const onRotated = () => {
        try {
          this.retain(file);
        } catch (err) {
          // Retention is housekeeping: an error here must not stop the writing.
          console.error(`log retention of ${org}/${project}/${app}/${env}:`, err);
        }
      };
      writer = new SegmentWriter(file, size, nextSeq, { maxFileBytes: this.limits.maxFileBytes, maxQueuedBytes: this.limits.maxQueuedBytes }, marker, onRotated, this.limits.write);
      this.writers.set(file, writer);
      // A platform killed mid-write left a torn last line: new lines start on a line of their own.
      if (size > 0 && !endsWithNewline(file, size)) writer.append('\n', '');
    }
    return writer;
  }
}

function endsWithNewline(file: string, size: number): boolean {
  const fd = openSync(file, 'r');
  try {
    const last = Buffer.alloc(1);
    readSync(fd, last, 0, 1, size - 1);
    return last[0] === NEWLINE;
  } finally {
    closeSync(fd);
  }
}

function safeReaddir(dir: string): string[] {
  try {
    return readdirSync(dir);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw err;
  }
}

/** `<dir>/<org>/<project>/<app>/<env>`: the dirs four levels down. */
function envDirs(dir: string): string[] {
  let level = [dir];
  for (let depth = 0; depth < 4; depth++) {
    level = level.flatMap((d) =>
      safeReaddir(d)
        .map((name) => path.join(d, name))
        .filter((p) => {
          try {
            return statSync(p).isDirectory();
          } catch {
            return false;
          }
        }),
    );
  }
  return level;
}

/**
 * Opens an env's files newest first (`app.log`, then `app.log.<n>` from the highest n), all at
 * once and synchronously: rotation and retention run on the same thread, so the set is consistent,
 * and an open file stays readable if it is renamed or deleted while the query reads it.
 */
function openNewestFirst(dir: string): number[] {
  const names = safeReaddir(dir);
  const ordered = [...(names.includes(ACTIVE_FILE) ? [ACTIVE_FILE] : []), ...segmentsOf(names).reverse().map((s) => s.name)];
  const fds: number[] = [];
  for (const name of ordered) {
    try {
      fds.push(openSync(path.join(dir, name), 'r'));
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') {
        for (const fd of fds) closeSync(fd);
        throw err;
      }
    }
  }
  return fds;
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
function normalizeTime(value: string, field: 'since' | 'until' | 'after'): string {
  const ms = Date.parse(value);
  if (Number.isNaN(ms)) {
    throw new InvalidInputError('invalid-time', `${field} "${value}" is not a date; use ISO-8601 such as 2024-05-01T12:00:00Z`, { details: { [field]: value } });
  }
  return new Date(ms).toISOString();
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
