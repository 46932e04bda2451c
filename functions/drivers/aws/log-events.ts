// CloudWatch log events as Berth log lines. Container output arrives through the awslogs driver in
// streams `<workload>/<container>/<task id>` (the task definition's stream prefix is the
// workload); the platform's own lines are JSON in one `system` stream per env's log group.
import type { FilteredLogEvent } from '@aws-sdk/client-cloudwatch-logs';
import type { LogLevel, LogLine, LogQuery } from '../../core/ports.ts';
// The same severity rules as embedded mode, so `--level warn` means the same on both.
import { levelOf } from '../local/log-line.ts';
import { APP_CONTAINER } from './ecs-task-definition.ts';

export const SYSTEM_STREAM = 'system';

const LEVEL_RANK: Record<LogLevel, number> = { debug: 0, info: 1, warn: 2, error: 3 };

export function toLogLine(event: FilteredLogEvent): LogLine | undefined {
  const stream = event.logStreamName ?? '';
  const message = (event.message ?? '').replace(/\r?\n$/, '');
  const ts = new Date(event.timestamp ?? 0).toISOString();
  if (stream === SYSTEM_STREAM) return parseSystemLine(message, ts);
  const [workload, container, instance] = stream.split('/');
  if (!workload || !container || !instance) return undefined;
  if (container === APP_CONTAINER) return { ts, source: 'app', workload, instance, level: levelOf(message, 'stdout'), message };
  // The init and probe sidecars are the platform's doing, not the app's.
  return { ts, source: 'system', workload, instance, level: levelOf(message, 'stdout'), message: `[${container}] ${message}` };
}

function parseSystemLine(message: string, ts: string): LogLine | undefined {
  try {
    const line = JSON.parse(message) as Partial<LogLine>;
    if (typeof line.message !== 'string') return undefined;
    return {
      ts: typeof line.ts === 'string' ? line.ts : ts,
      source: 'system',
      workload: line.workload ?? '-',
      instance: line.instance ?? '-',
      level: line.level && line.level in LEVEL_RANK ? line.level : 'info',
      message: line.message,
    };
  } catch {
    // Something other than Berth wrote to the stream: show it rather than lose it.
    return { ts, source: 'system', workload: '-', instance: '-', level: 'info', message };
  }
}

export function matches(line: LogLine, query: LogQuery): boolean {
  if (query.workload !== undefined && line.workload !== query.workload) return false;
  if (query.instance !== undefined && line.instance !== query.instance) return false;
  if (query.source !== undefined && line.source !== query.source) return false;
  if (query.level !== undefined && LEVEL_RANK[line.level] < LEVEL_RANK[query.level]) return false;
  return true;
}

/** One FilterLogEvents selection of streams: a name prefix, exact names, or the whole group. */
export type StreamSelector = { logStreamNamePrefix: string } | { logStreamNames: string[] } | Record<string, never>;

/**
 * The FilterLogEvents calls a query needs. A stream filter is one of prefix or names, never both,
 * so a workload's app lines (by prefix) and its system lines (the `system` stream) are two calls.
 */
export function streamSelectors(query: LogQuery): StreamSelector[] {
  const { workload, instance, source } = query;
  if (workload === undefined) return source === 'system' ? [{ logStreamNames: [SYSTEM_STREAM] }] : [{}];
  const selectors: StreamSelector[] = [];
  if (source !== 'system') selectors.push({ logStreamNamePrefix: instance ? `${workload}/${APP_CONTAINER}/${instance}` : `${workload}/${APP_CONTAINER}/` });
  if (source !== 'app') selectors.push({ logStreamNames: [SYSTEM_STREAM] });
  return selectors;
}
