// Embedded log store: JSON lines under `<dir>/<org>/<project>/<app>/<env>/`, one stream per
// instance (log-streams.ts), each rotated on its own at a size limit, with a per-env retention by
// total size and age that a flooding instance cannot use to evict a quiet sibling's recent lines
// (log-retention.ts). App and system lines share an instance's stream (`source` tells them apart),
// so a crash's last words and the platform's account of it read in order, and stay readable after
// the process is gone; queries merge the streams by time (log-scan.ts). Writing never holds an
// app up: see log-segment-writer.ts.
import { EventEmitter } from 'node:events';
import { closeSync, openSync, readSync, statSync } from 'node:fs';
import path from 'node:path';
import { InvalidInputError } from '../../core/errors.ts';
import type { EnvRef, LogLine, LogPage, LogQuery, LogStore } from '../../core/ports.ts';
import { applyRetention } from './log-retention.ts';
import { matches, mergeNewestFirst, scanNewestFirst, serialize, type Scan } from './log-scan.ts';
import { ACTIVE_FILE, SegmentWriter, segmentsOf, type WriteFn } from './log-segment-writer.ts';
import { safeReaddir, streamDir, streamsOf, type LogStream } from './log-streams.ts';

// Lines are stamped when appended, so the files are in time order but for clock steps (NTP); a
// backwards scan stops once it is this far before `since` rather than reading the whole history.
const OUT_OF_ORDER_SLACK_MS = 10 * 60_000;

const MiB = 1024 * 1024;

export interface LogStoreOptions {
  /** @default 10 MiB: an instance's `app.log` is rotated before a write would take it past this. */
  maxFileBytes?: number;
  /** @default 100 MiB: an env's files together; see log-retention.ts for what goes first. */
  maxEnvBytes?: number;
  /** @default 30 days, as the AWS log groups (infra/berth-props.ts `logRetention`). */
  maxAgeMs?: number;
  /** @default 8 MiB: bytes of one instance waiting for the disk beyond which its lines are dropped (and counted). */
  maxQueuedBytes?: number;
  /** @default Date.now; tests pass a fake clock for retention by age. */
  now?: () => number;
  /** Test-only: the asynchronous file write (a slow disk). */
  write?: WriteFn;
}

interface StreamWriter {
  writer: SegmentWriter;
  envDir: string;
}

export class FileLogStore implements LogStore {
  /** By stream dir. */
  private readonly writers = new Map<string, StreamWriter>();
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

  /** The dir an env's streams live in. */
  dirOf(env: EnvRef): string {
    const parts = [env.org, env.project, env.app, env.env];
    for (const part of parts) {
      if (!part || part === '.' || part === '..' || /[/\\\0]/.test(part)) {
        throw new InvalidInputError('invalid-env-ref', `"${part}" cannot name a log directory: env names are DNS labels such as "prod"`, { details: { env } });
      }
    }
    return path.join(this.dir, ...parts);
  }

  /** The file an instance's new lines go to. */
  fileOf(env: EnvRef, workload: string, instance: string): string {
    return path.join(streamDir(this.dirOf(env), workload, instance), ACTIVE_FILE);
  }

  /** Every log file an env holds now, all streams (the bench's floor reads them plainly). */
  filesOf(env: EnvRef): string[] {
    return streamsOf(this.dirOf(env)).flatMap((s) => orderedNames(safeReaddir(s.dir)).map((name) => path.join(s.dir, name)));
  }

  append(env: EnvRef, line: LogLine): void {
    const envDir = this.dirOf(env);
    // Queued, not written: the app's pipe is drained whatever the disk does. A dropped line is
    // not shown to followers either, so a stream and the history tell the same story.
    if (this.writer(envDir, line.workload, line.instance).append(serialize(line), `${line.workload}\t${line.instance}`)) this.appended.emit(envDir, line);
  }

  /** Resolves once every line appended so far is on disk. */
  async flush(): Promise<void> {
    await Promise.all([...this.writers.values()].map((w) => w.writer.flushed()));
  }

  /** A follower's poll: lines are on disk once `query` has flushed, so nothing shows up late here. */
  async read(env: EnvRef, query: LogQuery & { after: string }): Promise<LogPage> {
    const { after, limit = 1000, ...rest } = query;
    const lines = await this.query(env, { ...rest, since: after });
    const page = lines.slice(0, limit);
    return { lines: page, next: page.at(-1)?.ts ?? normalizeTime(after, 'after'), more: lines.length > limit };
  }

  async query(env: EnvRef, query: LogQuery): Promise<LogLine[]> {
    const envDir = this.dirOf(env);
    const scan = scanOf(query);
    const limit = query.limit ?? Infinity;
    if (limit <= 0) return [];
    // A query right after append sees the line.
    await Promise.all([...this.writers.values()].filter((w) => w.envDir === envDir).map((w) => w.writer.flushed()));
    // All files of all streams opened at once and synchronously: rotation and retention run on
    // this thread, so the set is consistent, and an open file stays readable if it is renamed or
    // deleted while the query reads it.
    const streams = streamsOf(envDir).filter((s) => couldMatch(s, query));
    const opened: number[][] = [];
    try {
      for (const s of streams) opened.push(openNewestFirst(s.dir));
      const batch = Number.isFinite(limit) ? Math.min(limit, 4096) : 4096;
      return await mergeNewestFirst(
        opened.map((fds) => scanNewestFirst(fds, scan, batch)),
        limit,
      );
    } finally {
      for (const fd of opened.flat()) closeSync(fd);
    }
  }

  follow(env: EnvRef, query: LogQuery, onLine: (line: LogLine) => void): () => void {
    const envDir = this.dirOf(env);
    const scan = scanOf(query);
    const listener = (line: LogLine): void => {
      if (matches(line, scan)) onLine(line);
    };
    this.appended.on(envDir, listener);
    return () => {
      this.appended.off(envDir, listener);
    };
  }

  /**
   * Applies the retention to every env (an env that stopped logging still ages out); returns the
   * files deleted, relative to the store's dir.
   */
  sweep(): string[] {
    const deleted: string[] = [];
    for (const envDir of envDirs(this.dir)) {
      for (const name of this.retain(envDir)) deleted.push(path.relative(this.dir, path.join(envDir, name)));
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
    await Promise.all([...this.writers.values()].map((w) => w.writer.close()));
  }

  private retain(envDir: string): string[] {
    return applyRetention(envDir, this.limits, this.limits.now(), (dir) => {
      const writer = this.writers.get(dir)?.writer;
      // Lines on their way to the active file make it young again.
      if (writer?.pendingBytes) return false;
      writer?.closeFile();
      return true;
    });
  }

  private writer(envDir: string, workload: string, instance: string): SegmentWriter {
    const dir = streamDir(envDir, workload, instance);
    let entry = this.writers.get(dir);
    if (!entry) {
      const file = path.join(dir, ACTIVE_FILE);
      const names = safeReaddir(dir);
      const size = names.includes(ACTIVE_FILE) ? statSync(file).size : 0;
      const nextSeq = (segmentsOf(names).at(-1)?.seq ?? 0) + 1;
      const marker = (key: string, count: number): string => {
        const [w = '-', i = '-'] = key ? key.split('\t') : [workload, instance];
        const why = key ? 'the log writer fell behind (the disk is slower than the app writes)' : 'the log file could not be written';
        return serialize({ ts: new Date(this.limits.now()).toISOString(), source: 'system', workload: w, instance: i, level: 'warn', message: `${count} line${count === 1 ? '' : 's'} dropped: ${why}` });
      };
      const onRotated = () => {
        try {
          this.retain(envDir);
        } catch (err) {
          // Retention is housekeeping: an error here must not stop the writing.
          console.error(`log retention of ${path.relative(this.dir, envDir)}:`, err);
        }
      };
      const writer = new SegmentWriter(file, size, nextSeq, { maxFileBytes: this.limits.maxFileBytes, maxQueuedBytes: this.limits.maxQueuedBytes }, marker, onRotated, this.limits.write);
      entry = { writer, envDir };
      this.writers.set(dir, entry);
      // A platform killed mid-write left a torn last line: new lines start on a line of their own.
      if (size > 0 && !endsWithNewline(file, size)) writer.append('\n', '');
    }
    return entry.writer;
  }
}

function scanOf(query: LogQuery): Scan {
  const since = query.since === undefined ? undefined : normalizeTime(query.since, 'since');
  const until = query.until === undefined ? undefined : normalizeTime(query.until, 'until');
  const stopBefore = since === undefined ? undefined : new Date(Date.parse(since) - OUT_OF_ORDER_SLACK_MS).toISOString();
  return { query, since, until, stopBefore };
}

/** An instance's stream holds only its own lines; the legacy env-wide one may hold any. */
function couldMatch(stream: LogStream, query: LogQuery): boolean {
  if (stream.instance === undefined) return true;
  if (query.workload !== undefined && stream.workload !== query.workload) return false;
  return query.instance === undefined || stream.instance === query.instance;
}

function endsWithNewline(file: string, size: number): boolean {
  const fd = openSync(file, 'r');
  try {
    const last = Buffer.alloc(1);
    readSync(fd, last, 0, 1, size - 1);
    return last[0] === 0x0a;
  } finally {
    closeSync(fd);
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

/** A stream's files newest first: `app.log`, then `app.log.<n>` from the highest n. */
function orderedNames(names: string[]): string[] {
  return [...(names.includes(ACTIVE_FILE) ? [ACTIVE_FILE] : []), ...segmentsOf(names).reverse().map((s) => s.name)];
}

function openNewestFirst(dir: string): number[] {
  const fds: number[] = [];
  for (const name of orderedNames(safeReaddir(dir))) {
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

/** Lines are stamped with `toISOString()`; bounds are brought to the same form so strings compare. */
function normalizeTime(value: string, field: 'since' | 'until' | 'after'): string {
  const ms = Date.parse(value);
  if (Number.isNaN(ms)) {
    throw new InvalidInputError('invalid-time', `${field} "${value}" is not a date; use ISO-8601 such as 2024-05-01T12:00:00Z`, { details: { [field]: value } });
  }
  return new Date(ms).toISOString();
}
