// The generated document as tools nobody here wrote read it: redocly (recommended rules) and
// spectral (spectral:oas), run as their CLIs on the document written to a file; plus the facts
// generated clients rely on (operationIds, media types, headers, the error statuses).
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ROUTES } from '../functions/contract/routes/index.ts';
import { servedDocument, type OpenApiDocument } from './support/openapi-document.ts';

const run = promisify(execFile);
const bin = (name: string) => resolve('node_modules/.bin', name);
let dir: string;
let file: string;
let doc: OpenApiDocument;

beforeAll(async () => {
  doc = await servedDocument();
  dir = mkdtempSync(join(tmpdir(), 'berth-openapi-'));
  file = join(dir, 'openapi.json');
  writeFileSync(file, JSON.stringify(doc, null, 2));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** The CLI's output whatever its exit code (both exit non-zero on problems). */
async function lint(cmd: string, args: string[]): Promise<string> {
  try {
    const { stdout, stderr } = await run(cmd, args, { env: { ...process.env, NO_COLOR: '1', REDOCLY_TELEMETRY: 'off', REDOCLY_SUPPRESS_UPDATE_NOTICE: 'true' }, maxBuffer: 64 * 1024 * 1024 });
    return stdout + stderr;
  } catch (err) {
    const e = err as { stdout?: string; stderr?: string };
    return `${e.stdout ?? ''}${e.stderr ?? ''}`;
  }
}

describe('the OpenAPI document, linted', () => {
  it('redocly lint (recommended) reports no error and no warning', async () => {
    const out = await lint(bin('redocly'), ['lint', file, '--config', resolve('test/openapi/redocly.yaml'), '--format', 'stylish']);
    expect(out).toContain('Your API description is valid');
    expect(out, out).not.toMatch(/You have \d+ warnings?/);
  }, 120_000);

  it('spectral lint (spectral:oas) reports no problem', async () => {
    const out = await lint(bin('spectral'), ['lint', file, '--ruleset', resolve('test/openapi/spectral.yaml'), '--fail-severity', 'hint']);
    expect(out, out).toContain('No results with a severity of');
  }, 120_000);
});

describe('the OpenAPI document, generated from the route table', () => {
  const operations = () => Object.values(doc.paths).flatMap((methods) => Object.values(methods));

  it('has every route of the table once, by its operationId, and a server', () => {
    const ids = operations().map((o) => o.operationId);
    expect(ids.sort()).toEqual(ROUTES.map((r) => r.operationId).sort());
    expect(doc.servers).toEqual([expect.objectContaining({ url: 'http://localhost:8080' })]);
    expect(doc.tags.map((t) => t.name)).toEqual(expect.arrayContaining([...new Set(ROUTES.map((r) => r.tag))]));
  });

  it('names every operation once, camelCase verb then noun', () => {
    const ids = ROUTES.map((r) => r.operationId);
    expect(new Set(ids).size).toBe(ids.length);
    expect(ids.filter((id) => !/^(get|list|create|update|put|delete|destroy|scale|cancel|upload|invite|change|remove|revoke|activate|start|poll|call|restore|resize)[A-Z][A-Za-z]+$/.test(id))).toEqual([]);
  });

  it('documents success bodies with their schemas, not the empty object', () => {
    const empty = operations().filter((o) => Object.entries(o.responses).some(([s, r]: [string, any]) => s.startsWith('2') && r.content?.['application/json'] && !r.content['application/json'].schema.$ref && !r.content['application/json'].schema.properties && !r.content['application/json'].schema.anyOf));
    expect(empty.map((o) => o.operationId)).toEqual([]);
  });

  it('declares the streams (NDJSON), the CSV export and the upload', () => {
    const events = doc.paths['/v1/orgs/{org}/projects/{project}/apps/{app}/envs/{env}/events'].get;
    expect(events.responses['200'].content['application/x-ndjson'].schema.$ref).toBe('#/components/schemas/BerthEvent');
    const logs = doc.paths['/v1/orgs/{org}/projects/{project}/apps/{app}/envs/{env}/logs'].get;
    expect(logs.responses['200'].content['application/x-ndjson'].schema.$ref).toBe('#/components/schemas/LogLine');
    const audit = doc.paths['/v1/orgs/{org}/audit'].get;
    expect(Object.keys(audit.responses['200'].content)).toEqual(['application/json', 'text/csv']);
    expect(Object.keys(audit.responses['200'].headers)).toContain('x-berth-next');
    const upload = doc.paths['/v1/orgs/{org}/artifacts/{digest}'].put;
    expect(upload.operationId).toBe('uploadArtifact');
    expect(Object.keys(upload.requestBody.content)).toEqual(['application/octet-stream']);
  });

  it('declares Idempotency-Key on mutations and the response headers', () => {
    const deploy = doc.paths['/v1/orgs/{org}/projects/{project}/apps/{app}/envs/{env}/deploys'].post;
    expect(deploy.parameters).toContainEqual(expect.objectContaining({ name: 'idempotency-key', in: 'header' }));
    expect(Object.keys(deploy.responses['202'].headers)).toEqual(['x-request-id', 'idempotent-replayed']);
    expect(Object.keys(deploy.responses['429'].headers)).toContain('retry-after');
    expect(Object.keys(deploy.responses['401'].headers)).toContain('www-authenticate');
  });

  it('lists the 4xx each route can answer, with the envelope', () => {
    const deploy = doc.paths['/v1/orgs/{org}/projects/{project}/apps/{app}/envs/{env}/deploys'].post;
    expect(Object.keys(deploy.responses).filter((s) => s.startsWith('4'))).toEqual(['400', '401', '403', '404', '409', '413', '415', '422', '429']);
    expect(deploy.responses['404'].content['application/json'].schema.$ref).toBe('#/components/schemas/ErrorEnvelope');
    const health = doc.paths['/v1/health'].get;
    expect(Object.keys(health.responses).filter((s) => s.startsWith('4'))).toEqual(['429']);
    for (const op of operations()) expect(Object.keys(op.responses).some((s) => s.startsWith('4')), op.operationId).toBe(true);
  });
});
