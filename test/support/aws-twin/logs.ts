// CloudWatch Logs in the twin: log groups (tags, retention) and streams; events written by the
// containers' awslogs driver (`write`) or by PutLogEvents; each event becomes searchable only after
// its ingestion lag; FilterLogEvents throttled at the account's TPS quota, paged at 10,000 events or
// 1 MB with a `nextToken`; GetLogEvents; retention expiry; DeleteLogGroup.
import {
  InvalidParameterException,
  ResourceAlreadyExistsException,
  ResourceNotFoundException,
  ThrottlingException,
} from '@aws-sdk/client-cloudwatch-logs';
import type { AwsTwin } from './twin.ts';

export interface TwinLogEvent {
  eventId: string;
  logStreamName: string;
  timestamp: number;
  /** When CloudWatch has it: FilterLogEvents and GetLogEvents return the event from then on. */
  ingestionTime: number;
  message: string;
  seq: number;
}

interface LogGroup {
  name: string;
  retentionInDays?: number;
  tags: Record<string, string>;
  streams: Map<string, TwinLogEvent[]>;
}

export interface LogsState {
  groups: Map<string, LogGroup>;
  /**
   * Simulated ms from an event's timestamp until it is searchable, by stream. The awslogs driver
   * batches a container's output before PutLogEvents (https://docs.aws.amazon.com/AmazonECS/latest/developerguide/using_awslogs.html)
   * and an event carries its own `ingestionTime` apart from its `timestamp`
   * (https://docs.aws.amazon.com/AmazonCloudWatchLogs/latest/APIReference/API_FilteredLogEvent.html);
   * AWS gives no figure, so the default, 2 s, is a guess a journey may raise.
   */
  lagMs: (logStreamName: string) => number;
  /**
   * FilterLogEvents requests per second per account and Region: 5, a Service Quotas default
   * (https://docs.aws.amazon.com/AmazonCloudWatch/latest/logs/cloudwatch_limits_cwl.html).
   */
  filterTps: number;
  /** Simulated ms one FilterLogEvents page takes to answer (a long scan is slow); 0: at once. */
  filterLatencyMs: number;
  /**
   * Events per FilterLogEvents page at most, below the 10,000 bound: "A returned page might only be
   * partially full, or even empty" and pagination goes on while there is a nextToken (API_FilterLogEvents.html).
   */
  pageEvents: number;
  /** FilterLogEvents calls answered and refused (ThrottlingException), with their simulated times. */
  filterCalls: { at: number; principal: string; throttled: boolean }[];
  /** One FilterLogEvents request against the account's quota now: false when it is throttled. Others in the account (a neighbour's tool) call it too. */
  admit(principal: string): boolean;
  /** The awslogs driver side: a container's line arrives in `group`/`stream` with timestamp `at` (default: now). */
  write(group: string, stream: string, message: string, at?: number): TwinLogEvent;
}

// Response page bounds (https://docs.aws.amazon.com/AmazonCloudWatchLogs/latest/APIReference/API_FilterLogEvents.html):
// "as many log events as can fit in 1 MB (up to 10,000 log events)".
const PAGE_EVENTS = 10_000;
const PAGE_BYTES = 1_048_576;
// An event's size counts its UTF-8 message plus 26 bytes (https://docs.aws.amazon.com/AmazonCloudWatchLogs/latest/APIReference/API_PutLogEvents.html).
const EVENT_OVERHEAD = 26;
// PutRetentionPolicy accepts only these day counts (https://docs.aws.amazon.com/AmazonCloudWatchLogs/latest/APIReference/API_PutRetentionPolicy.html).
const RETENTION_DAYS = [1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653];
const DAY = 86_400_000;

const notFound = (what: string) => new ResourceNotFoundException({ message: `The specified ${what} does not exist.`, $metadata: {} });
const invalid = (message: string) => new InvalidParameterException({ message, $metadata: {} });

export function install(twin: AwsTwin): LogsState {
  let seq = 0;
  const state: LogsState = {
    groups: new Map(),
    lagMs: () => 2_000,
    filterTps: 5,
    filterLatencyMs: 0,
    pageEvents: PAGE_EVENTS,
    filterCalls: [],
    admit: (principal) => {
      const now = twin.clock.now();
      // The quota counts requests per second; a request over it fails with ThrottlingException
      // (cloudwatch_limits_cwl.html above; https://docs.aws.amazon.com/AmazonCloudWatchLogs/latest/APIReference/CommonErrors.html).
      const throttled = state.filterCalls.filter((c) => !c.throttled && c.at > now - 1000).length >= state.filterTps;
      state.filterCalls.push({ at: now, principal, throttled });
      return !throttled;
    },
    write: (groupName, stream, message, at = twin.clock.now()) => {
      const g = group(groupName);
      // The awslogs driver creates its stream on first output (awslogs-create-group aside, the group must exist).
      if (!g.streams.has(stream)) g.streams.set(stream, []);
      const event: TwinLogEvent = { eventId: `${at}-${++seq}`, logStreamName: stream, timestamp: at, ingestionTime: at + state.lagMs(stream), message, seq };
      g.streams.get(stream)!.push(event);
      return event;
    },
  };

  const group = (name: string): LogGroup => {
    const g = state.groups.get(name);
    if (!g) throw notFound('log group');
    return g;
  };

  // Events past the group's retention are gone. AWS deletes them some time after they expire
  // (https://docs.aws.amazon.com/AmazonCloudWatch/latest/logs/Working-with-log-groups-and-streams.html#SettingLogRetention);
  // the twin drops them at once, the earliest AWS may.
  const retained = (g: LogGroup, e: TwinLogEvent) => g.retentionInDays === undefined || e.timestamp >= twin.clock.now() - g.retentionInDays * DAY;
  const searchable = (g: LogGroup, e: TwinLogEvent) => e.ingestionTime <= twin.clock.now() && retained(g, e);

  // https://docs.aws.amazon.com/AmazonCloudWatchLogs/latest/APIReference/API_CreateLogGroup.html
  twin.handler('cloudwatch-logs', 'CreateLogGroup', (input) => {
    if (state.groups.has(input.logGroupName)) throw new ResourceAlreadyExistsException({ message: 'The specified log group already exists', $metadata: {} });
    state.groups.set(input.logGroupName, { name: input.logGroupName, tags: input.tags ?? {}, streams: new Map() });
    return {};
  });
  // https://docs.aws.amazon.com/AmazonCloudWatchLogs/latest/APIReference/API_DeleteLogGroup.html: its streams and events go with it.
  twin.handler('cloudwatch-logs', 'DeleteLogGroup', (input) => {
    group(input.logGroupName);
    state.groups.delete(input.logGroupName);
    return {};
  });
  twin.handler('cloudwatch-logs', 'PutRetentionPolicy', (input) => {
    if (!RETENTION_DAYS.includes(input.retentionInDays)) throw invalid(`1 validation error detected: Value '${input.retentionInDays}' at 'retentionInDays' failed to satisfy constraint: Member must satisfy enum value set: [${RETENTION_DAYS.join(', ')}]`);
    group(input.logGroupName).retentionInDays = input.retentionInDays;
    return {};
  });
  // https://docs.aws.amazon.com/AmazonCloudWatchLogs/latest/APIReference/API_DeleteRetentionPolicy.html: kept forever again.
  twin.handler('cloudwatch-logs', 'DeleteRetentionPolicy', (input) => {
    delete group(input.logGroupName).retentionInDays;
    return {};
  });
  twin.handler('cloudwatch-logs', 'CreateLogStream', (input) => {
    const g = group(input.logGroupName);
    if (g.streams.has(input.logStreamName)) throw new ResourceAlreadyExistsException({ message: 'The specified log stream already exists', $metadata: {} });
    g.streams.set(input.logStreamName, []);
    return {};
  });
  twin.handler('cloudwatch-logs', 'DescribeLogGroups', (input) => ({
    logGroups: [...state.groups.values()].filter((g) => !input.logGroupNamePrefix || g.name.startsWith(input.logGroupNamePrefix)).map((g) => ({ logGroupName: g.name, retentionInDays: g.retentionInDays, storedBytes: 0 })),
  }));

  // https://docs.aws.amazon.com/AmazonCloudWatchLogs/latest/APIReference/API_PutLogEvents.html: events in
  // time order; those older than 14 days or than the retention, or more than 2 hours ahead, are rejected.
  twin.handler('cloudwatch-logs', 'PutLogEvents', (input) => {
    const g = group(input.logGroupName);
    const stream = g.streams.get(input.logStreamName);
    if (!stream) throw notFound('log stream');
    const events = input.logEvents as { timestamp: number; message: string }[];
    for (let i = 1; i < events.length; i++) if (events[i].timestamp < events[i - 1].timestamp) throw invalid('Log events in a single PutLogEvents request must be in chronological order.');
    const now = twin.clock.now();
    const oldest = Math.max(now - 14 * DAY, g.retentionInDays === undefined ? -Infinity : now - g.retentionInDays * DAY);
    const rejected: Record<string, number> = {};
    events.forEach((e, i) => {
      if (e.timestamp < oldest) rejected.tooOldLogEventEndIndex = i;
      else if (e.timestamp > now + 2 * 3_600_000) rejected.tooNewLogEventStartIndex ??= i;
      else state.write(input.logGroupName, input.logStreamName, e.message, e.timestamp);
    });
    return Object.keys(rejected).length ? { rejectedLogEventsInfo: rejected } : {};
  });

  // Sorted "by event timestamp, the timestamp when the event was ingested by CloudWatch Logs, and the
  // ID of the PutLogEvents request" (API_FilterLogEvents.html); the token resumes after the last one sent.
  const order = (a: TwinLogEvent, b: TwinLogEvent) => a.timestamp - b.timestamp || a.ingestionTime - b.ingestionTime || a.seq - b.seq;
  const after = (e: TwinLogEvent, token: { t: number; i: number; s: number }) => order(e, { timestamp: token.t, ingestionTime: token.i, seq: token.s } as TwinLogEvent) > 0;
  const encode = (e: TwinLogEvent) => Buffer.from(JSON.stringify({ t: e.timestamp, i: e.ingestionTime, s: e.seq })).toString('base64url');
  const decode = (token: string) => {
    try {
      return JSON.parse(Buffer.from(token, 'base64url').toString()) as { t: number; i: number; s: number };
    } catch {
      throw invalid('The specified nextToken is invalid.');
    }
  };

  twin.handler('cloudwatch-logs', 'FilterLogEvents', async (input, call) => {
    if (!state.admit(call.principal)) throw new ThrottlingException({ message: 'Rate exceeded', $metadata: { httpStatusCode: 400 } });
    if (input.logStreamNames && input.logStreamNamePrefix) throw invalid('Cannot specify both logStreamNamePrefix and logStreamNames');
    const g = group(input.logGroupName);
    const start = input.startTime ?? -Infinity;
    const end = input.endTime ?? Infinity;
    const token = input.nextToken ? decode(input.nextToken) : undefined;
    const limit = Math.min(input.limit ?? PAGE_EVENTS, PAGE_EVENTS, state.pageEvents);
    const candidates = [...g.streams.entries()]
      .filter(([name]) => (input.logStreamNames ? input.logStreamNames.includes(name) : !input.logStreamNamePrefix || name.startsWith(input.logStreamNamePrefix)))
      .flatMap(([, events]) => events)
      // startTime and endTime bound the event timestamp, both inclusive.
      .filter((e) => e.timestamp >= start && e.timestamp <= end && searchable(g, e) && (!token || after(e, token)))
      .sort(order);
    const page: TwinLogEvent[] = [];
    let bytes = 0;
    for (const e of candidates) {
      const size = Buffer.byteLength(e.message) + EVENT_OVERHEAD;
      if (page.length >= limit || bytes + size > PAGE_BYTES) break;
      page.push(e);
      bytes += size;
    }
    if (state.filterLatencyMs > 0) await twin.clock.sleep(state.filterLatencyMs);
    const more = page.length < candidates.length;
    return {
      events: page.map(({ eventId, logStreamName, timestamp, ingestionTime, message }) => ({ eventId, logStreamName, timestamp, ingestionTime, message })),
      ...(more ? { nextToken: encode(page[page.length - 1]) } : {}),
      searchedLogStreams: [],
    };
  });

  // https://docs.aws.amazon.com/AmazonCloudWatchLogs/latest/APIReference/API_GetLogEvents.html: one
  // stream, oldest first with startFromHead, up to 10,000 events or 1 MB; the token is the position.
  twin.handler('cloudwatch-logs', 'GetLogEvents', (input) => {
    const g = group(input.logGroupName);
    const stream = g.streams.get(input.logStreamName);
    if (!stream) throw notFound('log stream');
    const from = input.nextToken ? Number(String(input.nextToken).slice(2)) : 0;
    const visible = stream.filter((e) => searchable(g, e) && e.timestamp >= (input.startTime ?? -Infinity) && e.timestamp < (input.endTime ?? Infinity)).sort(order);
    const page = visible.slice(from, from + Math.min(input.limit ?? PAGE_EVENTS, PAGE_EVENTS));
    const next = from + page.length;
    return { events: page.map(({ timestamp, ingestionTime, message }) => ({ timestamp, ingestionTime, message })), nextForwardToken: `f/${next}`, nextBackwardToken: `b/${from}` };
  });
  return state;
}
