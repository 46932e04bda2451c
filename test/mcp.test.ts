// Issue 7, seed 000 flows 8.1–8.2: an AI agent discovers Berth's tools and runs them, with the SDK's
// own Client, over both transports: the real `berth mcp` (the published bundle) on stdio, and
// streamable HTTP at /v1/mcp. Tools act with the caller's token: the role check, the audit log and
// the validation are the API's.
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import type { CallToolResult, Tool } from '@modelcontextprotocol/sdk/types.js';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { issueToken } from '../functions/api/auth.ts';
import { Digest, ScaleSettings } from '../functions/contract/api.ts';
import type { AuditRecord } from '../functions/contract/audit.ts';
import { FARGATE_MEMORY } from '../functions/contract/manifest.ts';
import { MAX_LOG_LINES } from '../functions/mcp/tools.ts';
import { BERTH_BIN } from './support/cli-harness.ts';
import { createReadyEnv, freePort, manifestFor, serverSource, startOpsPlatform, uploadApp, type OpsPlatform } from './support/ops-harness.ts';

const REF = { org: 'acme', project: 'shop', app: 'hello', env: 'prod' };
const WHERE = { project: REF.project, app: REF.app, env: REF.env };
const DEPLOY_ACTION = 'POST /orgs/{org}/projects/{project}/apps/{app}/envs/{env}/deploys';
const TOOLS = ['deploy', 'status', 'releases', 'rollback', 'scale', 'cancel', 'logs', 'events', 'endpoints', 'volumes'];

let dir: string;
let ops: OpsPlatform;
let manifest: string;
const tokens: Record<'deployer' | 'viewer', string> = { deployer: '', viewer: '' };
const clients: Client[] = [];

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'berth-mcp-'));
  ops = await startOpsPlatform(join(dir, 'platform'));
  await createReadyEnv(ops, REF);
  manifest = manifestFor(REF.app, await freePort());
  const store = ops.platform.deps.store;
  for (const role of ['deployer', 'viewer'] as const) {
    tokens[role] = (await issueToken(store, { name: `agent-${role}`, kind: 'ci', principal: `token:agent-${role}`, org: REF.org, role, createdBy: 'ops-tester' })).token;
  }
}, 60_000);

afterAll(async () => {
  for (const client of clients) await client.close().catch(() => undefined);
  await ops?.platform.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

/** The real `berth mcp`, as an MCP client's configuration starts it; the org comes from BERTH_ORG. */
async function stdioClient(token: string): Promise<{ client: Client; stderr: () => string }> {
  const home = join(dir, 'cli-home');
  mkdirSync(home, { recursive: true });
  const transport = new StdioClientTransport({
    command: process.execPath,
    args: [BERTH_BIN, 'mcp'],
    cwd: dir,
    env: { BERTH_HOME: home, BERTH_API: ops.platform.url, BERTH_TOKEN: token, BERTH_ORG: REF.org, NO_COLOR: '1' },
    stderr: 'pipe',
  });
  let stderr = '';
  transport.stderr?.on('data', (d) => (stderr += d));
  const client = new Client({ name: 'berth-test', version: '1.0.0' });
  clients.push(client);
  await client.connect(transport);
  return { client, stderr: () => stderr };
}

async function httpClient(token?: string): Promise<Client> {
  const transport = new StreamableHTTPClientTransport(new URL(`${ops.platform.url}/v1/mcp`), { requestInit: { headers: token ? { authorization: `Bearer ${token}` } : {} } });
  const client = new Client({ name: 'berth-test', version: '1.0.0' });
  clients.push(client);
  await client.connect(transport);
  return client;
}

const call = async (client: Client, name: string, args: Record<string, unknown>) => (await client.callTool({ name, arguments: args })) as CallToolResult;
const structured = (r: CallToolResult) => r.structuredContent as Record<string, any>;
const byName = (tools: Tool[], name: string) => tools.find((t) => t.name === name)!;

async function audit(actor: string): Promise<AuditRecord[]> {
  const res = await ops.call('GET', `/v1/orgs/${REF.org}/audit?actor=${encodeURIComponent(actor)}`);
  expect(res.status, res.text).toBe(200);
  return res.body.records as AuditRecord[];
}

describe('the MCP server over stdio (berth mcp)', () => {
  let stdio: Awaited<ReturnType<typeof stdioClient>>;
  beforeAll(async () => {
    stdio = await stdioClient(tokens.deployer);
  }, 30_000);

  it('lists the tools with input schemas generated from the API contract and annotations that say what mutates', async () => {
    const { tools } = await stdio.client.listTools();
    expect(tools.map((t) => t.name).sort()).toEqual([...TOOLS].sort());

    const deploy = byName(tools, 'deploy');
    // The org is the CLI's selection (BERTH_ORG), so it is a default, not a requirement.
    expect(deploy.inputSchema.required).toEqual(['project', 'app', 'env', 'manifest']);
    const deployProps = deploy.inputSchema.properties as Record<string, any>;
    expect(deployProps.org.default).toBe(REF.org);
    expect(deployProps.artifactDigest.pattern).toBe((z.toJSONSchema(Digest) as { pattern: string }).pattern);
    expect(Object.keys(deployProps)).toEqual(expect.arrayContaining(['manifest', 'artifactDigest', 'image', 'dryRun', 'idempotencyKey']));
    expect((deploy.inputSchema as Record<string, unknown>).additionalProperties).toBe(false);

    const settings = (byName(tools, 'scale').inputSchema.properties as Record<string, any>).settings;
    expect(settings.properties.count).toMatchObject({ type: 'integer', minimum: 0, maximum: 100 });
    expect(settings.properties.max).toMatchObject({ minimum: 1, maximum: 100 });
    expect(Object.keys(settings.properties).sort()).toEqual(Object.keys(ScaleSettings.shape).sort());
    // Only the Fargate cpu sizes, from the manifest's own table.
    expect(settings.properties.cpu.enum).toEqual(Object.keys(FARGATE_MEMORY).map(Number));
    // Every property an agent sees says what it is.
    const undescribed = (schema: Record<string, any>, at: string): string[] =>
      Object.entries((schema.properties ?? {}) as Record<string, Record<string, any>>).flatMap(([key, prop]) => [...(prop.description ? [] : [`${at}.${key}`]), ...undescribed(prop, `${at}.${key}`)]);
    expect(tools.flatMap((t) => undescribed(t.inputSchema, t.name))).toEqual([]);

    const logs = byName(tools, 'logs').inputSchema.properties as Record<string, any>;
    expect(logs.limit).toMatchObject({ maximum: MAX_LOG_LINES, default: 100 });
    expect(logs.follow).toBeUndefined();
    expect((byName(tools, 'endpoints').inputSchema.properties as Record<string, any>).all).toMatchObject({ type: 'boolean' });

    expect(byName(tools, 'deploy').annotations).toMatchObject({ readOnlyHint: false, destructiveHint: true, idempotentHint: false });
    expect(byName(tools, 'rollback').annotations).toMatchObject({ readOnlyHint: false, destructiveHint: true, idempotentHint: false });
    expect(byName(tools, 'cancel').annotations).toMatchObject({ readOnlyHint: false, destructiveHint: true, idempotentHint: true });
    expect(byName(tools, 'scale').annotations).toMatchObject({ readOnlyHint: false, idempotentHint: true });
    for (const name of ['status', 'releases', 'logs', 'events', 'endpoints', 'volumes']) expect(byName(tools, name).annotations?.readOnlyHint, name).toBe(true);
  });

  it('deploys an uploaded snapshot and answers with the receipt; status then shows it running; the audit log names the token', async () => {
    const digest = await uploadApp(ops, REF.org, join(dir, 'app-one'), serverSource('one'));
    const deployed = await call(stdio.client, 'deploy', { ...WHERE, manifest, artifactDigest: digest });
    expect(deployed.isError, JSON.stringify(deployed)).toBeFalsy();
    const receipt = structured(deployed).receipt;
    expect(receipt).toMatchObject({ accepted: true, dryRun: false, releaseId: 'rel-1', artifactDigest: digest });
    expect(receipt.operationId).toMatch(/^op-/);
    expect((deployed.content[0] as { text: string }).text).toContain(`Release rel-1 accepted for ${receipt.env}; rolling out as ${receipt.operationId}`);

    await ops.platform.orchestrator.idle();
    const status = structured(await call(stdio.client, 'status', WHERE)).status;
    expect(status).toMatchObject({ currentReleaseId: 'rel-1', converged: true });
    expect(status.workloads[0].current.healthy).toBe(1);

    const records = await audit('token:agent-deployer');
    expect(records.filter((r) => r.action === DEPLOY_ACTION)).toEqual([
      expect.objectContaining({ resource: `/orgs/${REF.org}/projects/${REF.project}/apps/${REF.app}/envs/${REF.env}/deploys`, tokenKind: 'ci', status: 202, outcome: 'success' }),
    ]);
    expect(stdio.stderr()).toContain(`berth mcp: serving tools for ${ops.platform.url} (defaults: org=${REF.org})`);
  });

  it('answers bad input with an invalid-input tool error carrying the envelope, before calling the API', async () => {
    const before = (await audit('token:agent-deployer')).length;
    const tooMany = await call(stdio.client, 'scale', { ...WHERE, workload: 'web', settings: { count: 101 } });
    expect(tooMany.isError).toBe(true);
    expect(structured(tooMany).error).toMatchObject({ category: 'invalid-input', code: 'request-invalid', details: [{ path: 'settings.count', in: 'arguments' }] });
    expect(structured(tooMany).error.message).toMatch(/settings\.count: Too big: expected number to be <=100/);
    expect((tooMany.content[0] as { text: string }).text).toMatch(/^Error \(invalid-input\/request-invalid\): the arguments of scale are not valid/);

    const cpu = await call(stdio.client, 'scale', { ...WHERE, workload: 'web', settings: { cpu: 300 } });
    expect(structured(cpu).error).toMatchObject({ category: 'invalid-input', code: 'request-invalid', details: [{ path: 'settings.cpu', in: 'arguments' }] });
    const notAnOp = await call(stdio.client, 'events', { ...WHERE, operation: 'not-an-op' });
    expect(structured(notAnOp).error).toMatchObject({ category: 'invalid-input', code: 'request-invalid', details: [{ path: 'operation', in: 'arguments' }] });

    const typo = await call(stdio.client, 'deploy', { ...WHERE, manfest: manifest });
    expect(structured(typo).error).toMatchObject({ category: 'invalid-input', code: 'request-invalid' });
    expect(structured(typo).error.message).toContain('manfest');
    expect(await audit('token:agent-deployer')).toHaveLength(before);
  });
});

describe('the MCP server over streamable HTTP (/v1/mcp)', () => {
  it("acts with the caller's token: a deployer deploys and reads status, the token's org is the default", async () => {
    const client = await httpClient(tokens.deployer);
    const { tools } = await client.listTools();
    expect(tools.map((t) => t.name).sort()).toEqual([...TOOLS].sort());
    expect((byName(tools, 'status').inputSchema.properties as Record<string, any>).org.default).toBe(REF.org);

    const digest = await uploadApp(ops, REF.org, join(dir, 'app-two'), serverSource('two'));
    await ops.platform.orchestrator.idle(); // one operation per env at a time: rel-1's must be over
    const deployed = await call(client, 'deploy', { ...WHERE, manifest, artifactDigest: digest, idempotencyKey: 'mcp-test-deploy-2' });
    expect(deployed.isError, JSON.stringify(deployed)).toBeFalsy();
    expect(structured(deployed).receipt).toMatchObject({ releaseId: 'rel-2', previousReleaseId: 'rel-1' });
    // The same idempotency key answers with the first receipt; no third release.
    const replay = await call(client, 'deploy', { ...WHERE, manifest, artifactDigest: digest, idempotencyKey: 'mcp-test-deploy-2' });
    expect(structured(replay).receipt.operationId).toBe(structured(deployed).receipt.operationId);

    await ops.platform.orchestrator.idle();
    expect(structured(await call(client, 'status', WHERE)).status).toMatchObject({ currentReleaseId: 'rel-2', converged: true });
    const releases = structured(await call(client, 'releases', { ...WHERE, limit: 5 }));
    expect(releases.releases.map((r: { id: string }) => r.id)).toEqual(['rel-2', 'rel-1']);
    const endpoints = structured(await call(client, 'endpoints', { all: true })).endpoints;
    expect(endpoints.length).toBe(1);
    // An operation that has finished cannot be cancelled: a tool error that says so.
    const late = await call(client, 'cancel', { ...WHERE, operation: structured(deployed).receipt.operationId });
    expect(late.isError).toBe(true);
    expect(structured(late).error).toMatchObject({ category: 'conflict', code: 'operation-finished' });

    const records = await audit('token:agent-deployer');
    expect(records.filter((r) => r.action === DEPLOY_ACTION).map((r) => [r.outcome, r.replayed ?? false])).toEqual([
      ['success', true],
      ['success', false],
      ['success', false],
    ]);
    // The JSON-RPC envelopes are transport: only the API calls they made are in the log.
    expect(records.filter((r) => r.action.includes('/mcp'))).toEqual([]);
  });

  it('refuses a viewer token calling deploy with a permission tool error, and records it as denied; reads still work', async () => {
    const client = await httpClient(tokens.viewer);
    const digest = `sha256:${'0'.repeat(64)}`;
    const refused = await call(client, 'deploy', { ...WHERE, manifest, artifactDigest: digest });
    expect(refused.isError).toBe(true);
    const error = structured(refused).error;
    expect(error).toMatchObject({ category: 'permission', code: 'role-insufficient', details: { needed: 'deployer', role: 'viewer', org: REF.org } });
    expect(error.next).toContain(`ask an admin of ${REF.org} for a token with that role: berth tokens create <name> --role deployer`);
    expect((refused.content[0] as { text: string }).text).toMatch(/^Error \(permission\/role-insufficient\): POST \/v1\/orgs\/acme\/.*\/deploys needs the role deployer/);

    const denied = (await audit('token:agent-viewer')).filter((r) => r.action === DEPLOY_ACTION);
    expect(denied).toEqual([expect.objectContaining({ outcome: 'denied', errorCategory: 'permission', errorCode: 'role-insufficient', status: 403 })]);

    const logs = await call(client, 'logs', { ...WHERE, limit: 5 });
    expect(logs.isError, JSON.stringify(logs)).toBeFalsy();
    expect(structured(logs).lines.length).toBeLessThanOrEqual(5);
    const tooLong = await call(client, 'logs', { ...WHERE, limit: 10_000 });
    expect(structured(tooLong).error).toMatchObject({ category: 'invalid-input', code: 'request-invalid', details: [{ path: 'limit' }] });
  });

  it('refuses a client without a token before any tool is listed', async () => {
    await expect(httpClient()).rejects.toMatchObject({ code: 401, message: expect.stringContaining('"code":"unauthenticated"') });
    const res = await fetch(`${ops.platform.url}/v1/mcp`, { method: 'GET', headers: { authorization: `Bearer ${tokens.viewer}` } });
    expect(res.status).toBe(405);
  });
});
