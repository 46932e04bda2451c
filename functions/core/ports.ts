// The ports between the platform's logic and the world. One interface per port; one folder per
// adapter (`drivers/local/` embedded, `drivers/aws/` on AWS). Business logic imports only these.
import type { Workload, Endpoint } from '../contract/manifest.ts';
import type { BerthError } from './errors.ts';

// The wire types (EnvRef, LogLine, …) are the contract's; the ports speak them as they are.
import type { EnvRef, ExecChannel, InstanceState, LogLevel, LogLine, LogSource } from '../contract/wire.ts';
export type { EnvRef, ExecChannel, InstanceState, LogLevel, LogLine, LogSource };

export interface LogQuery {
  workload?: string;
  instance?: string;
  /** Minimum level: `warn` returns warn and error. */
  level?: LogLevel;
  source?: LogSource;
  /** Inclusive bounds, ISO-8601. */
  since?: string;
  until?: string;
  /** Newest `limit` lines of the match, returned oldest first. */
  limit?: number;
}

/** One poll of a follower: lines, and where the next poll starts. */
export interface LogPage {
  lines: LogLine[];
  /**
   * The next poll's `after` (ISO-8601). Lines at or after it may come again (lines searchable late
   * are re-read): the follower remembers those it printed until `next` passes them.
   */
  next: string;
  /** The read stopped early (its line limit or its time budget): poll again soon for the rest. */
  more: boolean;
}

/** Appends and reads log lines of an env. Embedded: JSON lines on disk. AWS: CloudWatch Logs. */
export interface LogStore {
  append(env: EnvRef, line: LogLine): void;
  query(env: EnvRef, query: LogQuery): Promise<LogLine[]>;
  /**
   * A follower's poll (a stream is a cursor): the matching lines from `after` on, oldest first, at
   * most `limit` (default 1000), bounded in time so one request stays well inside API Gateway's.
   */
  read(env: EnvRef, query: LogQuery & { after: string }): Promise<LogPage>;
  /** Calls `onLine` for every line appended after the call that matches; returns an unsubscribe. */
  follow(env: EnvRef, query: LogQuery, onLine: (line: LogLine) => void): () => void;
}


export interface InstanceStatus {
  id: string;
  workload: string;
  releaseId: string;
  /** What the instance runs: release + restart-relevant settings (see core/desired.ts). */
  revision: string;
  state: InstanceState;
  startedAt: string;
  restarts: number;
  /** host:port the instance listens on per declared container port (embedded: 127.0.0.1:<free port>). */
  addresses: Record<number, { host: string; port: number }>;
  /** A crashed instance that the driver will restart (after its backoff). */
  restartScheduled?: boolean;
  /** Last exit, when the instance crashed at least once. */
  lastExit?: { code: number | null; signal: string | null; at: string };
}

/** Everything needed to start instances of one workload of one release. */
export interface InstanceSpec {
  env: EnvRef;
  releaseId: string;
  revision: string;
  workloadName: string;
  workload: Workload;
  /** Embedded: directory holding the unpacked release snapshot (the command's cwd). */
  workdir: string;
  /** Resolved config (manifest env overlaid by the env's config version). */
  environment: Record<string, string>;
  /** Secret bundles to deliver as files: bundle name → key/value map. */
  secretBundles: Record<string, Record<string, string>>;
  /** Volume name → directory (embedded) for the workload's mounts. */
  volumeDirs: Record<string, string>;
  /** The single-writer volume the workload mounts: never more than one instance of it runs. */
  singleWriter?: string;
}

/** Events the compute driver reports (crash, restart, health change); they become Berth events. */
export interface ComputeEvent {
  env: EnvRef;
  type: 'instance.started' | 'instance.healthy' | 'instance.unhealthy' | 'instance.crashed' | 'instance.restarting' | 'instance.stopped';
  workload: string;
  instance: string;
  releaseId: string;
  message: string;
}

/** Runs instances. Embedded: supervised child processes. AWS: ECS services on Fargate. */
export interface ComputeDriver {
  /** Starts `count` new instances; resolves with their ids once spawned (not yet healthy). */
  startInstances(spec: InstanceSpec, count: number): Promise<string[]>;
  /**
   * Resolves when every listed instance passed its health check; rejects with a BerthError
   * (`image-pull` when the command cannot start, `health-check` when it exits before it is
   * healthy or is not healthy by the workload's deadline, `capacity` when it ran out of memory).
   */
  waitHealthy(env: EnvRef, instanceIds: string[]): Promise<void>;
  /** Stops instances (SIGTERM, then SIGKILL after a grace period); resolves when they are gone. */
  stopInstances(env: EnvRef, instanceIds: string[]): Promise<void>;
  list(env: EnvRef): Promise<InstanceStatus[]>;
  onEvent(listener: (event: ComputeEvent) => void): () => void;
  /** Stops everything (platform shutdown). */
  shutdown(): Promise<void>;
  /**
   * Env destroy, once every instance stopped: deletes what the driver made for the env besides
   * instances (AWS: services left behind, the Secrets Manager copies of its secret bundles);
   * idempotent. What it keeps is on the documented retained list (README, "What env destroy removes").
   */
  destroyEnv(env: EnvRef): Promise<void>;
}

export interface EndpointTarget {
  instance: string;
  host: string;
  port: number;
}

export interface EndpointBinding {
  /** Addresses the endpoint accepts traffic on, e.g. `[::1]:8080`, `127.0.0.1:8080`. */
  listeners: { family: 'IPv6' | 'IPv4'; address: string; port: number }[];
  /** What this driver adds to the endpoint notes every client prints (e.g. the NLB's IPv4 addresses). */
  notes?: string[];
}

/** L4 ingress. Embedded: TCP listeners on [::1] (+127.0.0.1). AWS: dual-stack NLB listener. */
export interface EndpointDriver {
  /** Creates or updates the listener(s) for an endpoint; idempotent. */
  ensure(env: EnvRef, name: string, endpoint: Endpoint): Promise<EndpointBinding>;
  /** Replaces the set of healthy targets that receive new connections. */
  setTargets(env: EnvRef, name: string, targets: EndpointTarget[]): void | Promise<void>;
  remove(env: EnvRef, name: string): Promise<void>;
  /**
   * Env destroy: removes every endpoint and what they share (AWS: the NLB, its security group and
   * the task security group's rule admitting it); idempotent, also after a crash half-way.
   */
  destroyEnv(env: EnvRef): Promise<void>;
  list(env: EnvRef): Promise<{ name: string; endpoint: Endpoint; binding: EndpointBinding; targets: EndpointTarget[] }[]>;
  shutdown(): Promise<void>;
}

/** Immutable, content-addressed release artifacts. Embedded: gzipped tar snapshots on disk. */
export interface ArtifactStore {
  /** What a release runs: a snapshot of the app directory (embedded) or an OCI image (AWS). */
  readonly kind: 'snapshot' | 'image';
  /** Stores bytes whose sha256 must equal `digest` (`sha256:<hex>`); idempotent. */
  put(digest: string, bytes: Uint8Array): Promise<void>;
  has(digest: string): Promise<boolean>;
  /** Unpacks the artifact into a directory of its own (once) and returns that directory. */
  unpack(digest: string): Promise<string>;
}

export interface StoredArtifact {
  digest: string;
  /** Last upload, deploy check or unpack. */
  lastUsedAt: Date;
}

/**
 * An artifact store that can be garbage-collected (embedded: snapshots on disk). On AWS images
 * live in the customer's registry, whose lifecycle policies are theirs; nothing is collected.
 */
export interface ArtifactCollection {
  list(): Promise<StoredArtifact[]>;
  /** Removes the artifact and its unpacked tree unless it was used after `unusedSince`; true when removed. */
  remove(digest: string, unusedSince: Date): Promise<boolean>;
  /** Removes half-written uploads and unpacks (a killed platform's) older than `unusedSince`. */
  removeLeftovers(unusedSince: Date): Promise<string[]>;
}

/** Starts state-machine executions. Embedded: the local ASL interpreter. AWS: Step Functions. */
export interface Orchestrator {
  /**
   * Starts `machine` (a file in statemachines/) with an execution named `name` (the operation id)
   * and returns once it is started; the execution records its own outcome through its Tasks.
   */
  start(machine: StateMachineName, name: string, input: Record<string, unknown>): Promise<void>;
  /**
   * Ends the health waits the execution `name` is in (a `.waitForTaskToken` state) with `error`,
   * so a cancelled operation goes to its compensation now rather than at the wait's timeout.
   * Nothing happens when it is not waiting.
   */
  interruptWaits(name: string, error: BerthError): Promise<void>;
}

export type StateMachineName = 'deploy' | 'scale' | 'endpoint' | 'volume' | 'env';

/** Encrypts secret-bundle values at rest. Embedded: AES-256-GCM with a 0600 key file. AWS: KMS. */
export interface SecretCipher {
  encrypt(plaintext: string): Promise<string>;
  decrypt(ciphertext: string): Promise<string>;
  /** Keyed digest, so equal values show as equal without the digest revealing them. */
  digest(plaintext: string): Promise<string>;
}

/** Persistent storage. Embedded: a directory per volume. AWS: EFS file system + access point. */
export interface VolumeDriver {
  /**
   * Creates the volume if needed (idempotent) and returns where instances reach it. `user` is the
   * mounting workload's `user` (AWS: a numeric uid[:gid] becomes the access point's POSIX user).
   */
  ensure(env: EnvRef, name: string, volume: import('../contract/manifest.ts').Volume, options?: { user?: string }): Promise<{ dir: string }>;
  /** Whether the volume's storage exists. */
  exists(env: EnvRef, name: string): Promise<boolean>;
  /** Applies a new size (embedded: recorded only; a directory has no quota). */
  resize(env: EnvRef, name: string, volume: import('../contract/manifest.ts').Volume): Promise<void>;
  /** Takes a point-in-time copy; idempotent per snapshot id. */
  snapshot(env: EnvRef, name: string, snapshotId: string): Promise<{ sizeBytes: number }>;
  deleteSnapshot(env: EnvRef, name: string, snapshotId: string): Promise<void>;
  /**
   * Sets the volume aside under `token` so a delete can still be undone (restore) or made final
   * (purge). `scope` says what goes aside: the whole volume (a delete) or its data, which a
   * snapshot restore replaces (embedded both are the directory; AWS: the file system, or its
   * `data` directory). @default 'volume'
   */
  setAside(env: EnvRef, name: string, token: string, scope?: AsideScope): Promise<void>;
  restore(env: EnvRef, name: string, token: string, scope?: AsideScope): Promise<void>;
  purge(env: EnvRef, name: string, token: string): Promise<void>;
  /** False where `restoreSnapshot` cannot work, so a restore is refused before anything stops. */
  readonly restoresSnapshots?: boolean;
  /**
   * Where a restore takes minutes outside the platform (AWS Backup): `start` first, while the
   * writers still run; the state machine waits for the job (a task token), then the writers stop
   * and `setAside(…, 'data')` + `restoreSnapshot` swap the restored data in. Absent embedded,
   * where `restoreSnapshot` copies at once.
   */
  readonly stagedRestore?: StagedRestore;
  /**
   * Makes the snapshot (of volume `from`, by default this one) the volume's data; the volume has
   * been set aside first, or does not exist yet. Idempotent.
   */
  restoreSnapshot(env: EnvRef, name: string, snapshotId: string, from?: string): Promise<void>;
  /** Drops what was set aside under `token` (the data a restore replaced); snapshots stay. */
  discardAside(env: EnvRef, name: string, token: string): Promise<void>;
  /** Removes the volume's storage now (undoing a create; env destroy with `--purge-volumes`). */
  remove(env: EnvRef, name: string): Promise<void>;
  /**
   * Env destroy that keeps volumes: keeps the data, drops what ties the volume to the network
   * (AWS: its mount targets, network interfaces that keep the VPC from being deleted); idempotent.
   */
  detach(env: EnvRef, name: string): Promise<void>;
}

export type AsideScope = 'volume' | 'data';

export interface StagedRestore {
  /** Starts restoring snapshot `snapshotId` of `from` (default: this volume) next to its data, or into a new volume when it does not exist; idempotent per `token`. */
  start(env: EnvRef, name: string, snapshotId: string, token: string, from?: string): Promise<{ jobId: string }>;
  status(jobId: string): Promise<{ status: 'running' } | { status: 'completed' } | { status: 'failed'; message: string }>;
}

/** Opens command sessions in running instances. Embedded: tickets for the exec WebSocket. AWS: ECS Exec. */
export interface ExecGateway {
  open(env: EnvRef, instance: InstanceStatus, request: { argv: string[]; tty: boolean }): Promise<ExecChannel>;
}

/** The bill. AWS: Cost Explorer cost allocation tags. Embedded: there is no bill. */
export interface BillingTags {
  /** Activates berth:org, berth:project, berth:app, berth:env as cost allocation tags. */
  activate(): Promise<{ activated: string[]; notYetSeen: string[] }>;
}
