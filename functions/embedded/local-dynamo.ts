// The embedded DynamoDB: dynalite, in-process, persisted under the data dir, spoken to through the
// real AWS SDK, so the store adapter is the one that runs on AWS. The platform reaches it over a
// Unix socket beside the data, not a loopback port: instances share the machine's network, and
// dynalite checks no credentials, so a port would hand any tenant's code the whole store.
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { Agent } from 'node:http';
import { connect, type AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { CreateTableCommand, DescribeTableCommand, DynamoDBClient, ResourceNotFoundException } from '@aws-sdk/client-dynamodb';
import { NodeHttpHandler } from '@smithy/node-http-handler';
import dynalite from 'dynalite';
import { tableDefinition } from '../store/table.ts';

export interface LocalDynamo {
  client: DynamoDBClient;
  /** `http://127.0.0.1:PORT` with `tcp`, else `unix:/path/to/socket`. */
  endpoint: string;
  close(): Promise<void>;
}

export interface LocalDynamoOptions {
  /**
   * Listen on a loopback port instead of the socket, for a client in another process that only
   * speaks TCP (the API Lambda's bundle in its test). Never for a platform that runs instances.
   */
  tcp?: boolean;
}

// sun_path holds 108 bytes on Linux (104 on macOS); a deeper data dir gets its socket in a private temp dir.
const SOCKET_PATH_MAX = 100;

export async function startLocalDynamo(dir: string, tableName: string, options: LocalDynamoOptions = {}): Promise<LocalDynamo> {
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const server = dynalite({ path: dir, createTableMs: 0, deleteTableMs: 0, updateTableMs: 0 });
  const socket = options.tcp ? undefined : socketPath(dir);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    if (socket) server.listen(socket.file, () => resolve());
    else server.listen(0, '127.0.0.1', () => resolve());
  });
  const endpoint = socket ? `unix:${socket.file}` : `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const client = new DynamoDBClient({
    endpoint: socket ? 'http://dynalite.invalid' : endpoint,
    region: 'local',
    // dynalite checks that a signature is present, not what it is.
    credentials: { accessKeyId: 'embedded', secretAccessKey: 'embedded' },
    ...(socket ? { requestHandler: new NodeHttpHandler({ httpAgent: socketAgent(socket.file) }) } : {}),
  });
  await ensureTable(client, tableName);
  return {
    client,
    endpoint,
    close: async () => {
      client.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      socket?.cleanup();
    },
  };
}

function socketPath(dir: string): { file: string; cleanup: () => void } {
  const beside = `${dir}.sock`;
  if (Buffer.byteLength(beside) <= SOCKET_PATH_MAX) {
    // A platform killed by SIGKILL leaves its socket file; listening on it would fail EADDRINUSE.
    rmSync(beside, { force: true });
    return { file: beside, cleanup: () => rmSync(beside, { force: true }) };
  }
  const temp = mkdtempSync(path.join(os.tmpdir(), 'berth-dynamo-'));
  return { file: path.join(temp, 'sock'), cleanup: () => rmSync(temp, { recursive: true, force: true }) };
}

/** An HTTP agent whose every connection is to the Unix socket, whatever host the request names. */
function socketAgent(file: string): Agent {
  const agent = new Agent({ keepAlive: true });
  (agent as unknown as { createConnection: () => ReturnType<typeof connect> }).createConnection = () => connect(file);
  return agent;
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
