// Device authorization grants and approval-page sessions in the single table:
//
//   DEVICE#<sha256(device code)>   DEVICE       the grant (status, decision, poll bookkeeping)
//   USERCODE#<user code>           USERCODE     pointer from the code a person types to the grant
//   WEBSESSION#<sha256(cookie)>    WEBSESSION   a signed-in browser on the approval page
//
// All three carry `expiresAt` in epoch seconds, the table's TTL attribute. TTL deletes up to days
// late, so every read checks the time too (the service does), and a user code whose grant expired
// may be claimed again. Each state change is one conditional UpdateItem: approving twice, or two
// pollers exchanging one approval, cannot both succeed.
import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { DeleteCommand, GetCommand, PutCommand, UpdateCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { ConflictError } from '../core/errors.ts';
import type { DeviceGrant, WebSession } from '../core/model.ts';

const deviceKey = (hash: string) => ({ pk: `DEVICE#${hash}`, sk: 'DEVICE' });
const userCodeKey = (code: string) => ({ pk: `USERCODE#${code}`, sk: 'USERCODE' });
const sessionKey = (hash: string) => ({ pk: `WEBSESSION#${hash}`, sk: 'WEBSESSION' });

export class DynamoDeviceGrants {
  constructor(
    private readonly doc: DynamoDBDocumentClient,
    private readonly tableName: string,
  ) {}

  async create(grant: DeviceGrant): Promise<void> {
    // The user code first: a crash before the grant leaves a pointer to nothing (the page says
    // "unknown code"), never a grant nobody can reach.
    const claimed = await this.conditional(
      new PutCommand({
        TableName: this.tableName,
        Item: { ...userCodeKey(grant.userCode), deviceCodeHash: grant.deviceCodeHash, expiresAt: grant.expiresAt },
        ConditionExpression: 'attribute_not_exists(pk) OR expiresAt < :now',
        ExpressionAttributeValues: { ':now': Math.floor(Date.now() / 1000) },
      }),
    );
    if (!claimed) throw new ConflictError('user-code-taken', `user code ${grant.userCode} belongs to a live device request`);
    await this.doc.send(new PutCommand({ TableName: this.tableName, Item: { ...grant, ...deviceKey(grant.deviceCodeHash) }, ConditionExpression: 'attribute_not_exists(pk)' }));
  }

  get(hash: string): Promise<DeviceGrant | undefined> {
    return this.read<DeviceGrant>(deviceKey(hash));
  }

  async getByUserCode(code: string): Promise<DeviceGrant | undefined> {
    const pointer = await this.read<{ deviceCodeHash: string }>(userCodeKey(code));
    const grant = pointer ? await this.get(pointer.deviceCodeHash) : undefined;
    // A re-claimed code points at the new grant; an old grant never answers for it.
    return grant?.userCode === code ? grant : undefined;
  }

  recordPoll(hash: string, previous: number | undefined, at: number, intervalSeconds: number): Promise<boolean> {
    return this.conditional(
      new UpdateCommand({
        TableName: this.tableName,
        Key: deviceKey(hash),
        UpdateExpression: 'SET lastPolledAt = :at, intervalSeconds = :interval',
        ConditionExpression: previous === undefined ? 'attribute_exists(pk) AND attribute_not_exists(lastPolledAt)' : 'lastPolledAt = :previous',
        ExpressionAttributeValues: { ':at': at, ':interval': intervalSeconds, ...(previous === undefined ? {} : { ':previous': previous }) },
      }),
    );
  }

  decide(hash: string, decision: Pick<DeviceGrant, 'status' | 'decidedAt' | 'decidedBy' | 'principal' | 'org' | 'role'>): Promise<boolean> {
    const fields = Object.entries(decision).filter(([, v]) => v !== undefined);
    return this.conditional(
      new UpdateCommand({
        TableName: this.tableName,
        Key: deviceKey(hash),
        UpdateExpression: `SET ${fields.map(([k]) => `#${k} = :${k}`).join(', ')}`,
        ConditionExpression: '#status = :pending',
        ExpressionAttributeNames: Object.fromEntries(fields.map(([k]) => [`#${k}`, k])),
        ExpressionAttributeValues: { ...Object.fromEntries(fields.map(([k, v]) => [`:${k}`, v])), ':pending': 'pending' },
      }),
    );
  }

  exchange(hash: string): Promise<boolean> {
    return this.conditional(
      new UpdateCommand({
        TableName: this.tableName,
        Key: deviceKey(hash),
        UpdateExpression: 'SET #status = :exchanged',
        ConditionExpression: '#status = :approved',
        ExpressionAttributeNames: { '#status': 'status' },
        ExpressionAttributeValues: { ':exchanged': 'exchanged', ':approved': 'approved' },
      }),
    );
  }

  async putSession(session: WebSession): Promise<void> {
    await this.doc.send(new PutCommand({ TableName: this.tableName, Item: { ...session, ...sessionKey(session.hash) }, ConditionExpression: 'attribute_not_exists(pk)' }));
  }

  getSession(hash: string): Promise<WebSession | undefined> {
    return this.read<WebSession>(sessionKey(hash));
  }

  async deleteSession(hash: string): Promise<void> {
    await this.doc.send(new DeleteCommand({ TableName: this.tableName, Key: sessionKey(hash) }));
  }

  private async read<T>(key: { pk: string; sk: string }): Promise<T | undefined> {
    const out = await this.doc.send(new GetCommand({ TableName: this.tableName, Key: key, ConsistentRead: true }));
    if (!out.Item) return undefined;
    const { pk: _pk, sk: _sk, ...rest } = out.Item;
    return rest as T;
  }

  /** True when the write happened; false when its condition did not hold. */
  private async conditional(command: PutCommand | UpdateCommand): Promise<boolean> {
    try {
      await this.doc.send(command as PutCommand);
      return true;
    } catch (err) {
      if (err instanceof ConditionalCheckFailedException) return false;
      throw err;
    }
  }
}
