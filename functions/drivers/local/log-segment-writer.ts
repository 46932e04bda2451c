// Writes one log stream's lines (an instance's: log-streams.ts) to `app.log`, rotating it to `app.log.<n>` at a size limit, without
// ever holding the app up. Lines are queued and written asynchronously in batches; the event loop
// stays free to drain the apps' stdout pipes whatever the disk does. When the disk falls behind
// and the queue is full, lines are dropped and counted, and a marker saying how many takes their
// place once there is room: a slow disk costs lines, never a blocked app (a full pipe would stop
// the app at its next write) nor a platform out of memory.
import { closeSync, mkdirSync, openSync, renameSync, write as fsWrite } from 'node:fs';
import path from 'node:path';

export interface SegmentLimits {
  /** A file is rotated before a write would take it past this size. */
  maxFileBytes: number;
  /** Bytes waiting for the disk beyond which lines are dropped. */
  maxQueuedBytes: number;
}

/** The asynchronous write the writer uses; a test passes a slow one. */
export type WriteFn = (fd: number, text: string, done: (err: NodeJS.ErrnoException | null) => void) => void;

const nodeWrite: WriteFn = (fd, text, done) => fsWrite(fd, text, null, 'utf8', (err) => done(err));

export const ACTIVE_FILE = 'app.log';
const SEGMENT = /^app\.log\.(\d+)$/;

/** Rotated files of a log dir, oldest first: `app.log.<n>`, n growing. */
export function segmentsOf(names: string[]): { name: string; seq: number }[] {
  return names
    .map((name) => ({ name, seq: Number(SEGMENT.exec(name)?.[1] ?? NaN) }))
    .filter((s) => Number.isFinite(s.seq))
    .sort((a, b) => a.seq - b.seq);
}

interface Queued {
  text: string;
  bytes: number;
  /** App or platform lines in `text`: 0 for a marker. */
  lines: number;
  /** A marker's count, put back if its write fails, so none is lost. */
  marker?: { key: string; count: number };
}

export class SegmentWriter {
  private fd: number | undefined;
  private readonly queue: Queued[] = [];
  private queuedBytes = 0;
  private writing = false;
  /** Lines dropped per key (the marker is written for each), since the last marker. */
  private readonly dropped = new Map<string, number>();
  private waiters: (() => void)[] = [];

  constructor(
    private readonly file: string,
    private size: number,
    private nextSeq: number,
    private readonly limits: SegmentLimits,
    /** The line that says `count` lines of `key` were dropped. */
    private readonly marker: (key: string, count: number) => string,
    /** After a rotation: retention may delete old segments. */
    private readonly onRotated: () => void,
    private readonly writeFn: WriteFn = nodeWrite,
  ) {}

  /** Queues a line; false when it was dropped (the queue is full). Never blocks. */
  append(text: string, key: string): boolean {
    const bytes = Buffer.byteLength(text);
    if (this.queuedBytes + bytes > this.limits.maxQueuedBytes) {
      this.dropped.set(key, (this.dropped.get(key) ?? 0) + 1);
      return false;
    }
    // Drops a failed write left are told before the lines that follow them.
    if (!this.writing) this.queueMarkers();
    this.enqueue(text, bytes, 1);
    this.pump();
    return true;
  }

  /** Resolves once every line queued so far is on disk (a query reads after it). */
  flushed(): Promise<void> {
    if (!this.writing && !this.queue.length) return Promise.resolve();
    return new Promise((resolve) => this.waiters.push(resolve));
  }

  /** Bytes waiting for the disk. */
  get pendingBytes(): number {
    return this.queuedBytes;
  }

  /** Flushes and closes the file; later appends reopen it. */
  async close(): Promise<void> {
    await this.flushed();
    this.closeFile();
  }

  /** The active file is being deleted by retention: it is reopened on the next write. */
  closeFile(): void {
    if (this.fd !== undefined) closeSync(this.fd);
    this.fd = undefined;
  }

  private enqueue(text: string, bytes: number, lines: number, marker?: Queued['marker']): void {
    this.queue.push({ text, bytes, lines, marker });
    this.queuedBytes += bytes;
  }

  private pump(): void {
    if (this.writing) return;
    if (!this.queue.length) {
      for (const resolve of this.waiters.splice(0)) resolve();
      return;
    }
    this.writing = true;
    // As many lines as fit in the current file (at least one): files stay under the limit.
    if (this.size > 0 && this.size + this.queue[0].bytes > this.limits.maxFileBytes) this.rotate();
    let take = 0;
    let bytes = 0;
    while (take < this.queue.length && (take === 0 || this.size + bytes + this.queue[take].bytes <= this.limits.maxFileBytes)) bytes += this.queue[take++].bytes;
    const batch = this.queue.splice(0, take);
    const text = batch.map((q) => q.text).join('');
    let fd: number;
    try {
      fd = this.descriptor();
    } catch (err) {
      return this.written(err as NodeJS.ErrnoException, batch, bytes);
    }
    this.writeFn(fd, text, (err) => this.written(err, batch, bytes));
  }

  private written(err: NodeJS.ErrnoException | null, batch: Queued[], bytes: number): void {
    this.queuedBytes -= bytes;
    this.writing = false;
    if (err) {
      // A full or failing disk (ENOSPC, EIO) loses these lines; it must not take the platform
      // down. The marker waits for a write that succeeds or the next line: no loop on a dead disk.
      for (const q of batch) {
        const [key, count] = q.marker ? [q.marker.key, q.marker.count] : ['', q.lines];
        if (count) this.dropped.set(key, (this.dropped.get(key) ?? 0) + count);
      }
    } else {
      this.size += bytes;
      this.queueMarkers();
    }
    this.pump();
  }

  private queueMarkers(): void {
    for (const [key, count] of this.dropped) {
      const text = this.marker(key, count);
      const bytes = Buffer.byteLength(text);
      // Markers may go a little over the bound: they are what says the bound was hit.
      if (this.queuedBytes + bytes > this.limits.maxQueuedBytes * 1.5) return;
      this.enqueue(text, bytes, 0, { key, count });
      this.dropped.delete(key);
    }
  }

  private rotate(): void {
    this.closeFile();
    const dir = path.dirname(this.file);
    try {
      renameSync(this.file, path.join(dir, `${ACTIVE_FILE}.${String(this.nextSeq).padStart(6, '0')}`));
      this.nextSeq++;
    } catch (err) {
      // Deleted meanwhile (retention, a person): a fresh file starts all the same. Any other
      // failure keeps writing to the same file, and rotation is tried again at the next batch.
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') return;
    }
    this.size = 0;
    this.onRotated();
  }

  private descriptor(): number {
    if (this.fd === undefined) {
      mkdirSync(path.dirname(this.file), { recursive: true });
      this.fd = openSync(this.file, 'a');
    }
    return this.fd;
  }
}
