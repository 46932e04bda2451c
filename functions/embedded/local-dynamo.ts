// The embedded DynamoDB: dynalite, in-process, persisted under the data dir, spoken to through the
// real AWS SDK over a loopback port, so the store adapter is the one that runs on AWS.
import { mkdirSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { CreateTableCommand, DescribeTableCommand, DynamoDBClient, ResourceNotFoundException } from '@aws-sdk/client-dynamodb';
import dynalite from 'dynalite';
import { tableDefinition } from '../store/table.ts';

export interface LocalDynamo {
  client: DynamoDBClient;
  endpoint: string;
  close(): Promise<void>;
}

export async function startLocalDynamo(dir: string, tableName: string): Promise<LocalDynamo> {
  mkdirSync(dir, { recursive: true });
  const server = dynalite({ path: dir, createTableMs: 0, deleteTableMs: 0, updateTableMs: 0 });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const client = new DynamoDBClient({
    endpoint,
    region: 'local',
    // dynalite checks that a signature is present, not what it is.
    credentials: { accessKeyId: 'embedded', secretAccessKey: 'embedded' },
  });
  await ensureTable(client, tableName);
  return {
    client,
    endpoint,
    close: async () => {
      client.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

async function ensureTable(client: DynamoDBClient, tableName: string): Promise<void> {
  try {
    await client.send(new DescribeTableCommand({ TableName: tableName }));
  } catch (err) {
    if (!(err instanceof ResourceNotFoundException)) throw err;
    await client.send(new CreateTableCommand(tableDefinition(tableName)));
  }
  // dynalite answers CreateTable while the table is still CREATING and turns it ACTIVE a moment
  // later (a timer, then a write); until then every query answers ResourceNotFoundException.
  for (let waited = 0; ; waited += 10) {
    const { Table } = await client.send(new DescribeTableCommand({ TableName: tableName }));
    if (Table?.TableStatus === 'ACTIVE') return;
    if (waited >= 10_000) throw new Error(`table ${tableName} is still ${Table?.TableStatus} after 10 s`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}
