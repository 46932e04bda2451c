// A client nobody here wrote: openapi-typescript generates types from the served document, tsc
// type-checks a small quick-start program written against them with openapi-fetch (strict, no
// casts, no `any`), and the program then runs the quick start against the embedded platform:
// org, project, app, env, config, a secret bundle, the snapshot upload, deploy, wait, status.
import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import openapiTS, { astToString } from 'openapi-typescript';
import ts from 'typescript';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { packSnapshot } from '../cli/lib/pack-snapshot.ts';
import { freePort } from './support/free-port.ts';
import { servedDocument } from './support/openapi-document.ts';
import { manifestFor, serverSource, startOpsPlatform, type OpsPlatform } from './support/ops-harness.ts';

const run = promisify(execFile);

// Written as a user of the generated client would: every answer read through its types.
const PROGRAM = `import createClient from 'openapi-fetch';
import type { paths } from './schema.ts';

export interface QuickStart { releaseId: string; operationStatus: string; running: number }

type Failure = { error?: { error?: { code?: string; message?: string } } | unknown; response: Response };
function fail(step: string, r: Failure): never {
  throw new Error(\`\${step}: \${r.response.status} \${JSON.stringify(r.error)}\`);
}

export async function quickStart(baseUrl: string, token: string, snapshot: { digest: string; bytes: Blob }, manifest: string): Promise<QuickStart> {
  const api = createClient<paths>({ baseUrl, headers: { authorization: \`Bearer \${token}\` } });
  const ref = { org: 'quick', project: 'shop', app: 'web', env: 'prod' };
  const org = await api.POST('/v1/orgs', { body: { name: ref.org } });
  if (!org.data) fail('create org', org);
  const project = await api.POST('/v1/orgs/{org}/projects', { params: { path: ref }, body: { name: ref.project } });
  if (!project.data) fail('create project', project);
  const app = await api.POST('/v1/orgs/{org}/projects/{project}/apps', { params: { path: ref }, body: { name: ref.app } });
  if (!app.data) fail('create app', app);
  const env = await api.POST('/v1/orgs/{org}/projects/{project}/apps/{app}/envs', { params: { path: ref }, body: { name: ref.env } });
  if (!env.data) fail('create env', env);
  await waitFor(api, ref, env.data.operationId);
  const config = await api.PATCH('/v1/orgs/{org}/projects/{project}/apps/{app}/envs/{env}/config', { params: { path: ref }, body: { set: { GREETING: 'ahoy' } } });
  if (!config.data) fail('config', config);
  const secrets = await api.PUT('/v1/orgs/{org}/projects/{project}/apps/{app}/envs/{env}/secrets/{bundle}', { params: { path: { ...ref, bundle: 'db' } }, body: { values: { PASSWORD: 'correct-horse' } } });
  if (!secrets.data) fail('secrets', secrets);
  const present = await api.GET('/v1/orgs/{org}/artifacts/{digest}', { params: { path: { org: ref.org, digest: snapshot.digest } } });
  if (!present.data) fail('artifact lookup', present);
  if (!present.data.present) {
    const upload = await api.PUT('/v1/orgs/{org}/artifacts/{digest}', {
      params: { path: { org: ref.org, digest: snapshot.digest } },
      body: snapshot.bytes,
      bodySerializer: (bytes) => bytes,
      headers: { 'content-type': 'application/octet-stream' },
    });
    if (!upload.data) fail('upload', upload);
  }
  const deploy = await api.POST('/v1/orgs/{org}/projects/{project}/apps/{app}/envs/{env}/deploys', { params: { path: ref }, body: { manifest, artifactDigest: snapshot.digest } });
  if (!deploy.data) fail('deploy', deploy);
  const { receipt } = deploy.data;
  if (receipt.operationId === null) throw new Error('deploy: a dry run was not asked for');
  const operation = await waitFor(api, ref, receipt.operationId);
  const status = await api.GET('/v1/orgs/{org}/projects/{project}/apps/{app}/envs/{env}/status', { params: { path: ref } });
  if (!status.data) fail('status', status);
  const running = status.data.status.workloads.reduce((n, w) => n + w.current.running, 0);
  return { releaseId: receipt.releaseId, operationStatus: operation.status, running };
}

type Api = ReturnType<typeof createClient<paths>>;
async function waitFor(api: Api, ref: { org: string; project: string; app: string; env: string }, operation: string) {
  for (;;) {
    const r = await api.GET('/v1/orgs/{org}/projects/{project}/apps/{app}/envs/{env}/operations/{operation}', { params: { path: { ...ref, operation } } });
    if (!r.data) fail('operation', r);
    if (r.data.operation.status !== 'running') return r.data.operation;
    // What \\\`berth wait\\\` does behind API Gateway: poll the operation.
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}
`;

let dir: string;
let home: string;
let ops: OpsPlatform;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'berth-client-'));
  // The generated files resolve openapi-fetch from this repo's node_modules, as a user's would.
  symlinkSync(resolve('node_modules'), join(dir, 'node_modules'), 'dir');
  // format: binary is a Blob (openapi-typescript's documented transform for uploads).
  const BLOB = ts.factory.createTypeReferenceNode(ts.factory.createIdentifier('Blob'));
  const ast = await openapiTS(JSON.parse(JSON.stringify(await servedDocument())), { transform: (schema) => (schema.format === 'binary' ? BLOB : undefined) });
  writeFileSync(join(dir, 'schema.ts'), astToString(ast));
  writeFileSync(join(dir, 'quickstart.ts'), PROGRAM);
  writeFileSync(
    join(dir, 'tsconfig.json'),
    JSON.stringify({ compilerOptions: { strict: true, noImplicitAny: true, target: 'ES2022', module: 'NodeNext', moduleResolution: 'NodeNext', allowImportingTsExtensions: true, noEmit: true, skipLibCheck: true, lib: ['ES2022', 'DOM'], types: [] }, files: ['quickstart.ts'] }),
  );
  home = join(dir, 'platform');
  mkdirSync(home);
  ops = await startOpsPlatform(home);
}, 120_000);

afterAll(async () => {
  await ops?.platform.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('a client generated with openapi-typescript + openapi-fetch', () => {
  it('type-checks the quick start with no casts and no any', async () => {
    expect(PROGRAM).not.toMatch(/\bas\s+(?!const\b)[A-Za-z{[(]/);
    expect(PROGRAM).not.toMatch(/\bany\b/);
    const tsc = await run(process.execPath, [resolve('node_modules/typescript/bin/tsc'), '-p', join(dir, 'tsconfig.json')]).catch((e: { stdout: string; stderr: string }) => e);
    expect(`${tsc.stdout}${tsc.stderr}`).toBe('');
  }, 120_000);

  it('runs the quick start against the embedded platform: the release is live and its instance runs', async () => {
    const appDir = join(dir, 'app');
    mkdirSync(appDir);
    writeFileSync(join(appDir, 'server.mjs'), serverSource('generated'));
    const snapshot = await packSnapshot(appDir);
    const program = (await import(join(dir, 'quickstart.ts'))) as { quickStart(baseUrl: string, token: string, s: { digest: string; bytes: Blob }, manifest: string): Promise<{ releaseId: string; operationStatus: string; running: number }> };
    const result = await program.quickStart(ops.platform.url, ops.token, { digest: snapshot.digest, bytes: new Blob([new Uint8Array(snapshot.bytes)]) }, manifestFor('web', await freePort()));
    expect(result).toEqual({ releaseId: 'rel-1', operationStatus: 'succeeded', running: 1 });
  }, 120_000);
});
