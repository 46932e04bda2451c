// Records every write the platform makes to its DynamoDB table, through the client's middleware
// stack (which the store's document client shares), so a test can say "this request changed
// nothing" without scanning the table around every request.
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';

export interface StoreWrite {
  command: string;
  /** The partition keys the write touches (a transaction can touch several). */
  pks: string[];
}

const WRITES = /^(Put|Update|Delete|TransactWrite|BatchWrite)/;

export function recordStoreWrites(client: DynamoDBClient): { writes: StoreWrite[]; take(): StoreWrite[] } {
  const writes: StoreWrite[] = [];
  client.middlewareStack.add(
    (next, context) => async (args) => {
      const command = String((context as { commandName?: string }).commandName ?? '');
      // Only writes that took effect: a conditional put refused by DynamoDB changed nothing.
      const result = await next(args);
      if (WRITES.test(command)) {
        // Marshalled (`"pk":{"S":"ORG#a"}`) or not (`"pk":"ORG#a"`), depending on where the stack is entered.
        const text = JSON.stringify((args as { input?: unknown }).input ?? {});
        const pks = [...text.matchAll(/"pk":(?:\{"S":)?"((?:[^"\\]|\\.)*)"/g)].map((m) => m[1]);
        writes.push({ command, pks });
      }
      return result;
    },
    { step: 'initialize', name: 'berthTestRecordWrites' },
  );
  return {
    writes,
    take() {
      return writes.splice(0, writes.length);
    },
  };
}
