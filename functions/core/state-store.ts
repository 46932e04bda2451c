// The StateStore port: desired state and the append-only records around it. One adapter
// (`functions/store/dynamo-state-store.ts`) serves both DynamoDB on AWS and dynalite embedded.
// Every write is a single-item conditional write: dynalite has no transactions, and they are
// not needed when the env item's `version` serialises changes and everything else is append-only.
import type { App, BerthEvent, ConfigVersion, Env, Operation, Org, Project, Release, ReleaseStatus, SecretBundleVersion, TokenRecord, Member, Invite, DeviceGrant, WebSession } from './model.ts';
import type { EnvRef } from './ports.ts';
import type { AuditRecord } from '../contract/audit.ts';

export interface IdempotencyRecord {
  requestHash: string;
  state: 'in-progress' | 'done';
  /** Which claim holds the key; only that claim may complete or release it (it may have been taken over). */
  claimId?: string;
  /**
   * Epoch milliseconds after which an in-progress claim is presumed dead (its process was killed
   * mid-request) and the next request with the key takes it over. Absent on records written before
   * claims expired: those count as expired.
   */
  inProgressExpiresAt?: number;
  /** The final answer, with any value shown once left out (see `redactedDigests`). */
  response?: { status: number; body: string };
  /** Field path → `sha256:<hex>` of each value that was shown once and is not stored. */
  redactedDigests?: Record<string, string>;
  createdAt: string;
  /** Epoch seconds; the DynamoDB TTL attribute on AWS. */
  expiresAt: number;
}

/** What claiming a key gave: the key to run the request under, or the record that holds it. */
export type IdempotencyClaim = { claimed: true; claimId: string } | { claimed: false; existing: IdempotencyRecord };

export interface TaskTokenWaiter {
  token: string;
  env: EnvRef;
  operationId: string;
  instances: string[];
  /** Set when the Task waits for an AWS Backup restore job rather than for healthy instances. */
  restoreJobId?: string;
  createdAt: string;
}

export interface AppRef {
  org: string;
  project: string;
  app: string;
}

/** Audit query: newest first; `after` is the last id of the previous page (exclusive). */
export interface AuditListQuery {
  since?: string;
  until?: string;
  /** Exact principal. */
  actor?: string;
  /** Substring of the action. */
  action?: string;
  limit: number;
  after?: string;
}

export type EnvPatch = Partial<Pick<Env, 'desiredReleaseId' | 'currentReleaseId' | 'activeOperationId' | 'lastOperationId' | 'scale' | 'endpoints' | 'volumes' | 'status'>>;

export interface StateStore {
  /** Creates; a duplicate name throws ConflictError (code `already-exists`). */
  createOrg(org: Org): Promise<void>;
  getOrg(name: string): Promise<Org | undefined>;
  listOrgs(): Promise<Org[]>;

  createProject(project: Project): Promise<void>;
  getProject(org: string, name: string): Promise<Project | undefined>;
  listProjects(org: string): Promise<Project[]>;

  createApp(app: App): Promise<void>;
  getApp(ref: AppRef): Promise<App | undefined>;
  listApps(org: string, project: string): Promise<App[]>;

  createEnv(env: Env): Promise<void>;
  getEnv(ref: EnvRef): Promise<Env | undefined>;
  listEnvs(ref: AppRef): Promise<Env[]>;
  /** Removes an env that never became ready (a failed create); its operation history stays. */
  deleteEnv(ref: EnvRef): Promise<void>;
  /** Every env of the platform (the reconcile loop; not a request path). */
  listAllEnvs(): Promise<EnvRef[]>;
  /**
   * Applies `patch` (undefined values remove the attribute) when the env is still at
   * `expectedVersion`; returns the new env. A concurrent change throws ConflictError
   * (code `env-changed`).
   */
  updateEnv(ref: EnvRef, expectedVersion: number, patch: EnvPatch): Promise<Env>;

  /** Appends a release; a taken number throws ConflictError (code `release-exists`). */
  putRelease(release: Release): Promise<void>;
  getRelease(ref: EnvRef, id: string): Promise<Release | undefined>;
  latestRelease(ref: EnvRef): Promise<Release | undefined>;
  /** Newest first. */
  listReleases(ref: EnvRef, limit: number): Promise<Release[]>;
  setReleaseStatus(ref: EnvRef, id: string, status: ReleaseStatus): Promise<void>;

  putOperation(op: Operation): Promise<void>;
  getOperation(ref: EnvRef, id: string): Promise<Operation | undefined>;
  updateOperation(ref: EnvRef, id: string, patch: Partial<Pick<Operation, 'status' | 'step' | 'error' | 'finishedAt' | 'cancelRequested'>>): Promise<Operation>;
  /** Operations whose status is `running`, across every env (startup recovery; not a request path). */
  listRunningOperations(): Promise<Operation[]>;

  appendEvent(ref: EnvRef, event: BerthEvent): Promise<void>;
  /**
   * Oldest first; `after` is an event id (exclusive). With `limit` and no `after`, the newest
   * `limit` events (still oldest first): what a person asking for "the last 20 events" means.
   */
  listEvents(ref: EnvRef, query: { after?: string; operationId?: string; limit?: number }): Promise<BerthEvent[]>;

  /** Appends a config version; a taken number throws ConflictError (code `config-version-exists`). */
  putConfigVersion(ref: EnvRef, config: ConfigVersion): Promise<void>;
  latestConfig(ref: EnvRef): Promise<ConfigVersion | undefined>;
  getConfigVersion(ref: EnvRef, version: number): Promise<ConfigVersion | undefined>;

  /** Appends a secret-bundle version; a taken number throws ConflictError. */
  putSecretVersion(ref: EnvRef, version: SecretBundleVersion): Promise<void>;
  /** Latest version of every bundle of the env. */
  latestSecretVersions(ref: EnvRef): Promise<Record<string, SecretBundleVersion>>;
  getSecretVersion(ref: EnvRef, bundle: string, version: number): Promise<SecretBundleVersion | undefined>;

  /** Records that `org` uploaded the artifact, so no other org can deploy it by digest. */
  putArtifactRef(org: string, digest: string, by: string): Promise<void>;
  hasArtifactRef(org: string, digest: string): Promise<boolean>;

  /**
   * Idempotency keys (Powertools' idempotency utility): `claimIdempotencyKey` writes an in-progress
   * record, conditionally, when there is none, the one there has expired, or it is an in-progress
   * claim past `inProgressExpiresAt`; exactly one of concurrent claimers wins, the others get the
   * record. `completeIdempotencyKey` stores the final answer and `releaseIdempotencyKey` deletes the
   * claim, both only while `claimId` still holds it (false / no-op once it was taken over).
   */
  claimIdempotencyKey(scope: string, key: string, claim: { requestHash: string; now: number; inProgressMs: number }): Promise<IdempotencyClaim>;
  completeIdempotencyKey(scope: string, key: string, claimId: string, outcome: { response: { status: number; body: string }; redactedDigests?: Record<string, string> }): Promise<boolean>;
  releaseIdempotencyKey(scope: string, key: string, claimId: string): Promise<void>;

  /**
   * Step Functions task tokens waiting for an ECS event (AWS: WaitForBatchHealthy is a
   * .waitForTaskToken Task; the ECS-event Lambda completes it). Few at a time: one per running rollout.
   */
  putTaskToken(waiter: TaskTokenWaiter): Promise<void>;
  listTaskTokens(): Promise<TaskTokenWaiter[]>;
  deleteTaskToken(token: string): Promise<void>;

  /** Tokens: by hash for auth; per org for `tokens list` (the bootstrap token is in no org). */
  putToken(token: TokenRecord): Promise<void>;
  getTokenByHash(hash: string): Promise<TokenRecord | undefined>;
  listTokens(org: string): Promise<TokenRecord[]>;
  /** Marks the token revoked (idempotent; the first revocation time stays). */
  revokeToken(token: TokenRecord, at: string): Promise<void>;

  /** Members: by org, and the orgs of one email. `createMember` fails with conflict if present. */
  createMember(member: Member): Promise<void>;
  getMember(org: string, email: string): Promise<Member | undefined>;
  listMembers(org: string): Promise<Member[]>;
  listMemberships(email: string): Promise<Member[]>;
  updateMember(org: string, email: string, patch: Partial<Pick<Member, 'role' | 'status' | 'inviteHash'>>): Promise<Member>;
  putInvite(invite: Invite): Promise<void>;
  getInvite(hash: string): Promise<Invite | undefined>;
  /** Marks the invite used; false when it already was (two redemptions race, one wins). */
  useInvite(hash: string, at: string): Promise<boolean>;
  deleteMember(org: string, email: string): Promise<void>;

  /**
   * The org's audit log, append-only: a duplicate id throws ConflictError, and there is
   * deliberately no method that changes or removes a record.
   */
  appendAudit(record: AuditRecord): Promise<void>;
  /** Newest first; `next` is the `after` of the following page, when there is one. */
  listAudit(org: string, query: AuditListQuery): Promise<{ records: AuditRecord[]; next?: string }>;

  /**
   * Device authorization (RFC 8628). `createDeviceGrant` claims the user code first and throws
   * ConflictError (code `user-code-taken`) while a live grant holds it; the caller draws another.
   */
  createDeviceGrant(grant: DeviceGrant): Promise<void>;
  getDeviceGrant(deviceCodeHash: string): Promise<DeviceGrant | undefined>;
  getDeviceGrantByUserCode(userCode: string): Promise<DeviceGrant | undefined>;
  /** Records a poll unless another poll was recorded since `previous` was read; false then. */
  recordDevicePoll(deviceCodeHash: string, previous: number | undefined, at: number, intervalSeconds: number): Promise<boolean>;
  /** Approves or denies a pending grant; false when it was not pending any more. */
  decideDeviceGrant(deviceCodeHash: string, decision: Pick<DeviceGrant, 'status' | 'decidedAt' | 'decidedBy' | 'principal' | 'org' | 'role'>): Promise<boolean>;
  /** Moves an approved grant to `exchanged`; false when it was not approved (or already exchanged). */
  exchangeDeviceGrant(deviceCodeHash: string): Promise<boolean>;

  /** Sessions of the approval page (hash only). */
  putWebSession(session: WebSession): Promise<void>;
  getWebSession(hash: string): Promise<WebSession | undefined>;
  deleteWebSession(hash: string): Promise<void>;
}
