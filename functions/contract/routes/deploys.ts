// Routes that change what runs: the snapshot upload, deploys, rollbacks, scale, cancelling.
import { z } from 'zod';
import { DeployBody, Digest, EnvParams, OperationId, OrgParams, RollbackBody, ScaleBody } from '../api.ts';
import { Operation } from '../records.ts';
import { DeployReceipt, ScaleReceipt } from '../responses.ts';
import { defineRoute } from '../route-def.ts';

const ENV = '/orgs/{org}/projects/{project}/apps/{app}/envs/{env}';
const ArtifactParams = OrgParams.extend({ digest: Digest });
const DIGEST = `sha256:${'0'.repeat(64)}`;

export const getArtifact = defineRoute({
  operationId: 'getArtifact', method: 'get', path: '/orgs/{org}/artifacts/{digest}', tag: 'artifacts', permission: 'read',
  summary: 'Whether the org already has a snapshot with this digest (upload only what is missing)',
  params: ArtifactParams,
  responses: { 200: { description: 'Present or not', schema: z.object({ digest: z.string(), present: z.boolean() }), example: { digest: DIGEST, present: false } } },
});
export const uploadArtifact = defineRoute({
  operationId: 'uploadArtifact', method: 'put', path: '/orgs/{org}/artifacts/{digest}', tag: 'artifacts', permission: 'deploy',
  summary: 'Upload a release snapshot (a tar.gz whose sha256 is the digest); immutable once stored',
  params: ArtifactParams, body: z.string().meta({ format: 'binary' }), bodyMediaType: 'application/octet-stream',
  responses: { 201: { description: 'Stored', schema: z.object({ digest: z.string(), size: z.number() }), example: { digest: DIGEST, size: 2048 } } },
});

export const createDeploy = defineRoute({
  operationId: 'createDeploy', method: 'post', path: `${ENV}/deploys`, tag: 'deploys', permission: 'deploy',
  summary: 'Deploy: create a release and start rolling it out',
  description: 'Refused with config-missing (422) when a workload needs env keys or secret bundles the env lacks.',
  params: EnvParams, body: DeployBody, errors: [409, 422],
  requestExample: { manifest: 'app: web\nworkloads:\n  web:\n    command: node server.js\n', artifactDigest: DIGEST },
  responses: {
    202: { description: 'The receipt: release id, operation id, diff summary and follow-ups. The rollout continues in the background.', schema: z.object({ receipt: DeployReceipt }) },
    200: { description: 'A dry run: the receipt of what a deploy would do; nothing was created', schema: z.object({ receipt: DeployReceipt }) },
  },
});
export const createRollback = defineRoute({
  operationId: 'createRollback', method: 'post', path: `${ENV}/rollbacks`, tag: 'deploys', permission: 'deploy',
  summary: 'Roll back: point the env at an earlier release (its code, config and secret versions); nothing is rebuilt',
  params: EnvParams, body: RollbackBody, requestExample: { releaseId: 'rel-3' }, errors: [409, 422],
  responses: { 202: { description: 'The receipt of the rollback', schema: z.object({ receipt: DeployReceipt }) } },
});
export const scaleWorkload = defineRoute({
  operationId: 'scaleWorkload', method: 'post', path: `${ENV}/scale`, tag: 'scale', permission: 'deploy',
  summary: 'Scale a workload: count (min/max), cpu, memory; kept across releases',
  params: EnvParams, body: ScaleBody, requestExample: { workload: 'web', settings: { count: 3 } }, errors: [409],
  responses: { 202: { description: 'The receipt with the previous and the new desired scale', schema: z.object({ receipt: ScaleReceipt }) } },
});
export const cancelOperation = defineRoute({
  operationId: 'cancelOperation', method: 'post', path: `${ENV}/operations/{operation}/cancel`, tag: 'operations', permission: 'deploy',
  summary: 'Cancel a running operation: it ends through its compensation (what it changed is put back) as `cancelled`',
  params: EnvParams.extend({ operation: OperationId }), errors: [409],
  responses: { 202: { description: 'The operation with `cancelRequested`; follow it with GET …/operations/{operation} until it is no longer running.', schema: z.object({ operation: Operation }) } },
});

export const DEPLOY_ROUTES = [getArtifact, uploadArtifact, createDeploy, createRollback, scaleWorkload, cancelOperation] as const;
