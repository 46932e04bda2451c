// CloudWatch Logs as the journeys need it: log groups (with retention and tags) and streams that
// accept events. Ingestion lag and FilterLogEvents throttling are logs.ts's to model.
import { ResourceAlreadyExistsException, ResourceNotFoundException } from '@aws-sdk/client-cloudwatch-logs';
import type { AwsTwin } from './twin.ts';

export interface LogsSinkState {
  groups: Map<string, { retentionInDays?: number; tags: Record<string, string>; streams: Map<string, { timestamp: number; message: string }[]> }>;
}

export function install(twin: AwsTwin): LogsSinkState {
  const state: LogsSinkState = { groups: new Map() };
  const group = (name: string) => {
    const g = state.groups.get(name);
    if (!g) throw new ResourceNotFoundException({ message: 'The specified log group does not exist.', $metadata: {} });
    return g;
  };
  // https://docs.aws.amazon.com/AmazonCloudWatchLogs/latest/APIReference/API_CreateLogGroup.html
  twin.handler('cloudwatch-logs', 'CreateLogGroup', (input) => {
    if (state.groups.has(input.logGroupName)) throw new ResourceAlreadyExistsException({ message: 'The specified log group already exists', $metadata: {} });
    state.groups.set(input.logGroupName, { tags: input.tags ?? {}, streams: new Map() });
    return {};
  });
  twin.handler('cloudwatch-logs', 'PutRetentionPolicy', (input) => {
    group(input.logGroupName).retentionInDays = input.retentionInDays;
    return {};
  });
  twin.handler('cloudwatch-logs', 'CreateLogStream', (input) => {
    const g = group(input.logGroupName);
    if (g.streams.has(input.logStreamName)) throw new ResourceAlreadyExistsException({ message: 'The specified log stream already exists', $metadata: {} });
    g.streams.set(input.logStreamName, []);
    return {};
  });
  // https://docs.aws.amazon.com/AmazonCloudWatchLogs/latest/APIReference/API_PutLogEvents.html
  twin.handler('cloudwatch-logs', 'PutLogEvents', (input) => {
    const stream = group(input.logGroupName).streams.get(input.logStreamName);
    if (!stream) throw new ResourceNotFoundException({ message: 'The specified log stream does not exist.', $metadata: {} });
    stream.push(...input.logEvents);
    return {};
  });
  return state;
}
