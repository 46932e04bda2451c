// Reads of an env: status, releases, operations, events and logs (pages, or NDJSON streams).
import { z } from 'zod';
import { EnvParams, EventsQuery, LogsQuery, OperationId, ReleaseId, ReleasesQuery } from '../api.ts';
import { Operation, Release } from '../records.ts';
import { BerthEvent, EnvStatus } from '../responses.ts';
import { defineRoute } from '../route-def.ts';
import { LogLine } from '../wire.ts';

const ENV = '/orgs/{org}/projects/{project}/apps/{app}/envs/{env}';

export const getStatus = defineRoute({
  operationId: 'getStatus', method: 'get', path: `${ENV}/status`, tag: 'status', permission: 'read', summary: 'Desired and current state of an env',
  params: EnvParams,
  responses: { 200: { description: 'Desired and current, per workload and endpoint', schema: z.object({ status: EnvStatus }) } },
});
export const listReleases = defineRoute({
  operationId: 'listReleases', method: 'get', path: `${ENV}/releases`, tag: 'releases', permission: 'read', summary: 'Releases, newest first',
  params: EnvParams, query: ReleasesQuery,
  responses: { 200: { description: 'Releases and which one is current and desired', schema: z.object({ currentReleaseId: z.string().nullable(), desiredReleaseId: z.string().nullable(), releases: z.array(Release) }) } },
});
export const getRelease = defineRoute({
  operationId: 'getRelease', method: 'get', path: `${ENV}/releases/{release}`, tag: 'releases', permission: 'read', summary: 'One release',
  params: EnvParams.extend({ release: ReleaseId }),
  responses: { 200: { description: 'The release', schema: z.object({ release: Release }) } },
});
export const getOperation = defineRoute({
  operationId: 'getOperation', method: 'get', path: `${ENV}/operations/{operation}`, tag: 'operations', permission: 'read', summary: 'One operation: status, step, error',
  params: EnvParams.extend({ operation: OperationId }),
  responses: { 200: { description: 'The operation', schema: z.object({ operation: Operation }) } },
});
export const listEvents = defineRoute({
  operationId: 'listEvents', method: 'get', path: `${ENV}/events`, tag: 'events', permission: 'read', summary: 'Events, oldest first; follow=true streams NDJSON',
  description: 'Behind API Gateway (health says streaming: false) follow=true is refused: poll with `after` instead.',
  params: EnvParams, query: EventsQuery,
  responses: {
    200: {
      description: 'A page of events, or with follow=true one event per line until the client goes away',
      schema: z.object({ events: z.array(BerthEvent) }),
      stream: { mediaType: 'application/x-ndjson', item: BerthEvent, description: 'follow=true: one BerthEvent per line' },
    },
  },
});
export const listLogs = defineRoute({
  operationId: 'listLogs', method: 'get', path: `${ENV}/logs`, tag: 'logs', permission: 'read', summary: 'Log lines (app and system); follow=true streams NDJSON',
  description: 'Behind API Gateway (health says streaming: false) follow=true is refused: poll with `since` instead.',
  params: EnvParams, query: LogsQuery,
  responses: {
    200: {
      description: 'Lines, oldest first, or with follow=true the recent history then live lines',
      schema: z.object({ lines: z.array(LogLine) }),
      stream: { mediaType: 'application/x-ndjson', item: LogLine, description: 'follow=true: one LogLine per line' },
    },
  },
});

export const OBSERVE_ROUTES = [getStatus, listReleases, getRelease, getOperation, listEvents, listLogs] as const;
