// The floor of figures 1 and 7: DynamoDB round trips. Every request and every rollout step is, at
// bottom, a chain of sequential calls to the store; counting them (reads and writes apart, with a
// middleware on the client the store uses) and then timing that many bare calls on the same
// client and dynalite gives what the operation would cost if Berth did nothing but its store I/O.
import { GetItemCommand, PutItemCommand, type DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DEFAULT_TABLE_NAME } from '../../functions/store/table.ts';

export interface RoundTrips {
  reads: number;
  writes: number;
}

const WRITES = new Set(['PutItemCommand', 'UpdateItemCommand', 'DeleteItemCommand']);

/** Counts every call made through `client` (the document client shares its middleware stack). */
export function countRoundTrips(client: DynamoDBClient): { read(): RoundTrips } {
  const counts: RoundTrips = { reads: 0, writes: 0 };
  client.middlewareStack.add(
    (next, context) => async (args) => {
      if (WRITES.has(context.commandName ?? '')) counts.writes++;
      else counts.reads++;
      return next(args);
    },
    { step: 'initialize', name: 'benchRoundTripCounter' },
  );
  return { read: () => ({ ...counts }) };
}

export const minus = (a: RoundTrips, b: RoundTrips): RoundTrips => ({ reads: a.reads - b.reads, writes: a.writes - b.writes });

/**
 * `trips.reads` GetItems and `trips.writes` PutItems, one after another, on items of their own:
 * the same SDK, HTTP hop and dynalite as the store, with no Berth code around them.
 */
export async function bareRoundTrips(client: DynamoDBClient, trips: RoundTrips): Promise<void> {
  const key = (i: number) => ({ pk: { S: 'BENCH#floor' }, sk: { S: `ITEM#${i % 16}` } });
  for (let i = 0; i < trips.writes; i++) {
    await client.send(new PutItemCommand({ TableName: DEFAULT_TABLE_NAME, Item: { ...key(i), value: { S: 'x'.repeat(200) }, at: { S: new Date().toISOString() } } }));
  }
  for (let i = 0; i < trips.reads; i++) {
    await client.send(new GetItemCommand({ TableName: DEFAULT_TABLE_NAME, Key: key(i), ConsistentRead: true }));
  }
}
