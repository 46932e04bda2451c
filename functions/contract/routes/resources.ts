// Endpoints, volumes and exec sessions of an env; each change is an operation (202).
import { z } from 'zod';
import { EnvParams, ExecBody, OrgEndpointsQuery, OrgParams, RestoreBody, SnapshotBody, VolumeCreateBody } from '../api.ts';
import { Endpoint, Name, Volume } from '../manifest.ts';
import { EndpointReceipt, EndpointView, ExecSessionReceipt, VolumeReceipt, VolumeView } from '../responses.ts';
import { defineRoute } from '../route-def.ts';

const ENV = '/orgs/{org}/projects/{project}/apps/{app}/envs/{env}';
const Named = EnvParams.extend({ name: Name });
const EndpointAnswer = z.object({ receipt: EndpointReceipt });
const VolumeAnswer = z.object({ receipt: VolumeReceipt });

export const listOrgEndpoints = defineRoute({
  operationId: 'listOrgEndpoints', method: 'get', path: '/orgs/{org}/endpoints', tag: 'endpoints', permission: 'read',
  summary: 'What is exposed to the internet: every endpoint of every env of the org, a page of apps at a time (`next` → `after`)',
  params: OrgParams, query: OrgEndpointsQuery,
  responses: { 200: { description: 'Endpoints with their env; `next` is null on the last page', schema: z.object({ endpoints: z.array(EndpointView.extend({ env: z.string() })), next: z.string().nullable() }) } },
});
export const listEndpoints = defineRoute({
  operationId: 'listEndpoints', method: 'get', path: `${ENV}/endpoints`, tag: 'endpoints', permission: 'read', summary: 'Endpoints of the env (manifest and API), with addresses and targets',
  params: EnvParams,
  responses: { 200: { description: 'Endpoints', schema: z.object({ endpoints: z.array(EndpointView) }) } },
});
export const getEndpoint = defineRoute({
  operationId: 'getEndpoint', method: 'get', path: `${ENV}/endpoints/{name}`, tag: 'endpoints', permission: 'read', summary: 'One endpoint',
  params: Named,
  responses: { 200: { description: 'The endpoint', schema: z.object({ endpoint: EndpointView }) } },
});
export const putEndpoint = defineRoute({
  operationId: 'putEndpoint', method: 'put', path: `${ENV}/endpoints/{name}`, tag: 'endpoints', permission: 'admin', summary: 'Create or update an endpoint outside the manifest',
  params: Named, body: Endpoint, requestExample: { workload: 'web', port: 443, targetPort: 8080 }, errors: [409],
  responses: { 202: { description: 'The receipt', schema: EndpointAnswer } },
});
export const deleteEndpoint = defineRoute({
  operationId: 'deleteEndpoint', method: 'delete', path: `${ENV}/endpoints/{name}`, tag: 'endpoints', permission: 'admin', summary: 'Delete an endpoint created through the API',
  params: Named, errors: [409],
  responses: { 202: { description: 'The receipt', schema: EndpointAnswer } },
});

export const listVolumes = defineRoute({
  operationId: 'listVolumes', method: 'get', path: `${ENV}/volumes`, tag: 'volumes', permission: 'read', summary: 'Volumes of the env, with placement and available operations',
  params: EnvParams,
  responses: { 200: { description: 'Volumes', schema: z.object({ volumes: z.array(VolumeView) }) } },
});
export const getVolume = defineRoute({
  operationId: 'getVolume', method: 'get', path: `${ENV}/volumes/{name}`, tag: 'volumes', permission: 'read', summary: 'One volume, its snapshots and what can be done with it',
  params: Named,
  responses: { 200: { description: 'The volume', schema: z.object({ volume: VolumeView }) } },
});
export const createVolume = defineRoute({
  operationId: 'createVolume', method: 'put', path: `${ENV}/volumes/{name}`, tag: 'volumes', permission: 'admin', summary: 'Create a volume',
  params: Named, body: VolumeCreateBody, requestExample: { sizeGiB: 10 }, errors: [409],
  responses: { 202: { description: 'The receipt', schema: VolumeAnswer } },
});
export const resizeVolume = defineRoute({
  operationId: 'resizeVolume', method: 'patch', path: `${ENV}/volumes/{name}`, tag: 'volumes', permission: 'admin', summary: 'Resize a volume (grow only)',
  params: Named, body: z.object({ sizeGiB: Volume.shape.sizeGiB }).strict(), requestExample: { sizeGiB: 20 }, errors: [409],
  responses: { 202: { description: 'The receipt', schema: VolumeAnswer } },
});
export const createVolumeSnapshot = defineRoute({
  operationId: 'createVolumeSnapshot', method: 'post', path: `${ENV}/volumes/{name}/snapshots`, tag: 'volumes', permission: 'admin',
  summary: 'Take a snapshot of a volume (stop: true stops its writers for a consistent copy)',
  params: Named, body: SnapshotBody, requestExample: { stop: false }, errors: [409],
  responses: { 202: { description: 'The receipt with the snapshot id', schema: VolumeAnswer } },
});
export const restoreVolume = defineRoute({
  operationId: 'restoreVolume', method: 'post', path: `${ENV}/volumes/{name}/restores`, tag: 'volumes', permission: 'admin',
  summary: 'Restore a volume from one of its snapshots: its writers stop, the data is replaced, they start again',
  params: Named, body: RestoreBody, requestExample: { snapshot: 'snap-01abcdefgh' }, errors: [409],
  responses: { 202: { description: 'The receipt', schema: VolumeAnswer } },
});
export const deleteVolume = defineRoute({
  operationId: 'deleteVolume', method: 'delete', path: `${ENV}/volumes/{name}`, tag: 'volumes', permission: 'admin', summary: 'Delete a volume and its snapshots (refused while a workload mounts it)',
  params: Named, errors: [409],
  responses: { 202: { description: 'The receipt', schema: VolumeAnswer } },
});

export const createExecSession = defineRoute({
  operationId: 'createExecSession', method: 'post', path: `${ENV}/exec-sessions`, tag: 'exec', permission: 'deploy',
  summary: 'Open a command session in a running instance; the answer says how to join it (WebSocket ticket embedded, Session Manager stream on AWS)',
  params: EnvParams, body: ExecBody, requestExample: { instance: 'i-3f2a01', argv: ['sh'], tty: true }, errors: [409],
  // The channel is the credential: a one-time WebSocket ticket, or the Session Manager token.
  shownOnce: ['session.channel'],
  responses: { 201: { description: 'Which instance, and how to join', schema: z.object({ session: ExecSessionReceipt }) } },
});

export const RESOURCE_ROUTES = [listOrgEndpoints, listEndpoints, getEndpoint, putEndpoint, deleteEndpoint, listVolumes, getVolume, createVolume, resizeVolume, createVolumeSnapshot, restoreVolume, deleteVolume, createExecSession] as const;
