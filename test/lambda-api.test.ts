// The API Lambda as AWS runs it: bundled by esbuild with the options infra/platform-function.ts
// gives NodejsFunction, loaded in a fresh module, invoked with API Gateway v2 (HTTP API) events.
// DynamoDB is dynalite (through AWS_ENDPOINT_URL_DYNAMODB); no other AWS service is called.
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { gunzipSync } from 'node:zlib';
import { build } from 'esbuild';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeConsole } from '../console/build.ts';
import { issueOwnerToken } from '../functions/api/auth.ts';
import { startLocalDynamo, type LocalDynamo } from '../functions/embedded/local-dynamo.ts';
import { DynamoStateStore } from '../functions/store/dynamo-state-store.ts';

type Handler = (event: unknown, context: unknown) => Promise<{ statusCode: number; body: string; headers?: Record<string, string> }>;

let dir: string;
let dynamo: LocalDynamo;
let handler: Handler;
let token: string;
let bundleBytes: number;
const saved = { ...process.env };

function httpEvent(method: string, path: string, body?: unknown, headers: Record<string, string> = {}) {
  return {
    version: '2.0',
    routeKey: '$default',
    rawPath: path,
    rawQueryString: '',
    headers: { host: 'api.example.com', 'content-type': 'application/json', ...headers },
    requestContext: {
      accountId: '123456789012',
      apiId: 'api',
      domainName: 'api.example.com',
      domainPrefix: 'api',
      http: { method, path, protocol: 'HTTP/1.1', sourceIp: '2001:db8::1', userAgent: 'test' },
      requestId: 'req',
      routeKey: '$default',
      stage: '$default',
      time: '23/Nov/2026:00:00:00 +0000',
      timeEpoch: 0,
    },
    body: body === undefined ? undefined : JSON.stringify(body),
    isBase64Encoded: false,
  };
}

const invoke = async (method: string, path: string, body?: unknown, auth = true) => {
  const res = await handler(httpEvent(method, path, body, auth ? { authorization: `Bearer ${token}` } : {}), {});
  return { status: res.statusCode, body: JSON.parse(res.body) };
};

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'berth-lambda-'));
  dynamo = await startLocalDynamo(join(dir, 'dynamo'), 'berth-test', { tcp: true });
  token = (await issueOwnerToken(new DynamoStateStore(dynamo.client, 'berth-test'), 'owner')).token;
  const outfile = join(dir, 'api.mjs');
  await build({
    entryPoints: ['functions/lambda/api.ts'],
    outfile,
    bundle: true,
    platform: 'node',
    target: 'node22',
    format: 'esm',
    minify: true,
    mainFields: ['module', 'main'],
    banner: { js: "import { createRequire as __berthCreateRequire } from 'node:module'; const require = __berthCreateRequire(import.meta.url);" },
    logLevel: 'silent',
  });
  bundleBytes = statSync(outfile).size;
  // What the CDK app puts beside the bundle (infra/berth-stack.ts, afterBundling).
  await writeConsole(join(dir, 'console'));
  Object.assign(process.env, {
    AWS_REGION: 'us-east-1',
    AWS_ACCESS_KEY_ID: 'test',
    AWS_SECRET_ACCESS_KEY: 'test',
    AWS_ENDPOINT_URL_DYNAMODB: dynamo.endpoint,
    TABLE_NAME: 'berth-test',
    CLUSTER_ARN: 'arn:aws:ecs:us-east-1:123456789012:cluster/berth',
    VPC_ID: 'vpc-0123456789abcdef0',
    SUBNETS: JSON.stringify([{ az: 'us-east-1a', id: 'subnet-0123456789abcdef0' }]),
    TASK_SECURITY_GROUP_ID: 'sg-0123456789abcdef0',
    TASK_EXECUTION_ROLE_ARN: 'arn:aws:iam::123456789012:role/exec',
    TASK_ROLE_ARN: 'arn:aws:iam::123456789012:role/task',
    LOG_GROUP_PREFIX: '/berth/',
    KMS_KEY_ID: 'arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab',
    MAC_KEY_ID: 'arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ac',
    STATE_MACHINE_ARNS: JSON.stringify(Object.fromEntries(['deploy', 'scale', 'endpoint', 'volume', 'env'].map((m) => [m, `arn:aws:states:us-east-1:123456789012:stateMachine:berth-${m}`]))),
    BACKUP_VAULT_NAME: 'berth',
    BACKUP_ROLE_ARN: 'arn:aws:iam::123456789012:role/backup',
  });
  handler = (await import(pathToFileURL(outfile).href)).handler as Handler;
  console.log(`API Lambda bundle: ${(bundleBytes / 1024).toFixed(0)} KiB (minified ESM, AWS SDK included)`);
}, 90_000);

afterAll(async () => {
  process.env = saved;
  await dynamo?.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('the bundled API Lambda, invoked with API Gateway v2 events', () => {
  it('answers the health check without a token, saying it cannot stream', async () => {
    const r = await invoke('GET', '/v1/health', undefined, false);
    expect(r).toMatchObject({ status: 200, body: { ok: true, streaming: false } });
  });

  it('refuses follow=true with the way to poll instead (API Gateway buffers responses)', async () => {
    // The installer's token reaches an org once it created it (it is then its owner).
    expect((await invoke('POST', '/v1/orgs', { name: 'streamco' })).status).toBe(201);
    const r = await invoke('GET', '/v1/orgs/streamco/projects/shop/apps/web/envs/prod/logs?follow=true');
    expect(r.status).toBe(400);
    expect(r.body.error).toMatchObject({ category: 'invalid-input', code: 'streaming-unavailable' });
  });

  it('answers a validation error with the envelope, the field and the category', async () => {
    const r = await invoke('POST', '/v1/orgs', { name: 'Bad_Name' });
    expect(r.status).toBe(400);
    expect(r.body.error).toMatchObject({ category: 'invalid-input', code: 'request-invalid' });
    expect(r.body.error.details[0].path).toBe('name');
  });

  it('refuses a request without a token with 401 and the fix', async () => {
    const r = await invoke('GET', '/v1/orgs', undefined, false);
    expect(r.status).toBe(401);
    expect(r.body.error.category).toBe('permission');
  });

  it('serves the web console at / from the files beside the bundle, gzipped, with its CSP', async () => {
    const page = await handler({ ...httpEvent('GET', '/'), headers: { host: 'api.example.com', 'accept-encoding': 'gzip, br' } }, {});
    expect(page.statusCode).toBe(200);
    expect(page.headers?.['content-encoding']).toBe('gzip');
    expect(page.headers?.['content-security-policy']).toContain("script-src 'self' 'wasm-unsafe-eval'");
    const html = gunzipSync(Buffer.from(page.body, (page as { isBase64Encoded?: boolean }).isBase64Encoded ? 'base64' : 'utf8')).toString();
    const script = /src="\/console\/(console-[\w]+\.js)"/.exec(html)![1]!;
    const js = await handler(httpEvent('GET', `/console/${script}`), {});
    expect(js.statusCode).toBe(200);
    expect(js.headers?.['cache-control']).toContain('immutable');
    expect(js.body).toContain('ghostty');
  });

  it('serves an authenticated write and read against DynamoDB', async () => {
    expect((await invoke('POST', '/v1/orgs', { name: 'acme' })).status).toBe(201);
    const r = await invoke('GET', '/v1/orgs');
    expect(r.status).toBe(200);
    expect(r.body.orgs.map((o: { name: string }) => o.name).sort()).toEqual(['acme', 'streamco']);
  });

});
