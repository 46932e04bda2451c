// StateStore over the DynamoDB document client: DynamoDB on AWS, dynalite embedded.
// DynamoDB errors are translated here, at the boundary; anything unexpected is re-thrown.
import { createHash } from 'node:crypto';
import { ConditionalCheckFailedException, type DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, GetCommand, PutCommand, QueryCommand, UpdateCommand, DeleteCommand, type QueryCommandInput } from '@aws-sdk/lib-dynamodb';
import { ConflictError, NotFoundError } from '../core/errors.ts';
import { releaseSeq } from '../core/ids.ts';
import type { App, BerthEvent, ConfigVersion, Env, Operation, Org, Project, Release, ReleaseStatus, SecretBundleVersion, TokenRecord, Member, Invite, DeviceGrant, WebSession } from '../core/model.ts';
import { DynamoDeviceGrants } from './dynamo-device.ts';
import { DynamoIdempotency } from './dynamo-idempotency.ts';
import type { EnvRef } from '../core/ports.ts';
import type { AppRef, AuditListQuery, EnvPatch, StateStore, TaskTokenWaiter } from '../core/state-store.ts';

import { keys, seq } from './table.ts';
import { appendAudit, listAudit } from './dynamo-audit.ts';
import type { AuditRecord } from '../contract/audit.ts';

type Item = Record<string, unknown>;

export class DynamoStateStore implements StateStore {
  private readonly doc: DynamoDBDocumentClient;
  private readonly devices: DynamoDeviceGrants;
  private readonly idempotency: DynamoIdempotency;

  constructor(
    client: DynamoDBClient,
    private readonly tableName: string,
  ) {
    this.doc = DynamoDBDocumentClient.from(client, { marshallOptions: { removeUndefinedValues: true } });
    this.devices = new DynamoDeviceGrants(this.doc, tableName);
    this.idempotency = new DynamoIdempotency(this.doc, tableName);
  }

  createOrg(org: Org) {
    return this.create(keys.orgs(), `ORG#${org.name}`, org, `org "${org.name}" already exists`);
  }
  getOrg(name: string) {
    return this.get<Org>(keys.orgs(), `ORG#${name}`);
  }
  listOrgs() {
    return this.query<Org>({ pk: keys.orgs(), prefix: 'ORG#' });
  }

  createProject(p: Project) {
    return this.create(keys.org(p.org), `PROJECT#${p.name}`, p, `project "${p.name}" already exists in org "${p.org}"`);
  }
  getProject(org: string, name: string) {
    return this.get<Project>(keys.org(org), `PROJECT#${name}`);
  }
  listProjects(org: string) {
    return this.query<Project>({ pk: keys.org(org), prefix: 'PROJECT#' });
  }

  createApp(a: App) {
    return this.create(keys.project(a.org, a.project), `APP#${a.name}`, a, `app "${a.name}" already exists in ${a.org}/${a.project}`);
  }
  getApp(r: AppRef) {
    return this.get<App>(keys.project(r.org, r.project), `APP#${r.app}`);
  }
  listApps(org: string, project: string) {
    return this.query<App>({ pk: keys.project(org, project), prefix: 'APP#' });
  }

  async createEnv(e: Env) {
    await this.create(keys.app(e.org, e.project, e.app), `ENV#${e.env}`, e, `env "${e.env}" already exists in ${e.org}/${e.project}/${e.app}`);
    const ref: EnvRef = { org: e.org, project: e.project, app: e.app, env: e.env };
    await this.doc.send(new PutCommand({ TableName: this.tableName, Item: { pk: keys.allEnvs(), sk: keys.env(ref), ref } }));
  }
  async deleteEnv(ref: EnvRef) {
    await this.doc.send(new DeleteCommand({ TableName: this.tableName, Key: { pk: keys.app(ref.org, ref.project, ref.app), sk: `ENV#${ref.env}` } }));
    await this.doc.send(new DeleteCommand({ TableName: this.tableName, Key: { pk: keys.allEnvs(), sk: keys.env(ref) } }));
  }
  async listAllEnvs() {
    return (await this.query<{ ref: EnvRef }>({ pk: keys.allEnvs() })).map((i) => i.ref);
  }
  getEnv(r: EnvRef) {
    return this.get<Env>(keys.app(r.org, r.project, r.app), `ENV#${r.env}`);
  }
  listEnvs(r: AppRef) {
    return this.query<Env>({ pk: keys.app(r.org, r.project, r.app), prefix: 'ENV#' });
  }

  async updateEnv(r: EnvRef, expectedVersion: number, patch: EnvPatch): Promise<Env> {
    const sets = ['#version = :next', 'updatedAt = :now'];
    const removes: string[] = [];
    const names: Record<string, string> = { '#version': 'version' };
    const values: Record<string, unknown> = { ':expected': expectedVersion, ':next': expectedVersion + 1, ':now': new Date().toISOString() };
    for (const [field, value] of Object.entries(patch)) {
      names[`#${field}`] = field;
      if (value === undefined) removes.push(`#${field}`);
      else {
        sets.push(`#${field} = :${field}`);
        values[`:${field}`] = value;
      }
    }
    try {
      const out = await this.doc.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: { pk: keys.app(r.org, r.project, r.app), sk: `ENV#${r.env}` },
          UpdateExpression: `SET ${sets.join(', ')}${removes.length ? ` REMOVE ${removes.join(', ')}` : ''}`,
          ConditionExpression: 'attribute_exists(pk) AND #version = :expected',
          ExpressionAttributeNames: names,
          ExpressionAttributeValues: values,
          ReturnValues: 'ALL_NEW',
        }),
      );
      return strip<Env>(out.Attributes!);
    } catch (err) {
      if (err instanceof ConditionalCheckFailedException) {
        throw new ConflictError('env-changed', `env ${r.org}/${r.project}/${r.app}/${r.env} changed since version ${expectedVersion} was read; another change landed first`, {
          details: { expectedVersion },
          next: ['retry the command'],
        });
      }
      throw err;
    }
  }

  putRelease(rel: Release) {
    return this.create(keys.env(rel.env), `RELEASE#${seq(rel.seq)}`, rel, `release ${rel.id} already exists`, 'release-exists');
  }
  getRelease(r: EnvRef, id: string) {
    const n = releaseSeq(id);
    return n === undefined ? Promise.resolve(undefined) : this.get<Release>(keys.env(r), `RELEASE#${seq(n)}`);
  }
  async latestRelease(r: EnvRef) {
    return (await this.listReleases(r, 1))[0];
  }
  listReleases(r: EnvRef, limit: number) {
    return this.query<Release>({ pk: keys.env(r), prefix: 'RELEASE#', newestFirst: true, limit });
  }
  async setReleaseStatus(r: EnvRef, id: string, status: ReleaseStatus) {
    const n = releaseSeq(id);
    if (n === undefined) throw new NotFoundError('release-not-found', `${id} is not a release id`);
    await this.update(keys.env(r), `RELEASE#${seq(n)}`, { status }, `release ${id}`);
  }

  async putOperation(op: Operation) {
    await this.create(keys.env(op.env), `OP#${op.id}`, op, `operation ${op.id} already exists`);
    if (op.status === 'running') await this.doc.send(new PutCommand({ TableName: this.tableName, Item: { pk: keys.running(), sk: op.id, env: op.env } }));
  }
  getOperation(r: EnvRef, id: string) {
    return this.get<Operation>(keys.env(r), `OP#${id}`);
  }
  async updateOperation(r: EnvRef, id: string, patch: Partial<Pick<Operation, 'status' | 'step' | 'error' | 'finishedAt' | 'cancelRequested'>>) {
    const op = await this.update<Operation>(keys.env(r), `OP#${id}`, patch, `operation ${id}`);
    if (op.status !== 'running') await this.doc.send(new DeleteCommand({ TableName: this.tableName, Key: { pk: keys.running(), sk: id } }));
    return op;
  }
  async listRunningOperations() {
    const pointers = await this.query<{ sk: string; env: EnvRef }>({ pk: keys.running(), keepKeys: true });
    const ops = await Promise.all(pointers.map((p) => this.getOperation(p.env, p.sk)));
    return ops.filter((op): op is Operation => op?.status === 'running');
  }

  async appendEvent(r: EnvRef, event: BerthEvent) {
    await this.create(keys.env(r), `EVENT#${event.id}`, event, `event ${event.id} already exists`);
  }
  async listEvents(r: EnvRef, q: { after?: string; operationId?: string; limit?: number }) {
    const newest = q.limit !== undefined && !q.after;
    const events = await this.query<BerthEvent>({
      pk: keys.env(r),
      prefix: 'EVENT#',
      after: q.after ? `EVENT#${q.after}` : undefined,
      limit: q.limit,
      newestFirst: newest,
      filter: q.operationId ? { field: 'operationId', value: q.operationId } : undefined,
    });
    return newest ? events.reverse() : events;
  }

  putConfigVersion(r: EnvRef, c: ConfigVersion) {
    return this.create(keys.env(r), `CONFIG#${seq(c.version)}`, c, `config version ${c.version} already exists`, 'config-version-exists');
  }
  async latestConfig(r: EnvRef) {
    return (await this.query<ConfigVersion>({ pk: keys.env(r), prefix: 'CONFIG#', newestFirst: true, limit: 1 }))[0];
  }
  getConfigVersion(r: EnvRef, version: number) {
    return this.get<ConfigVersion>(keys.env(r), `CONFIG#${seq(version)}`);
  }

  putSecretVersion(r: EnvRef, v: SecretBundleVersion) {
    return this.create(keys.env(r), `SECRET#${v.bundle}#${seq(v.version)}`, v, `secret bundle ${v.bundle} version ${v.version} already exists`, 'secret-version-exists');
  }
  async latestSecretVersions(r: EnvRef) {
    // Versions sort within a bundle, so the last one seen per bundle is its latest.
    const all = await this.query<SecretBundleVersion>({ pk: keys.env(r), prefix: 'SECRET#' });
    const latest: Record<string, SecretBundleVersion> = {};
    for (const v of all) latest[v.bundle] = v;
    return latest;
  }
  getSecretVersion(r: EnvRef, bundle: string, version: number) {
    return this.get<SecretBundleVersion>(keys.env(r), `SECRET#${bundle}#${seq(version)}`);
  }

  async putArtifactRef(org: string, digest: string, by: string) {
    await this.doc.send(new PutCommand({ TableName: this.tableName, Item: { pk: keys.org(org), sk: `ARTIFACT#${digest}`, digest, by, at: new Date().toISOString() } }));
  }
  async hasArtifactRef(org: string, digest: string) {
    return (await this.get(keys.org(org), `ARTIFACT#${digest}`)) !== undefined;
  }

  claimIdempotencyKey(scope: string, key: string, claim: { requestHash: string; now: number; inProgressMs: number }) {
    return this.idempotency.claim(scope, key, claim);
  }
  completeIdempotencyKey(scope: string, key: string, claimId: string, outcome: { response: { status: number; body: string }; redactedDigests?: Record<string, string> }) {
    return this.idempotency.complete(scope, key, claimId, outcome);
  }
  releaseIdempotencyKey(scope: string, key: string, claimId: string) {
    return this.idempotency.release(scope, key, claimId);
  }

  async putTaskToken(waiter: TaskTokenWaiter) {
    await this.doc.send(new PutCommand({ TableName: this.tableName, Item: { pk: keys.taskTokens(), sk: createHash('sha256').update(waiter.token).digest('hex'), ...waiter } }));
  }
  listTaskTokens() {
    return this.query<TaskTokenWaiter>({ pk: keys.taskTokens() });
  }
  async deleteTaskToken(token: string) {
    await this.doc.send(new DeleteCommand({ TableName: this.tableName, Key: { pk: keys.taskTokens(), sk: createHash('sha256').update(token).digest('hex') } }));
  }

  async putToken(t: TokenRecord) {
    // The org's reference first: a crash in between leaves a listed token that cannot authenticate
    // (harmless, revocable), never a working token that `tokens list` does not show.
    if (t.org) await this.put(keys.org(t.org), `TOKENREF#${t.id}`, t);
    await this.create(keys.token(t.hash), 'TOKEN', t, 'token already exists');
  }
  getTokenByHash(hash: string) {
    return this.get<TokenRecord>(keys.token(hash), 'TOKEN');
  }
  listTokens(org: string) {
    return this.query<TokenRecord>({ pk: keys.org(org), prefix: 'TOKENREF#' });
  }
  async revokeToken(t: TokenRecord, at: string) {
    const revoke = (pk: string, sk: string) =>
      this.doc.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: { pk, sk },
          UpdateExpression: 'SET revokedAt = if_not_exists(revokedAt, :at)',
          ConditionExpression: 'attribute_exists(pk)',
          ExpressionAttributeValues: { ':at': at },
        }),
      ).catch((err: unknown) => {
        if (!(err instanceof ConditionalCheckFailedException)) throw err;
      });
    // The token item decides authentication, so it goes first.
    await revoke(keys.token(t.hash), 'TOKEN');
    if (t.org) await revoke(keys.org(t.org), `TOKENREF#${t.id}`);
  }

  async createMember(m: Member) {
    await this.create(keys.org(m.org), `MEMBER#${m.email}`, m, `${m.email} is already a member of ${m.org}`, 'member-exists');
    await this.put(keys.user(m.email), keys.org(m.org), m);
  }
  getMember(org: string, email: string) {
    return this.get<Member>(keys.org(org), `MEMBER#${email}`);
  }
  listMembers(org: string) {
    return this.query<Member>({ pk: keys.org(org), prefix: 'MEMBER#' });
  }
  listMemberships(email: string) {
    return this.query<Member>({ pk: keys.user(email), prefix: 'ORG#' });
  }
  async putInvite(invite: Invite) {
    await this.create(keys.invite(invite.hash), 'INVITE', invite, 'invite already exists');
  }
  getInvite(hash: string) {
    return this.get<Invite>(keys.invite(hash), 'INVITE');
  }
  async useInvite(hash: string, at: string) {
    try {
      await this.doc.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: { pk: keys.invite(hash), sk: 'INVITE' },
          UpdateExpression: 'SET usedAt = :at',
          ConditionExpression: 'attribute_exists(pk) AND attribute_not_exists(usedAt)',
          ExpressionAttributeValues: { ':at': at },
        }),
      );
      return true;
    } catch (err) {
      if (err instanceof ConditionalCheckFailedException) return false;
      throw err;
    }
  }
  async updateMember(org: string, email: string, patch: Partial<Pick<Member, 'role' | 'status' | 'inviteHash'>>) {
    const updated = await this.update<Member>(keys.org(org), `MEMBER#${email}`, patch, `member ${email} of ${org}`);
    await this.put(keys.user(email), keys.org(org), updated);
    return updated;
  }
  async deleteMember(org: string, email: string) {
    await this.doc.send(new DeleteCommand({ TableName: this.tableName, Key: { pk: keys.org(org), sk: `MEMBER#${email}` } }));
    await this.doc.send(new DeleteCommand({ TableName: this.tableName, Key: { pk: keys.user(email), sk: keys.org(org) } }));
  }

  // Append-only (see dynamo-audit.ts): no update or delete of audit items exists anywhere.
  appendAudit(record: AuditRecord) {
    return appendAudit(this.doc, this.tableName, record);
  }
  listAudit(org: string, query: AuditListQuery) {
    return listAudit(this.doc, this.tableName, org, query);
  }

  // Device authorization and approval-page sessions (dynamo-device.ts).
  createDeviceGrant(grant: DeviceGrant) {
    return this.devices.create(grant);
  }
  getDeviceGrant(hash: string) {
    return this.devices.get(hash);
  }
  getDeviceGrantByUserCode(code: string) {
    return this.devices.getByUserCode(code);
  }
  recordDevicePoll(hash: string, previous: number | undefined, at: number, intervalSeconds: number) {
    return this.devices.recordPoll(hash, previous, at, intervalSeconds);
  }
  decideDeviceGrant(hash: string, decision: Pick<DeviceGrant, 'status' | 'decidedAt' | 'decidedBy' | 'principal' | 'org' | 'role'>) {
    return this.devices.decide(hash, decision);
  }
  exchangeDeviceGrant(hash: string) {
    return this.devices.exchange(hash);
  }
  putWebSession(session: WebSession) {
    return this.devices.putSession(session);
  }
  getWebSession(hash: string) {
    return this.devices.getSession(hash);
  }
  deleteWebSession(hash: string) {
    return this.devices.deleteSession(hash);
  }

  private async put(pk: string, sk: string, item: object): Promise<void> {
    await this.doc.send(new PutCommand({ TableName: this.tableName, Item: { ...item, pk, sk } }));
  }

  private async create(pk: string, sk: string, item: object, message: string, code = 'already-exists'): Promise<void> {
    try {
      await this.doc.send(
        new PutCommand({ TableName: this.tableName, Item: { ...item, pk, sk }, ConditionExpression: 'attribute_not_exists(pk)' }),
      );
    } catch (err) {
      if (err instanceof ConditionalCheckFailedException) throw new ConflictError(code, message);
      throw err;
    }
  }

  private async get<T>(pk: string, sk: string): Promise<T | undefined> {
    const out = await this.doc.send(new GetCommand({ TableName: this.tableName, Key: { pk, sk }, ConsistentRead: true }));
    return out.Item ? strip<T>(out.Item) : undefined;
  }

  private async update<T>(pk: string, sk: string, patch: Record<string, unknown>, what: string): Promise<T> {
    const entries = Object.entries(patch).filter(([, v]) => v !== undefined);
    try {
      const out = await this.doc.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: { pk, sk },
          UpdateExpression: `SET ${entries.map(([k]) => `#${k} = :${k}`).join(', ')}`,
          ConditionExpression: 'attribute_exists(pk)',
          ExpressionAttributeNames: Object.fromEntries(entries.map(([k]) => [`#${k}`, k])),
          ExpressionAttributeValues: Object.fromEntries(entries.map(([k, v]) => [`:${k}`, v])),
          ReturnValues: 'ALL_NEW',
        }),
      );
      return strip<T>(out.Attributes!);
    } catch (err) {
      if (err instanceof ConditionalCheckFailedException) throw new NotFoundError('not-found', `${what} does not exist`);
      throw err;
    }
  }

  private async query<T>(q: {
    pk: string;
    prefix?: string;
    after?: string;
    newestFirst?: boolean;
    limit?: number;
    filter?: { field: string; value: string };
    keepKeys?: boolean;
  }): Promise<T[]> {
    const items: Item[] = [];
    let startKey: Record<string, unknown> | undefined;
    const values: Record<string, unknown> = { ':pk': q.pk };
    let condition = 'pk = :pk';
    if (q.after) {
      // Strictly after `after`, and still inside the prefix: the prefix's upper bound is prefix + U+FFFF.
      condition += ' AND sk BETWEEN :after AND :end';
      values[':after'] = `${q.after}\u0000`;
      values[':end'] = `${q.prefix ?? ''}\uffff`;
    } else if (q.prefix) {
      condition += ' AND begins_with(sk, :prefix)';
      values[':prefix'] = q.prefix;
    }
    const input: QueryCommandInput = {
      TableName: this.tableName,
      KeyConditionExpression: condition,
      ExpressionAttributeValues: values,
      ScanIndexForward: !q.newestFirst,
      ConsistentRead: true,
    };
    if (q.filter) {
      input.FilterExpression = '#f = :f';
      input.ExpressionAttributeNames = { '#f': q.filter.field };
      values[':f'] = q.filter.value;
    }
    do {
      const out = await this.doc.send(new QueryCommand({ ...input, ExclusiveStartKey: startKey, Limit: q.filter ? undefined : q.limit }));
      items.push(...(out.Items ?? []));
      startKey = out.LastEvaluatedKey;
    } while (startKey && (q.limit === undefined || items.length < q.limit));
    const limited = q.limit === undefined ? items : items.slice(0, q.limit);
    return limited.map((i) => (q.keepKeys ? (i as T) : strip<T>(i)));
  }
}

function strip<T>(item: Item): T {
  const { pk: _pk, sk: _sk, ...rest } = item;
  return rest as T;
}
