import { CloudWatchLogsClient, CreateLogGroupCommand, CreateLogStreamCommand, FilterLogEventsCommand, PutLogEventsCommand, PutRetentionPolicyCommand, ResourceNotFoundException } from '@aws-sdk/client-cloudwatch-logs';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import type { EnvRef, LogLine } from '../functions/core/ports.ts';
import { CloudWatchLogStore } from '../functions/drivers/aws/cloudwatch-logs.ts';

const env: EnvRef = { org: 'acme', project: 'shop', app: 'api', env: 'prod' };
const GROUP = '/berth/acme/shop/api/prod';
const T0 = Date.UTC(2024, 4, 1, 12, 0, 0);
const logs = mockClient(CloudWatchLogsClient);
let now = T0 + 60_000;
const store = (options = {}) => new CloudWatchLogStore({ logs: new CloudWatchLogsClient({ region: 'eu-west-1' }) }, { logGroupPrefix: '/berth/', logRetentionDays: 14 }, { now: () => now, pollIntervalMs: 5, ...options });

const appEvent = (s: number, message: string, task = 't1', workload = 'web') => ({ eventId: `e${s}${task}`, timestamp: T0 + s * 1000, logStreamName: `${workload}/app/${task}`, message });
const systemEvent = (s: number, line: Partial<LogLine>) => ({
  eventId: `s${s}`,
  timestamp: T0 + s * 1000,
  logStreamName: 'system',
  message: JSON.stringify({ ts: new Date(T0 + s * 1000).toISOString(), source: 'system', workload: 'web', instance: 't1', level: 'info', message: 'x', ...line }),
});

beforeEach(() => {
  logs.reset();
  now = T0 + 60_000;
});

describe('CloudWatchLogStore.query', () => {
  it('reads the env log group with FilterLogEvents, following nextToken, and parses awslogs streams into lines', async () => {
    logs.on(FilterLogEventsCommand).resolvesOnce({ events: [appEvent(1, 'INFO listening on 8080\n')], nextToken: 'p2' }).resolvesOnce({ events: [appEvent(2, 'plain line'), systemEvent(3, { message: 'healthy', instance: 't1' })] });
    const lines = await store().query(env, { since: new Date(T0).toISOString(), until: new Date(T0 + 10_000).toISOString() });
    const calls = logs.commandCalls(FilterLogEventsCommand).map((c) => c.args[0].input);
    expect(calls).toEqual([
      { logGroupName: GROUP, startTime: T0, endTime: T0 + 10_000, nextToken: undefined },
      { logGroupName: GROUP, startTime: T0, endTime: T0 + 10_000, nextToken: 'p2' },
    ]);
    expect(lines).toEqual([
      { ts: '2024-05-01T12:00:01.000Z', source: 'app', workload: 'web', instance: 't1', level: 'info', message: 'INFO listening on 8080' },
      { ts: '2024-05-01T12:00:02.000Z', source: 'app', workload: 'web', instance: 't1', level: 'info', message: 'plain line' },
      { ts: '2024-05-01T12:00:03.000Z', source: 'system', workload: 'web', instance: 't1', level: 'info', message: 'healthy' },
    ]);
  });

  it('a workload query reads its app streams by prefix and the system stream by name, merged in time order', async () => {
    logs.on(FilterLogEventsCommand, { logStreamNamePrefix: 'web/app/t1' }).resolves({ events: [appEvent(1, 'a'), appEvent(4, 'ERROR b')] });
    logs.on(FilterLogEventsCommand, { logStreamNames: ['system'] }).resolves({ events: [systemEvent(2, { message: 'mine' }), systemEvent(3, { message: 'other', workload: 'worker' })] });
    const lines = await store().query(env, { workload: 'web', instance: 't1', since: new Date(T0).toISOString() });
    expect(lines.map((l) => l.message)).toEqual(['a', 'mine', 'ERROR b']);
    const errors = await store().query(env, { workload: 'web', instance: 't1', level: 'error', source: 'app', since: new Date(T0).toISOString() });
    expect(errors.map((l) => l.message)).toEqual(['ERROR b']);
  });

  it('with a limit and no since it looks back in widening windows until it has enough, newest last', async () => {
    logs.on(FilterLogEventsCommand).callsFake((input: { startTime: number; endTime: number }) => ({ events: [appEvent(-7200, 'old'), appEvent(-30, 'recent')].filter((e) => e.timestamp >= input.startTime && e.timestamp <= input.endTime) }));
    const lines = await store().query(env, { limit: 2 });
    expect(lines.map((l) => l.message)).toEqual(['old', 'recent']);
    const windows = logs.commandCalls(FilterLogEventsCommand).map((c) => [c.args[0].input.startTime, c.args[0].input.endTime]);
    expect(windows[0]).toEqual([now - 3_600_000, now]);
    expect(windows[1]).toEqual([now - 86_400_000, now - 3_600_000 - 1]);
    expect(windows).toHaveLength(2);
  });

  it('an env without a log group has no lines', async () => {
    logs.on(FilterLogEventsCommand).rejects(new ResourceNotFoundException({ message: 'The specified log group does not exist.', $metadata: {} }));
    expect(await store().query(env, {})).toEqual([]);
  });

  it('throttled reads (5 FilterLogEvents per second per account) answer quota/logs-throttled with a retry-after, not internal', async () => {
    logs.on(FilterLogEventsCommand).rejects(Object.assign(new Error('Rate exceeded'), { name: 'ThrottlingException', $metadata: {} }));
    await expect(store().query(env, {})).rejects.toMatchObject({ category: 'quota', code: 'logs-throttled', details: { retryAfterSeconds: 2 } });
  });
});

describe('CloudWatchLogStore.follow and append', () => {
  it('follow polls with a moving start time and delivers each event once', async () => {
    now = T0;
    logs.on(FilterLogEventsCommand).resolvesOnce({ events: [appEvent(30, 'one')] }).resolvesOnce({ events: [appEvent(30, 'one'), appEvent(31, 'two')] }).resolves({ events: [] });
    const seen: string[] = [];
    const stop = store().follow(env, {}, (line) => {
      seen.push(line.message);
      now = T0 + 40_000;
    });
    // Until the third poll (the one that finds nothing new), however slow the machine is.
    for (let i = 0; i < 500 && logs.commandCalls(FilterLogEventsCommand).length < 3; i++) await new Promise((resolve) => setTimeout(resolve, 10));
    stop();
    expect(seen).toEqual(['one', 'two']);
    const starts = logs.commandCalls(FilterLogEventsCommand).map((c) => c.args[0].input.startTime!);
    expect(starts[0]).toBe(T0);
    // The start moves with the newest event seen, less the ingestion-lag window it re-reads.
    expect(starts.at(-1)).toBe(T0 + 31_000 - 10_000);
    const count = logs.commandCalls(FilterLogEventsCommand).length;
    await new Promise((resolve) => setTimeout(resolve, 30));
    expect(logs.commandCalls(FilterLogEventsCommand).length).toBe(count);
  });

  it('append writes system lines as JSON to the system stream, creating the tagged group and stream on first use', async () => {
    logs.on(PutLogEventsCommand).rejectsOnce(new ResourceNotFoundException({ message: 'The specified log group does not exist.', $metadata: {} })).resolves({});
    const errors: unknown[] = [];
    const s = store({ onError: (e: unknown) => errors.push(e) });
    const line: LogLine = { ts: new Date(T0).toISOString(), source: 'system', workload: 'web', instance: 't1', level: 'warn', message: 'restarting' };
    s.append(env, line);
    await s.flush();
    expect(errors).toEqual([]);
    expect(logs.commandCalls(CreateLogGroupCommand)[0].args[0].input).toEqual({ logGroupName: GROUP, tags: { 'berth:org': 'acme', 'berth:project': 'shop', 'berth:app': 'api', 'berth:env': 'prod' } });
    expect(logs.commandCalls(PutRetentionPolicyCommand)[0].args[0].input).toEqual({ logGroupName: GROUP, retentionInDays: 14 });
    expect(logs.commandCalls(CreateLogStreamCommand)[0].args[0].input).toEqual({ logGroupName: GROUP, logStreamName: 'system' });
    const puts = logs.commandCalls(PutLogEventsCommand);
    expect(puts).toHaveLength(2);
    expect(puts[1].args[0].input).toEqual({ logGroupName: GROUP, logStreamName: 'system', logEvents: [{ timestamp: T0, message: JSON.stringify(line) }] });
  });
});

describe('CloudWatchLogStore.read (a follower\'s poll on AWS)', () => {
  it('reads from `after` and answers `next` 10 s behind now, so lines searchable late are read again', async () => {
    now = T0 + 60_000;
    logs.on(FilterLogEventsCommand).resolves({ events: [appEvent(50, 'a'), appEvent(58, 'b')] });
    const page = await store().read(env, { after: new Date(T0 + 40_000).toISOString() });
    expect(page.lines.map((l) => l.message)).toEqual(['a', 'b']);
    expect(page).toMatchObject({ next: new Date(T0 + 50_000).toISOString(), more: false });
    expect(logs.commandCalls(FilterLogEventsCommand)[0].args[0].input).toMatchObject({ startTime: T0 + 40_000, endTime: T0 + 60_000 });
  });

  it('stops at its time budget with `more` and goes on from the last timestamp it read (never past now less the lag)', async () => {
    now = T0 + 600_000;
    // Each page takes 4 s of the store's clock: the third would end past the 10 s budget.
    logs.on(FilterLogEventsCommand).callsFake((input: { nextToken?: string }) => {
      now += 4_000;
      const n = Number(input.nextToken ?? 0);
      return { events: [appEvent(100 + n, `p${n}`)], nextToken: String(n + 1) };
    });
    const page = await store({ budgetMs: 10_000 }).read(env, { after: new Date(T0).toISOString() });
    expect(logs.commandCalls(FilterLogEventsCommand)).toHaveLength(3);
    expect(page.lines.map((l) => l.message)).toEqual(['p0', 'p1', 'p2']);
    expect(page).toEqual({ lines: page.lines, next: new Date(T0 + 102_000).toISOString(), more: true });
  });
});
