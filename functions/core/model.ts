// The platform's records. Desired state lives on the env item (guarded by `version`); everything
// else is append-only (releases, operations, events, config and secret-bundle versions).
import type { ScaleSettings } from '../contract/api.ts';
import type { Endpoint, Manifest, Volume } from '../contract/manifest.ts';
import type { ErrorCategory } from './errors.ts';
import type { SnapshotRecord, VolumeAction } from '../contract/responses.ts';
import type { EnvRef } from './ports.ts';

export interface Org {
  name: string;
  createdAt: string;
  createdBy: string;
}

export interface Project {
  org: string;
  name: string;
  createdAt: string;
  createdBy: string;
}

export interface App {
  org: string;
  project: string;
  name: string;
  createdAt: string;
  createdBy: string;
}

export interface Env extends EnvRef {
  /** Optimistic-concurrency guard: every change to this item is conditional on it. */
  version: number;
  /** The release the env should run (set when a deploy is accepted). */
  desiredReleaseId?: string;
  /** The release the env converged to last. */
  currentReleaseId?: string;
  /** The operation that holds the env (one at a time). */
  activeOperationId?: string;
  /** The latest operation started on the env, finished or not. */
  lastOperationId?: string;
  /** Scale settings per workload; they apply to every release until changed. */
  scale?: Record<string, ScaleSettings>;
  /** Endpoints created through the API; they apply to every release (the manifest's win on a name clash). */
  endpoints?: Record<string, Endpoint>;
  /** Volumes of the env (created by `volumes create` or by a release that declares them). */
  volumes?: Record<string, VolumeRecord>;
  /** `destroyed` envs keep their history but run nothing and accept no operation. */
  status?: 'ready' | 'destroying' | 'destroyed';
  createdAt: string;
  updatedAt: string;
  createdBy: string;
}

export interface VolumeRecord extends Volume {
  createdAt: string;
  /** Created from a snapshot: which one, of which volume. */
  source?: { volume: string; snapshot: string };
  snapshots?: SnapshotRecord[];
}

export type ReleaseStatus = 'pending' | 'active' | 'failed' | 'superseded';

export interface Release {
  id: string;
  seq: number;
  env: EnvRef;
  /** `sha256:<hex>` of the snapshot (embedded) or image digest (AWS). */
  artifactDigest: string;
  manifest: Manifest;
  configVersion: number;
  /** Bundle name → version pinned by this release. */
  secretVersions: Record<string, number>;
  createdAt: string;
  createdBy: string;
  operationId: string;
  /** Outcome of rolling it out; the content above never changes. */
  status: ReleaseStatus;
}

export type OperationKind = 'deploy' | 'rollback' | 'scale' | 'reconcile' | 'endpoint' | 'volume' | 'env-create' | 'env-destroy';
/** `cancelled`: ended through its compensation after `operations cancel` or a user command superseded it. */
export type OperationStatus = 'running' | 'succeeded' | 'failed' | 'cancelled';

export interface OperationError {
  category: ErrorCategory;
  code: string;
  message: string;
  step: string;
  next: string[];
  /** What failed, as data, so no client reads it out of the message or the next commands. */
  details?: OperationFailureDetails;
}

/** The failing step's error details (instance, workload, exit code, stderr…), with the release rolled out. */
export interface OperationFailureDetails {
  instance?: string;
  workload?: string;
  releaseId?: string;
  exitCode?: number | null;
  signal?: string | null;
  [key: string]: unknown;
}

export interface Operation {
  id: string;
  env: EnvRef;
  kind: OperationKind;
  status: OperationStatus;
  /** The release the env converges to. */
  releaseId: string;
  previousReleaseId?: string;
  /** Scale settings before the operation (what compensation restores). */
  previousScale?: Record<string, ScaleSettings>;
  /** What a scale operation asked for. */
  scaleChange?: { workload: string; settings: ScaleSettings };
  /** What an endpoint operation asked for, and what was there before. */
  endpointChange?: { name: string; action: 'create' | 'update' | 'delete'; endpoint?: Endpoint; previous?: Endpoint };
  /** What a volume operation asked for, and what was there before. */
  volumeChange?: { name: string; action: VolumeAction; volume?: Volume; previous?: VolumeRecord; snapshotId?: string; /** create: the volume whose snapshot `snapshotId` seeds it. */ fromVolume?: string; /** snapshot: stop the writers for a consistent copy. */ stopWriters?: boolean };
  /** What an env destroy was asked to remove beyond what it always removes. */
  destroy?: { purgeVolumes: boolean };
  /** Asked to stop: the execution ends through its compensation at its next step (or wait). */
  cancelRequested?: { at: string; by: string; reason: string };
  /** The state the execution is in (or failed in). */
  step?: string;
  error?: OperationError;
  createdAt: string;
  createdBy: string;
  finishedAt?: string;
}

/** What happened to an env; the API returns these as they are stored. */
export type { BerthEvent } from '../contract/responses.ts';
/** A volume's snapshots and the changes to it: declared with the answers that show them. */
export type { SnapshotRecord, VolumeAction };

export interface ConfigVersion {
  version: number;
  values: Record<string, string>;
  set: string[];
  unset: string[];
  createdAt: string;
  createdBy: string;
}

export interface SecretBundleVersion {
  bundle: string;
  version: number;
  keys: string[];
  /** Keyed digest of the values (HMAC), so a change is visible without revealing anything. */
  digest: string;
  /** Encrypted JSON of the key/value map; never leaves the server. */
  ciphertext: string;
  createdAt: string;
  createdBy: string;
}

/** Roles in an org, weakest first (see core/roles.ts for what each may do). */
export type Role = 'viewer' | 'deployer' | 'admin' | 'owner';

/** A person in an org. Identified by email; invited first, active once they sign in. */
export interface Member {
  org: string;
  email: string;
  role: Role;
  status: 'invited' | 'active';
  invitedBy: string;
  createdAt: string;
  /** sha256 of the current invite code while invited; a newer invite replaces it. */
  inviteHash?: string;
}

/** A one-time invite code (hash only), good for a week. */
export interface Invite {
  hash: string;
  org: string;
  email: string;
  expiresAt: string;
  usedAt?: string;
}

/**
 * An API token. Only the sha256 of the token is stored. A token acts for one org with a role, until
 * it expires or is revoked; the bootstrap token of an embedded platform (the installer's) is the
 * one exception: no org, it may create orgs and is a member of those it created.
 */
export interface TokenRecord {
  id: string;
  /** sha256 of the token; the token itself is never stored. */
  hash: string;
  /** A label: "laptop", "github-actions". */
  name: string;
  /** bootstrap: the installer's; session: from `berth login`; ci: from `berth tokens create`. */
  kind: 'bootstrap' | 'session' | 'ci';
  /** Who acts: the member's email, or the installer for the bootstrap token. */
  principal: string;
  org?: string;
  role?: Role;
  createdAt: string;
  createdBy: string;
  expiresAt?: string;
  revokedAt?: string;
}

/**
 * A device authorization request of `berth login` (RFC 8628). The device code is a bearer secret
 * of the CLI, so only its sha256 is stored; the user code is short, shown to a person, and good
 * for ten minutes only. Decided once (approved or denied), exchanged for a token at most once.
 */
export interface DeviceGrant {
  /** sha256 of the device code. */
  deviceCodeHash: string;
  /** 8 characters of USER_CODE_ALPHABET, stored without the dash. */
  userCode: string;
  clientId: string;
  requestedAt: string;
  /** The address the request came from, shown on the approval page. */
  requestedFrom?: string;
  /** Epoch seconds: the table's TTL attribute, and checked on every read (TTL deletes late). */
  expiresAt: number;
  /** Seconds the client must wait between polls; slow_down raises it. */
  intervalSeconds: number;
  /** Epoch milliseconds of the last poll. */
  lastPolledAt?: number;
  status: 'pending' | 'approved' | 'denied' | 'exchanged';
  decidedAt?: string;
  /** Who approved or denied it. */
  decidedBy?: string;
  /** What an approval grants: a session token for this principal, org and role. */
  principal?: string;
  org?: string;
  role?: Role;
}

/**
 * A browser session of the approval page: an opaque cookie value, stored hashed like API tokens.
 * It can only approve device requests, for the orgs its sign-in proved membership of.
 */
export interface WebSession {
  /** sha256 of the cookie value. */
  hash: string;
  /** The member's email, or the installer for the bootstrap token. */
  principal: string;
  /** How they signed in: an invite code, or an API token (the bootstrap or a login token). */
  via: 'invite' | 'bootstrap' | 'session';
  /** The orgs it may approve for; absent for the bootstrap token (every org the installer is in). */
  orgs?: string[];
  /** A token sign-in never yields more than that token had. */
  maxRole?: Role;
  /** sha256 of the token it signed in with: revoking that token ends the session too. */
  viaTokenHash?: string;
  createdAt: string;
  /** Epoch seconds: the table's TTL attribute, and checked on every read. */
  expiresAt: number;
}
