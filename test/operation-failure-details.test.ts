// A failed operation carries what failed as data (`error.details`: instance, workload, release,
// exit code), recorded by the step runner from the driver's error; the CLI reads the instance
// there, never out of the suggested commands' text.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { COMMANDS } from '../cli/commands/index.ts';
import { runCli } from '../cli/core/run.ts';
import { nodeHost } from '../cli/lib/node-host.ts';
import { FileSettingsStore } from '../cli/lib/settings.ts';
import { HealthCheckError } from '../functions/core/errors.ts';
import type { Operation } from '../functions/core/model.ts';
import { runStep, type StepInput } from '../functions/reconciler/step-kit.ts';

describe('the step runner', () => {
  it('records the failing instance, workload, exit code and release as error.details', async () => {
    const updates: Partial<Operation>[] = [];
    const store = {
      getOperation: async () => ({ id: 'op-1', step: 'WaitForBatchHealthy' }) as Operation,
      updateOperation: async (_ref: unknown, _id: string, change: Partial<Operation>) => void updates.push(change),
    };
    const events = { record: async () => {} };
    const input: StepInput = { step: 'WaitForBatchHealthy', operation: { org: 'acme', project: 'shop', app: 'hello', env: 'prod', operationId: 'op-1', kind: 'deploy', releaseId: 'rel-2' } };
    const failing = async () => {
      throw new HealthCheckError('exited-before-healthy', 'instance i-0000000a of workload "web" exited with code 1 before it became healthy', {
        details: { instance: 'i-0000000a', workload: 'web', exitCode: 1, signal: null },
        next: ['berth logs --instance i-0000000a'],
      });
    };
    await expect(runStep({ store, events } as never, 'WaitForBatchHealthy', failing, input)).rejects.toBeInstanceOf(HealthCheckError);
    expect(updates.at(-1)?.error).toMatchObject({
      category: 'health-check',
      step: 'WaitForBatchHealthy',
      details: { instance: 'i-0000000a', workload: 'web', exitCode: 1, signal: null, releaseId: 'rel-2' },
    });
  });
});

// The CLI in process against a fake API whose failed operation names the instance only in details.
const ENV = '/v1/orgs/acme/projects/shop/apps/api/envs/prod';
const requested: string[] = [];
const failedOperation = {
  id: 'op-1',
  kind: 'deploy',
  status: 'failed',
  releaseId: 'rel-2',
  error: {
    category: 'health-check',
    code: 'exited-before-healthy',
    message: 'instance i-0000000b of workload "web" exited with code 1 before it became healthy',
    step: 'WaitForBatchHealthy',
    // A suggestion that names another instance: the CLI must not go by it.
    next: ['berth logs --instance i-0000000a'],
    details: { instance: 'i-0000000b', workload: 'web', releaseId: 'rel-2', exitCode: 1 },
  },
};

function fakeApi(path: string): unknown {
  requested.push(path);
  const url = new URL(path, 'http://api.test');
  if (url.pathname === `${ENV}/logs`) return { lines: [{ ts: '2024-05-01T12:00:00.000Z', source: 'app', workload: 'web', instance: url.searchParams.get('instance'), level: 'error', message: 'boom' }] };
  if (url.pathname === `${ENV}/events`) return { events: [] };
  if (url.pathname === `${ENV}/operations/op-1`) return { operation: failedOperation };
  throw new Error(`the fake API has no ${path}`);
}

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'berth-details-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

async function berth(argv: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  let stdout = '';
  let stderr = '';
  const code = await runCli(argv, {
    commands: COMMANDS,
    version: 'test',
    host: { ...nodeHost(dir), readStdin: async () => '' },
    settings: new FileSettingsStore(join(dir, 'home'), { BERTH_API: 'http://api.test', BERTH_TOKEN: 't', BERTH_ORG: 'acme', BERTH_PROJECT: 'shop', BERTH_APP: 'api', BERTH_ENV: 'prod' }),
    writers: { stdout: (t) => void (stdout += t), stderr: (t) => void (stderr += t), stdoutIsTTY: false, stderrIsTTY: false, noColor: true },
    fetch: (async (input: string | URL | Request) => Response.json(fakeApi(String(input)))) as typeof globalThis.fetch,
  });
  return { code, stdout, stderr };
}

describe('berth wait on a failed operation', () => {
  it('shows the log tail of the instance named in error.details', async () => {
    requested.length = 0;
    const r = await berth(['wait', 'op-1']);
    expect(r.code).toBe(7);
    expect(r.stderr).toContain('Last log lines of i-0000000b:');
    expect(requested.filter((p) => p.includes('/logs'))).toEqual([`http://api.test${ENV}/logs?instance=i-0000000b&limit=20`]);
  });

  it('passes the failure details on in the --json error', async () => {
    const r = await berth(['wait', 'op-1', '--json']);
    const error = JSON.parse(r.stdout.slice(r.stdout.indexOf('{\n  "error"'))).error;
    expect(error.details).toEqual({ operationId: 'op-1', step: 'WaitForBatchHealthy', instance: 'i-0000000b', workload: 'web', releaseId: 'rel-2', exitCode: 1 });
  });
});
