// The platform's records as the API serves them (orgs … envs, releases, operations, config
// versions): zod for the document and the response checks, `z.infer` types for clients. The core's
// own interfaces (core/model.ts) are the stored form; these are what leaves the server.
import { z } from 'zod';
import { ScaleSettings } from './api.ts';
import { ERROR_CATEGORIES } from './errors.ts';
import { Endpoint, Manifest, Volume } from './manifest.ts';
import { SnapshotRecord } from './responses.ts';
import { EnvRef } from './wire.ts';

const named = <T extends z.ZodType>(id: string, schema: T): T => schema.meta({ id });
const Created = { createdAt: z.string(), createdBy: z.string() };

export const Org = named('Org', z.object({ name: z.string(), ...Created }));
export type Org = z.infer<typeof Org>;
export const Project = named('Project', z.object({ org: z.string(), name: z.string(), ...Created }));
export type Project = z.infer<typeof Project>;
export const App = named('App', z.object({ org: z.string(), project: z.string(), name: z.string(), ...Created }));
export type App = z.infer<typeof App>;

export const VolumeRecord = named(
  'VolumeRecord',
  Volume.extend({ createdAt: z.string(), source: z.object({ volume: z.string(), snapshot: z.string() }).optional(), snapshots: z.array(SnapshotRecord).optional() }),
);

export const Env = named(
  'Env',
  EnvRef.extend({
    version: z.number().describe('Optimistic-concurrency guard: every change to the env is conditional on it'),
    desiredReleaseId: z.string().optional(),
    currentReleaseId: z.string().optional(),
    activeOperationId: z.string().optional(),
    lastOperationId: z.string().optional(),
    scale: z.record(z.string(), ScaleSettings).optional(),
    endpoints: z.record(z.string(), Endpoint).optional(),
    volumes: z.record(z.string(), VolumeRecord).optional(),
    status: z.enum(['ready', 'destroying', 'destroyed']).optional(),
    createdAt: z.string(),
    updatedAt: z.string(),
    createdBy: z.string(),
  }),
);
export type Env = z.infer<typeof Env>;

export const Release = named(
  'Release',
  z.object({
    id: z.string(),
    seq: z.number(),
    env: EnvRef,
    artifactDigest: z.string(),
    manifest: Manifest,
    configVersion: z.number(),
    secretVersions: z.record(z.string(), z.number()),
    ...Created,
    operationId: z.string(),
    status: z.enum(['pending', 'active', 'failed', 'superseded']),
  }),
);
export type Release = z.infer<typeof Release>;

export const OperationError = named(
  'OperationError',
  z.object({ category: z.enum(ERROR_CATEGORIES), code: z.string(), message: z.string(), step: z.string(), next: z.array(z.string()) }),
);

// What an operation asked for is kept as the server stored it (its own internal detail): open objects.
const Detail = z.record(z.string(), z.unknown());
export const Operation = named(
  'Operation',
  z.object({
    id: z.string(),
    env: EnvRef,
    kind: z.enum(['deploy', 'rollback', 'scale', 'reconcile', 'endpoint', 'volume', 'env-create', 'env-destroy']),
    status: z.enum(['running', 'succeeded', 'failed', 'cancelled']),
    releaseId: z.string(),
    previousReleaseId: z.string().optional(),
    previousScale: z.record(z.string(), ScaleSettings).optional(),
    scaleChange: Detail.optional(),
    endpointChange: Detail.optional(),
    volumeChange: Detail.optional(),
    destroy: z.object({ purgeVolumes: z.boolean() }).optional(),
    cancelRequested: z.object({ at: z.string(), by: z.string(), reason: z.string() }).optional(),
    step: z.string().optional(),
    error: OperationError.optional(),
    ...Created,
    finishedAt: z.string().optional(),
  }),
);
export type Operation = z.infer<typeof Operation>;

export const ConfigVersion = named(
  'ConfigVersion',
  z.object({ version: z.number(), values: z.record(z.string(), z.string()), set: z.array(z.string()), unset: z.array(z.string()), ...Created }),
);
export type ConfigVersion = z.infer<typeof ConfigVersion>;
