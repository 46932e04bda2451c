// Shapes the API answers with, shared by the server (which builds them) and every client (which
// reads them): the CLI, the console and MCP never re-declare them.

export interface ChangeSet {
  added: string[];
  changed: { name: string; fields: string[] }[];
  removed: string[];
}

export interface ReleaseDiff {
  workloads: ChangeSet;
  endpoints: ChangeSet;
  volumes: ChangeSet;
  config: { from: number; to: number; keys: string[] };
  secrets: { bundle: string; from: number | null; to: number | null }[];
  artifact: { from: string | null; to: string };
}

export interface DeployReceipt {
  accepted: boolean;
  dryRun: boolean;
  env: string;
  operationId: string | null;
  releaseId: string;
  previousReleaseId: string | null;
  artifactDigest: string;
  configVersion: number;
  secretVersions: Record<string, number>;
  diff: ReleaseDiff;
  /** What the rollout means beyond the diff: downtime for a single-writer volume, concurrent writers on a shared one. */
  notes?: string[];
  next: string[];
}

export interface SecretBundleSummary {
  bundle: string;
  version: number;
  keys: string[];
  digest: string;
  updatedAt: string;
  updatedBy: string;
}

export interface InstanceSummary {
  id: string;
  state: 'starting' | 'healthy' | 'unhealthy' | 'crashed' | 'stopping' | 'stopped';
  releaseId: string;
  restarts: number;
  startedAt: string;
  lastExit?: { code: number | null; signal: string | null; at: string };
}

export interface WorkloadStatus {
  name: string;
  /** The release's manifest overlaid by the env's scale (`berth scale`); min/max only when set. */
  desired: { count: number; min?: number; max?: number; cpu: number; memory: number; releaseId: string };
  /** `upToDate`: instances already running the desired release, cpu and memory (its revision). */
  current: { running: number; healthy: number; upToDate: number; releases: string[] };
  instances: InstanceSummary[];
}

export interface EndpointStatus {
  name: string;
  workload: string;
  listeners: { family: 'IPv6' | 'IPv4'; address: string; port: number }[];
  targets: string[];
  proxyProtocol: string | null;
}

/** What the compute gives each instance: its own view of files and processes, and limits. */
export interface Isolation {
  /** `fargate` on AWS; embedded, what the machine allows (functions/drivers/local/sandbox). */
  kind: 'fargate' | 'uid-and-namespaces' | 'user-namespaces' | 'none';
  /** Whether one org's code is kept from another's files, secrets and processes. */
  isolated: boolean;
  /** Whether `cpu` and `memory` are enforced. */
  limitsEnforced: boolean;
  summary: string;
}

export interface EnvStatus {
  env: string;
  version: number;
  desiredReleaseId: string | null;
  currentReleaseId: string | null;
  converged: boolean;
  activeOperation: { id: string; kind: string; step: string | null } | null;
  lastOperation: { id: string; status: string; error: { category: string; step: string; message: string } | null } | null;
  workloads: WorkloadStatus[];
  endpoints: EndpointStatus[];
  /** How this platform runs instances; absent where the platform does not say. */
  isolation?: Isolation;
  /** The current release keeps crashing after going live (functions/core/crash-loop.ts); null otherwise. */
  failing: { releaseId: string; instances: string[]; restarts: number; message: string; next: string[] } | null;
}

export interface EndpointView {
  name: string;
  source: 'manifest' | 'api';
  endpoint: import('./manifest.ts').Endpoint;
  listeners: { family: 'IPv6' | 'IPv4'; address: string; port: number }[];
  targets: string[];
  /** What every client prints under the endpoint: families, PROXY protocol, TLS, and the driver's own notes. */
  notes: string[];
}

export interface EndpointReceipt {
  accepted: true;
  env: string;
  operationId: string;
  name: string;
  action: 'create' | 'update' | 'delete';
  endpoint: import('./manifest.ts').Endpoint | null;
  previous: import('./manifest.ts').Endpoint | null;
  next: string[];
}

export interface VolumeView {
  name: string;
  sizeGiB: number;
  zone?: string;
  createdAt: string;
  /** Created from a snapshot (`volumes create --from-snapshot`). */
  source?: { volume: string; snapshot: string };
  snapshots?: import('../core/model.ts').SnapshotRecord[];
  attachedTo: { workload: string; path: string }[];
  /** The placement constraint in plain words (One Zone pins the workloads that mount it). */
  placement: string;
  /** The commands that change it: resize and snapshot are discoverable here. */
  operations: string[];
}

export interface VolumeReceipt {
  accepted: true;
  env: string;
  operationId: string;
  name: string;
  action: import('../core/model.ts').VolumeAction;
  volume: import('./manifest.ts').Volume | null;
  /** Downtime the change means: a restore, or a snapshot with --stop, stops the volume's writers. */
  notes?: string[];
  snapshotId: string | null;
  next: string[];
}

export interface EnvDestroyReceipt {
  accepted: true;
  env: string;
  operationId: string;
  /** The env's volumes, and whether they go with it (`purge-volumes=true`) or are kept. */
  volumes: { names: string[]; purged: boolean };
  next: string[];
}

export interface ScaleReceipt {
  accepted: true;
  env: string;
  operationId: string;
  workload: string;
  previous: import('./api.ts').ScaleSettings & { count: number; cpu: number; memory: number };
  desired: import('./api.ts').ScaleSettings & { count: number; cpu: number; memory: number };
  /** Downtime the change means (replacing an instance on a single-writer volume). */
  notes?: string[];
  next: string[];
}

/** `POST …/exec-sessions`: the instance it is in and how to join the session. */
export interface ExecSessionReceipt {
  instance: string;
  workload: string;
  release: string;
  channel: import('../core/ports.ts').ExecChannel;
}

export interface BerthEvent {
  id: string;
  at: string;
  type: string;
  message: string;
  operationId?: string;
  step?: string;
  workload?: string;
  instance?: string;
  data?: Record<string, unknown>;
}

/** A member of an org as the API shows it. */
export interface MemberView {
  org: string;
  email: string;
  role: 'viewer' | 'deployer' | 'admin' | 'owner';
  status: 'invited' | 'active';
  invitedBy: string;
  createdAt: string;
}

/** A token as the API lists it: never the token, never its hash. */
export interface TokenView {
  id: string;
  name: string;
  kind: 'bootstrap' | 'session' | 'ci';
  principal: string;
  org?: string;
  role?: MemberView['role'];
  createdAt: string;
  createdBy: string;
  expiresAt?: string;
  revokedAt?: string;
}
