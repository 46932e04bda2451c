// AWS log store: CloudWatch Logs, one log group per env (`<prefix><org>/<project>/<app>/<env>`).
// Containers write to it through the awslogs driver; the platform appends its own lines to the
// `system` stream. `follow` polls FilterLogEvents once a second with a moving start time;
// CloudWatch's StartLiveTail would stream instead, but it needs a long-lived HTTP/2 connection
// that an API Lambda answering the CLI cannot hold, and polling is what the API can page through.
import {
  CreateLogGroupCommand,
  CreateLogStreamCommand,
  FilterLogEventsCommand,
  PutLogEventsCommand,
  PutRetentionPolicyCommand,
  ResourceAlreadyExistsException,
  ResourceNotFoundException,
  type CloudWatchLogsClient,
} from '@aws-sdk/client-cloudwatch-logs';
import { BerthError, InvalidInputError } from '../../core/errors.ts';
import type { EnvRef, LogLine, LogPage, LogQuery, LogStore } from '../../core/ports.ts';
import { attempt, isAwsError } from './aws-errors.ts';
import type { AwsRuntimeConfig } from './config.ts';
import { matches, streamSelectors, SYSTEM_STREAM, toLogLine, type StreamSelector } from './log-events.ts';
import { berthTagMap, logGroupName } from './tags.ts';

export interface CloudWatchLogStoreOptions {
  /** How often `follow` polls. @default 1000 */
  pollIntervalMs?: number;
  /**
   * Milliseconds one request may spend reading FilterLogEvents pages before it answers with what it
   * has (and, for a follower, where to go on). @default 10000: well inside the 30 s an HTTP API
   * waits for its Lambda (https://docs.aws.amazon.com/apigateway/latest/developerguide/http-api-quotas.html).
   */
  budgetMs?: number;
  /** Where failures of the fire-and-forget `append` go. @default console.error */
  onError?: (err: unknown) => void;
  now?: () => number;
}

type LogConfig = Pick<AwsRuntimeConfig, 'logGroupPrefix' | 'logRetentionDays'>;
type ScannedEvent = { id: string; ts: number; line: LogLine };

// Without `since`, a query looks back in widening windows and stops once it has `limit` lines:
// FilterLogEvents reads forward only, and the newest lines are what `berth logs` wants.
const WINDOWS_MS = [3_600_000, 86_400_000, 7 * 86_400_000, 30 * 86_400_000, Infinity];
// CloudWatch may make an event searchable a few seconds after its timestamp (the awslogs driver
// batches; an event's ingestionTime is its own); follow re-reads this far back.
const INGESTION_LAG_MS = 10_000;
/** Lines one follower's poll returns at most, by default. */
const READ_LIMIT = 1000;

const ensuredGroups = new Set<string>();

/** Creates the env's log group, tagged and with a retention, once per process; idempotent. */
export async function ensureLogGroup(logs: CloudWatchLogsClient, config: LogConfig, env: EnvRef): Promise<string> {
  const name = logGroupName(config.logGroupPrefix, env);
  if (ensuredGroups.has(name)) return name;
  await attempt(
    `create log group ${name}`,
    () => logs.send(new CreateLogGroupCommand({ logGroupName: name, tags: berthTagMap(env) })),
    (err) => {
      if (!(err instanceof ResourceAlreadyExistsException)) throw err;
      return undefined;
    },
  );
  await attempt(`set the retention of log group ${name}`, () => logs.send(new PutRetentionPolicyCommand({ logGroupName: name, retentionInDays: config.logRetentionDays })));
  ensuredGroups.add(name);
  return name;
}

export class CloudWatchLogStore implements LogStore {
  private readonly logs: CloudWatchLogsClient;
  private readonly pollIntervalMs: number;
  private readonly budgetMs: number;
  private readonly onError: (err: unknown) => void;
  private readonly now: () => number;
  private readonly pending = new Map<string, { env: EnvRef; lines: LogLine[] }>();
  private flushing: Promise<void> = Promise.resolve();

  constructor(
    clients: { logs: CloudWatchLogsClient },
    private readonly config: LogConfig,
    options: CloudWatchLogStoreOptions = {},
  ) {
    this.logs = clients.logs;
    this.pollIntervalMs = options.pollIntervalMs ?? 1000;
    this.budgetMs = options.budgetMs ?? 10_000;
    this.onError = options.onError ?? ((err) => console.error('berth: could not write system log lines to CloudWatch', err));
    this.now = options.now ?? Date.now;
  }

  /** Queues the line; `flush()` (awaited by the Lambda before it returns) writes what is queued. */
  append(env: EnvRef, line: LogLine): void {
    const group = logGroupName(this.config.logGroupPrefix, env);
    const batch = this.pending.get(group) ?? { env, lines: [] };
    batch.lines.push(line);
    this.pending.set(group, batch);
    void this.flush();
  }

  /** Writes every queued line; failures go to `onError` (append has no caller to throw to). */
  flush(): Promise<void> {
    this.flushing = this.flushing.then(async () => {
      const batches = [...this.pending.entries()];
      this.pending.clear();
      for (const [group, { env, lines }] of batches) await this.put(group, env, lines).catch(this.onError);
    });
    return this.flushing;
  }

  async query(env: EnvRef, query: LogQuery): Promise<LogLine[]> {
    const group = logGroupName(this.config.logGroupPrefix, env);
    const since = query.since === undefined ? 0 : time(query.since, 'since');
    const until = query.until === undefined ? this.now() : time(query.until, 'until');
    const limit = query.limit ?? Infinity;
    if (limit <= 0) return [];
    const deadline = this.now() + this.budgetMs;
    if (limit === Infinity) return (await this.scan(group, query, since, until, deadline)).lines;
    let found: LogLine[] = [];
    let end = until;
    for (const window of WINDOWS_MS) {
      const start = Math.max(since, until - window);
      found = [...(await this.scan(group, query, start, end, deadline)).lines, ...found];
      // Out of time: the newest lines found so far are the answer (the window nearest `until` is read first).
      if (found.length >= limit || start <= since || this.now() >= deadline) break;
      // Both bounds are inclusive: the next, older window ends just before this one.
      end = start - 1;
    }
    return found.slice(-limit);
  }

  /**
   * A follower's poll from `after`. It re-reads nothing itself: `next` stays INGESTION_LAG_MS behind
   * now, so the next poll covers the lines that become searchable late, and the follower drops the
   * ones it already printed. A scan that runs out of lines (`limit`) or of time stops early, and
   * `next` is where it had read every stream up to.
   */
  async read(env: EnvRef, query: LogQuery & { after: string }): Promise<LogPage> {
    const group = logGroupName(this.config.logGroupPrefix, env);
    const after = time(query.after, 'after');
    const now = this.now();
    const end = query.until === undefined ? now : Math.min(now, time(query.until, 'until'));
    const limit = query.limit ?? READ_LIMIT;
    const deadline = now + this.budgetMs;
    const scans = [];
    for (const selector of streamSelectors(query)) scans.push(await this.filter(group, selector, query, after, end, deadline, limit));
    // Every stream is read up to the earliest point any selection stopped at.
    let cutoff = Math.min(...scans.map((s) => (s.complete ? Infinity : s.reached)));
    let events = scans.flatMap((s) => s.events).filter((e) => e.ts <= cutoff);
    events.sort((a, b) => a.ts - b.ts || a.id.localeCompare(b.id));
    if (events.length > limit) {
      events = events.slice(0, limit);
      cutoff = events[events.length - 1].ts;
    }
    // `more` only when the read moved on: a scan that found nothing in its budget polls at the usual pace.
    const more = cutoff !== Infinity && cutoff > after;
    // Never past now minus the lag, even when stopped early: a line timestamped before the cutoff may
    // still become searchable (another stream's batch), and the next poll must cover it.
    const next = Math.max(after, Math.min(more ? cutoff : end, now - INGESTION_LAG_MS));
    return { lines: events.map((e) => e.line), next: new Date(next).toISOString(), more };
  }

  follow(env: EnvRef, query: LogQuery, onLine: (line: LogLine) => void): () => void {
    const group = logGroupName(this.config.logGroupPrefix, env);
    const from = Math.max(this.now(), query.since === undefined ? 0 : time(query.since, 'since'));
    const until = query.until === undefined ? Infinity : time(query.until, 'until');
    let cursor = from;
    let stopped = false;
    let timer: NodeJS.Timeout | undefined;
    // Events already delivered inside the re-read window, by id, with their timestamps.
    const seen = new Map<string, number>();
    const tick = async (): Promise<void> => {
      try {
        const { events } = await this.scan(group, query, Math.max(from, cursor - INGESTION_LAG_MS), Math.min(until, this.now()), this.now() + this.budgetMs);
        for (const { id, ts, line } of events) {
          if (stopped) return;
          if (seen.has(id)) continue;
          seen.set(id, ts);
          cursor = Math.max(cursor, ts);
          onLine(line);
        }
        for (const [id, ts] of seen) if (ts < cursor - INGESTION_LAG_MS) seen.delete(id);
      } catch (err) {
        this.onError(err);
      }
      if (!stopped && this.now() <= until) timer = setTimeout(tick, this.pollIntervalMs);
    };
    timer = setTimeout(tick, this.pollIntervalMs);
    return () => {
      stopped = true;
      clearTimeout(timer);
    };
  }

  /** Every matching event in [start, end], oldest first, over the query's stream selections. */
  private async scan(group: string, query: LogQuery, start: number, end: number, deadline: number): Promise<{ lines: LogLine[]; events: ScannedEvent[] }> {
    const events: ScannedEvent[] = [];
    for (const selector of streamSelectors(query)) events.push(...(await this.filter(group, selector, query, start, end, deadline)).events);
    events.sort((a, b) => a.ts - b.ts || a.id.localeCompare(b.id));
    return { lines: events.map((e) => e.line), events };
  }

  /**
   * FilterLogEvents pages of one stream selection over [start, end], until the last page, `limit`
   * events read, or the deadline. Pages come in timestamp order, so `reached` (the last timestamp
   * read) is how far the selection is complete when it stops early.
   */
  private async filter(group: string, selector: StreamSelector, query: LogQuery, start: number, end: number, deadline: number, limit = Infinity): Promise<{ events: ScannedEvent[]; complete: boolean; reached: number }> {
    const out: ScannedEvent[] = [];
    let nextToken: string | undefined;
    let read = 0;
    let reached = start;
    do {
      const page = await attempt(
        `read logs of ${group}`,
        () => this.logs.send(new FilterLogEventsCommand({ logGroupName: group, ...selector, startTime: start, endTime: end, nextToken })),
        (err) => {
          // No log group yet: the env has not logged anything.
          if (err instanceof ResourceNotFoundException) return { events: [], $metadata: {} };
          // FilterLogEvents is limited to 5 requests per second per account and Region
          // (https://docs.aws.amazon.com/AmazonCloudWatch/latest/logs/cloudwatch_limits_cwl.html), shared
          // by everyone reading logs: a quota to wait out, not an internal error.
          if (isAwsError(err, 'ThrottlingException')) {
            throw new BerthError('quota', 'logs-throttled', 'CloudWatch Logs is throttling log reads (FilterLogEvents allows 5 requests per second per account and Region); try again in a few seconds', {
              details: { retryAfterSeconds: 2 },
              next: ['berth logs --since 5m'],
            });
          }
          throw err;
        },
      );
      for (const event of page.events ?? []) {
        read++;
        reached = Math.max(reached, event.timestamp ?? 0);
        const line = toLogLine(event);
        if (line && matches(line, query)) out.push({ id: event.eventId ?? `${event.logStreamName}/${event.timestamp}`, ts: event.timestamp ?? 0, line });
      }
      nextToken = page.nextToken;
    } while (nextToken && read < limit && this.now() < deadline);
    return { events: out, complete: !nextToken, reached };
  }

  private async put(group: string, env: EnvRef, lines: LogLine[]): Promise<void> {
    // PutLogEvents wants the batch in time order.
    const logEvents = lines.map((line) => ({ timestamp: Date.parse(line.ts), message: JSON.stringify(line) })).sort((a, b) => a.timestamp - b.timestamp);
    const send = () => this.logs.send(new PutLogEventsCommand({ logGroupName: group, logStreamName: SYSTEM_STREAM, logEvents }));
    await attempt(`write system log lines to ${group}`, send, async (err) => {
      if (!(err instanceof ResourceNotFoundException)) throw err;
      // First line of a new env: create the group (tagged) and the stream, then write again.
      await ensureLogGroup(this.logs, this.config, env);
      await attempt(
        `create the system log stream of ${group}`,
        async () => this.logs.send(new CreateLogStreamCommand({ logGroupName: group, logStreamName: SYSTEM_STREAM })),
        (e) => {
          if (!(e instanceof ResourceAlreadyExistsException)) throw e;
          return undefined;
        },
      );
      return send();
    });
  }
}

function time(value: string, field: 'since' | 'until' | 'after'): number {
  const ms = Date.parse(value);
  if (Number.isNaN(ms)) throw new InvalidInputError('invalid-time', `${field} "${value}" is not a date; use ISO-8601 such as 2024-05-01T12:00:00Z`, { details: { [field]: value } });
  return ms;
}
