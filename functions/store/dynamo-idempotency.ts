// Idempotency records in the single table, as Powertools' DynamoDBPersistenceLayer keeps them:
//
//   IDEMPOTENCY#<scope>   <key>   { requestHash, state, claimId, inProgressExpiresAt, response?, expiresAt }
//
// Every state change is one conditional write. A claim succeeds when there is no record, the record
// is past its TTL (DynamoDB deletes expired items up to days late), or it is an in-progress claim
// past its in-progress expiry (the process that held it was killed). Concurrent claimers race on
// that one condition, so exactly one wins. Completing and releasing are conditional on `claimId`,
// so a request that was presumed dead and taken over cannot overwrite or delete its successor's claim.
// https://docs.powertools.aws.dev/lambda/typescript/latest/features/idempotency/
import { randomUUID } from 'node:crypto';
import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { DeleteCommand, GetCommand, PutCommand, UpdateCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { IdempotencyClaim, IdempotencyRecord } from '../core/state-store.ts';
import { keys } from './table.ts';

/** Stripe keeps keys for 24 h; a retry after that is a new request. */
const IDEMPOTENCY_TTL_SECONDS = 24 * 3600;

export class DynamoIdempotency {
  constructor(
    private readonly doc: DynamoDBDocumentClient,
    private readonly tableName: string,
  ) {}

  async claim(scope: string, key: string, { requestHash, now, inProgressMs }: { requestHash: string; now: number; inProgressMs: number }): Promise<IdempotencyClaim> {
    const claimId = randomUUID();
    const record: IdempotencyRecord = {
      requestHash,
      state: 'in-progress',
      claimId,
      inProgressExpiresAt: now + inProgressMs,
      createdAt: new Date(now).toISOString(),
      expiresAt: Math.floor(now / 1000) + IDEMPOTENCY_TTL_SECONDS,
    };
    // A second round only when the holder released the key between our write and our read.
    for (let attempt = 0; ; attempt++) {
      try {
        await this.doc.send(
          new PutCommand({
            TableName: this.tableName,
            Item: { pk: keys.idempotency(scope), sk: key, ...record },
            // A record without inProgressExpiresAt predates expiring claims: it can only be a stuck one.
            ConditionExpression: 'attribute_not_exists(pk) OR expiresAt < :nowSeconds OR (#state = :inProgress AND (attribute_not_exists(inProgressExpiresAt) OR inProgressExpiresAt < :now))',
            ExpressionAttributeNames: { '#state': 'state' },
            ExpressionAttributeValues: { ':nowSeconds': Math.floor(now / 1000), ':inProgress': 'in-progress', ':now': now },
          }),
        );
        return { claimed: true, claimId };
      } catch (err) {
        if (!(err instanceof ConditionalCheckFailedException)) throw err;
      }
      const out = await this.doc.send(new GetCommand({ TableName: this.tableName, Key: { pk: keys.idempotency(scope), sk: key }, ConsistentRead: true }));
      if (out.Item || attempt >= 2) {
        const { pk: _pk, sk: _sk, ...existing } = out.Item ?? { ...record, claimId: undefined };
        return { claimed: false, existing: existing as IdempotencyRecord };
      }
    }
  }

  async complete(scope: string, key: string, claimId: string, outcome: { response: { status: number; body: string }; redactedDigests?: Record<string, string> }): Promise<boolean> {
    try {
      await this.doc.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: { pk: keys.idempotency(scope), sk: key },
          UpdateExpression: `SET #state = :done, #response = :response${outcome.redactedDigests ? ', redactedDigests = :digests' : ''} REMOVE inProgressExpiresAt`,
          ConditionExpression: 'claimId = :claimId',
          ExpressionAttributeNames: { '#state': 'state', '#response': 'response' },
          ExpressionAttributeValues: { ':done': 'done', ':response': outcome.response, ':claimId': claimId, ...(outcome.redactedDigests ? { ':digests': outcome.redactedDigests } : {}) },
        }),
      );
      return true;
    } catch (err) {
      if (err instanceof ConditionalCheckFailedException) return false;
      throw err;
    }
  }

  async release(scope: string, key: string, claimId: string): Promise<void> {
    try {
      await this.doc.send(new DeleteCommand({ TableName: this.tableName, Key: { pk: keys.idempotency(scope), sk: key }, ConditionExpression: 'claimId = :claimId', ExpressionAttributeValues: { ':claimId': claimId } }));
    } catch (err) {
      // Taken over (or already gone): the key is someone else's now.
      if (!(err instanceof ConditionalCheckFailedException)) throw err;
    }
  }
}
