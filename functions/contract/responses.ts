// Shapes the API answers with, shared by the server (which builds them) and every client (which
// reads them): the CLI, the console and MCP never re-declare them. Each is a zod schema (the route
// table documents and checks responses with it) and a `z.infer` type of the same name.
// `.meta({ id })` makes each a named component of the OpenAPI document.
import { z } from 'zod';
import { ScaleSettings } from './api.ts';
import { Endpoint, Volume } from './manifest.ts';
import { ExecChannel, InstanceState } from './wire.ts';

const named = <T extends z.ZodType>(id: string, schema: T): T => schema.meta({ id });

export const ChangeSet = named('ChangeSet', z.object({ added: z.array(z.string()), changed: z.array(z.object({ name: z.string(), fields: z.array(z.string()) })), removed: z.array(z.string()) }));
export type ChangeSet = z.infer<typeof ChangeSet>;

export const ReleaseDiff = named(
  'ReleaseDiff',
  z.object({
    workloads: ChangeSet,
    endpoints: ChangeSet,
    volumes: ChangeSet,
    config: z.object({ from: z.number(), to: z.number(), keys: z.array(z.string()) }),
    secrets: z.array(z.object({ bundle: z.string(), from: z.number().nullable(), to: z.number().nullable() })),
    artifact: z.object({ from: z.string().nullable(), to: z.string() }),
  }),
);
export type ReleaseDiff = z.infer<typeof ReleaseDiff>;

export const DeployReceipt = named(
  'DeployReceipt',
  z.object({
    accepted: z.boolean(),
    dryRun: z.boolean(),
    env: z.string(),
    operationId: z.string().nullable().describe('null for a dry run'),
    releaseId: z.string(),
    previousReleaseId: z.string().nullable(),
    artifactDigest: z.string(),
    configVersion: z.number(),
    secretVersions: z.record(z.string(), z.number()),
    diff: ReleaseDiff,
    notes: z.array(z.string()).optional().describe('What the rollout means beyond the diff: downtime for a single-writer volume, concurrent writers on a shared one.'),
    next: z.array(z.string()),
  }),
);
export type DeployReceipt = z.infer<typeof DeployReceipt>;

export const SecretBundleSummary = named(
  'SecretBundleSummary',
  z.object({ bundle: z.string(), version: z.number(), keys: z.array(z.string()), digest: z.string(), updatedAt: z.string(), updatedBy: z.string() }),
);
export type SecretBundleSummary = z.infer<typeof SecretBundleSummary>;

export const InstanceSummary = named(
  'InstanceSummary',
  z.object({
    id: z.string(),
    state: InstanceState,
    releaseId: z.string(),
    restarts: z.number(),
    startedAt: z.string(),
    lastExit: z.object({ code: z.number().nullable(), signal: z.string().nullable(), at: z.string() }).optional(),
  }),
);
export type InstanceSummary = z.infer<typeof InstanceSummary>;

export const WorkloadStatus = named(
  'WorkloadStatus',
  z.object({
    name: z.string(),
    desired: z
      .object({ count: z.number(), min: z.number().optional(), max: z.number().optional(), cpu: z.number(), memory: z.number(), releaseId: z.string() })
      .describe("The release's manifest overlaid by the env's scale (`berth scale`); min/max only when set."),
    current: z
      .object({ running: z.number(), healthy: z.number(), upToDate: z.number(), releases: z.array(z.string()) })
      .describe('`upToDate`: instances already running the desired release, cpu and memory (its revision).'),
    instances: z.array(InstanceSummary),
  }),
);
export type WorkloadStatus = z.infer<typeof WorkloadStatus>;

export const Listener = named('Listener', z.object({ family: z.enum(['IPv6', 'IPv4']), address: z.string(), port: z.number() }));

export const EndpointStatus = named(
  'EndpointStatus',
  z.object({ name: z.string(), workload: z.string(), listeners: z.array(Listener), targets: z.array(z.string()), proxyProtocol: z.string().nullable() }),
);
export type EndpointStatus = z.infer<typeof EndpointStatus>;

/** What the compute gives each instance: its own view of files and processes, and limits. */
export const Isolation = named(
  'Isolation',
  z.object({
    kind: z.enum(['fargate', 'uid-and-namespaces', 'user-namespaces', 'none']).describe('`fargate` on AWS; embedded, what the machine allows (functions/drivers/local/sandbox).'),
    isolated: z.boolean().describe("Whether one org's code is kept from another's files, secrets and processes."),
    limitsEnforced: z.boolean().describe('Whether `cpu` and `memory` are enforced.'),
    summary: z.string(),
  }),
);
export type Isolation = z.infer<typeof Isolation>;

export const EnvStatus = named(
  'EnvStatus',
  z.object({
    env: z.string(),
    version: z.number(),
    desiredReleaseId: z.string().nullable(),
    currentReleaseId: z.string().nullable(),
    converged: z.boolean(),
    activeOperation: z.object({ id: z.string(), kind: z.string(), step: z.string().nullable() }).nullable(),
    lastOperation: z.object({ id: z.string(), status: z.string(), error: z.object({ category: z.string(), step: z.string(), message: z.string() }).nullable() }).nullable(),
    workloads: z.array(WorkloadStatus),
    endpoints: z.array(EndpointStatus),
    isolation: Isolation.optional().describe('How this platform runs instances; absent where the platform does not say.'),
    failing: z
      .object({ releaseId: z.string(), instances: z.array(z.string()), restarts: z.number(), message: z.string(), next: z.array(z.string()) })
      .nullable()
      .describe('The current release keeps crashing after going live (functions/core/crash-loop.ts); null otherwise.'),
  }),
);
export type EnvStatus = z.infer<typeof EnvStatus>;

export const EndpointView = named(
  'EndpointView',
  z.object({
    name: z.string(),
    source: z.enum(['manifest', 'api']),
    endpoint: Endpoint,
    listeners: z.array(Listener),
    targets: z.array(z.string()),
    notes: z.array(z.string()).describe("What every client prints under the endpoint: families, PROXY protocol, TLS, and the driver's own notes."),
  }),
);
export type EndpointView = z.infer<typeof EndpointView>;

export const EndpointReceipt = named(
  'EndpointReceipt',
  z.object({
    accepted: z.literal(true),
    env: z.string(),
    operationId: z.string(),
    name: z.string(),
    action: z.enum(['create', 'update', 'delete']),
    endpoint: Endpoint.nullable(),
    previous: Endpoint.nullable(),
    next: z.array(z.string()),
  }),
);
export type EndpointReceipt = z.infer<typeof EndpointReceipt>;

export const SnapshotRecord = named(
  'SnapshotRecord',
  z.object({
    id: z.string(),
    at: z.string(),
    sizeBytes: z.number(),
    consistency: z
      .enum(['crash-consistent', 'stopped'])
      .optional()
      .describe('`crash-consistent`: copied while writers ran. `stopped`: copied with every writer stopped (`volumes snapshot --stop`). Absent on older snapshots.'),
  }),
);
export type SnapshotRecord = z.infer<typeof SnapshotRecord>;

export const VolumeAction = z.enum(['create', 'resize', 'snapshot', 'restore', 'delete']);
export type VolumeAction = z.infer<typeof VolumeAction>;

export const VolumeView = named(
  'VolumeView',
  z.object({
    name: z.string(),
    sizeGiB: z.number(),
    zone: z.string().optional(),
    createdAt: z.string(),
    source: z.object({ volume: z.string(), snapshot: z.string() }).optional().describe('Created from a snapshot (`volumes create --from-snapshot`).'),
    snapshots: z.array(SnapshotRecord).optional(),
    attachedTo: z.array(z.object({ workload: z.string(), path: z.string() })),
    placement: z.string().describe('The placement constraint in plain words (One Zone pins the workloads that mount it).'),
    operations: z.array(z.string()).describe('The commands that change it: resize and snapshot are discoverable here.'),
  }),
);
export type VolumeView = z.infer<typeof VolumeView>;

export const VolumeReceipt = named(
  'VolumeReceipt',
  z.object({
    accepted: z.literal(true),
    env: z.string(),
    operationId: z.string(),
    name: z.string(),
    action: VolumeAction,
    volume: Volume.nullable(),
    notes: z.array(z.string()).optional().describe('Downtime the change means: a restore, or a snapshot with --stop, stops the volume\'s writers.'),
    snapshotId: z.string().nullable(),
    next: z.array(z.string()),
  }),
);
export type VolumeReceipt = z.infer<typeof VolumeReceipt>;

export const EnvDestroyReceipt = named(
  'EnvDestroyReceipt',
  z.object({
    accepted: z.literal(true),
    env: z.string(),
    operationId: z.string(),
    volumes: z.object({ names: z.array(z.string()), purged: z.boolean() }).describe('The env\'s volumes, and whether they go with it (`purge-volumes=true`) or are kept.'),
    next: z.array(z.string()),
  }),
);
export type EnvDestroyReceipt = z.infer<typeof EnvDestroyReceipt>;

const ResolvedScale = ScaleSettings.extend({ count: z.number(), cpu: z.number(), memory: z.number() });
export const ScaleReceipt = named(
  'ScaleReceipt',
  z.object({
    accepted: z.literal(true),
    env: z.string(),
    operationId: z.string(),
    workload: z.string(),
    previous: ResolvedScale,
    desired: ResolvedScale,
    notes: z.array(z.string()).optional().describe('Downtime the change means (replacing an instance on a single-writer volume).'),
    next: z.array(z.string()),
  }),
);
export type ScaleReceipt = z.infer<typeof ScaleReceipt>;

/** `POST …/exec-sessions`: the instance it is in and how to join the session. */
export const ExecSessionReceipt = named('ExecSessionReceipt', z.object({ instance: z.string(), workload: z.string(), release: z.string(), channel: ExecChannel }));
export type ExecSessionReceipt = z.infer<typeof ExecSessionReceipt>;

export const BerthEvent = named(
  'BerthEvent',
  z.object({
    id: z.string(),
    at: z.string(),
    type: z.string(),
    message: z.string(),
    operationId: z.string().optional(),
    step: z.string().optional(),
    workload: z.string().optional(),
    instance: z.string().optional(),
    data: z.record(z.string(), z.unknown()).optional(),
  }),
);
export type BerthEvent = z.infer<typeof BerthEvent>;

export const RoleName = z.enum(['viewer', 'deployer', 'admin', 'owner']);

/** A member of an org as the API shows it. */
export const MemberView = named(
  'MemberView',
  z.object({ org: z.string(), email: z.string(), role: RoleName, status: z.enum(['invited', 'active']), invitedBy: z.string(), createdAt: z.string() }),
);
export type MemberView = z.infer<typeof MemberView>;

/** A token as the API lists it: never the token, never its hash. */
export const TokenView = named(
  'TokenView',
  z.object({
    id: z.string(),
    name: z.string(),
    kind: z.enum(['bootstrap', 'session', 'ci']),
    principal: z.string(),
    org: z.string().optional(),
    role: RoleName.optional(),
    createdAt: z.string(),
    createdBy: z.string(),
    expiresAt: z.string().optional(),
    revokedAt: z.string().optional(),
  }),
);
export type TokenView = z.infer<typeof TokenView>;
