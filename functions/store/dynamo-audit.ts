// The audit log in the single table: pk AUDIT#<org>, sk the record id (aud-<ulid>, so a Query
// reads it in time order and since/until are sort-key bounds). Append-only by construction: the
// only write is a PutItem conditioned on attribute_not_exists, and nothing in the StateStore
// updates or deletes an AUDIT# item.
//
// IAM cannot enforce append-only per item here: the API Lambda needs PutItem on the table for
// everything else, and `dynamodb:LeadingKeys` can only allow or deny whole partitions, not "put
// new but never overwrite" (there is no condition key for the ConditionExpression). Denying
// UpdateItem/DeleteItem on `AUDIT#*` leading keys would still leave an unconditional PutItem able
// to overwrite. For tamper evidence beyond the code path, stream the table (DynamoDB Streams or
// PITR exports) to a write-once store; see the README's Audit section.
import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { PutCommand, QueryCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { AuditRecord } from '../contract/audit.ts';
import { ConflictError } from '../core/errors.ts';
import { ulidTime } from '../core/ids.ts';
import type { AuditListQuery } from '../core/state-store.ts';

export const auditKey = (org: string): string => `AUDIT#${org}`;

export async function appendAudit(doc: DynamoDBDocumentClient, tableName: string, record: AuditRecord): Promise<void> {
  try {
    await doc.send(new PutCommand({ TableName: tableName, Item: { ...record, pk: auditKey(record.org), sk: record.id }, ConditionExpression: 'attribute_not_exists(pk)' }));
  } catch (err) {
    if (err instanceof ConditionalCheckFailedException) throw new ConflictError('audit-record-exists', `audit record ${record.id} already exists; audit records are never replaced`);
    throw err;
  }
}

export async function listAudit(doc: DynamoDBDocumentClient, tableName: string, org: string, q: AuditListQuery): Promise<{ records: AuditRecord[]; next?: string }> {
  // Inclusive bounds; `after` (the previous page's last, i.e. oldest, id) is dropped below.
  // Ids encode time from 1970 on; an earlier bound is 1970 itself.
  const low = q.since ? `aud-${ulidTime(Math.max(0, Date.parse(q.since)))}` : 'aud-';
  const untilBound = q.until ? `aud-${ulidTime(Math.max(0, Date.parse(q.until)))}\uffff` : 'aud-\uffff';
  const high = q.after && q.after < untilBound ? q.after : untilBound;
  // An empty window (a page past `since`, or until before since): DynamoDB refuses a BETWEEN whose
  // bounds are reversed, and there is nothing to read anyway.
  if (low > high) return { records: [] };
  const names: Record<string, string> = {};
  const values: Record<string, unknown> = { ':pk': auditKey(org), ':low': low, ':high': high };
  const filters: string[] = [];
  if (q.actor) {
    names['#actor'] = 'actor';
    values[':actor'] = q.actor;
    filters.push('#actor = :actor');
  }
  if (q.action) {
    names['#action'] = 'action';
    values[':action'] = q.action;
    filters.push('contains(#action, :action)');
  }
  const records: AuditRecord[] = [];
  let startKey: Record<string, unknown> | undefined;
  // One more than asked, to know whether a next page exists. DynamoDB applies Limit before the
  // filter, so filtered pages are read until enough records match or the partition ends.
  do {
    const out = await doc.send(
      new QueryCommand({
        TableName: tableName,
        KeyConditionExpression: 'pk = :pk AND sk BETWEEN :low AND :high',
        FilterExpression: filters.length ? filters.join(' AND ') : undefined,
        ExpressionAttributeNames: filters.length ? names : undefined,
        ExpressionAttributeValues: values,
        ScanIndexForward: false,
        ConsistentRead: true,
        Limit: filters.length ? undefined : q.limit + 2,
        ExclusiveStartKey: startKey,
      }),
    );
    for (const item of out.Items ?? []) {
      if (item.sk === q.after) continue;
      const { pk: _pk, sk: _sk, ...record } = item;
      records.push(record as AuditRecord);
    }
    startKey = out.LastEvaluatedKey;
  } while (startKey && records.length <= q.limit);
  const page = records.slice(0, q.limit);
  return records.length > q.limit ? { records: page, next: page[page.length - 1].id } : { records: page };
}
