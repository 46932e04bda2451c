// An embedded platform for the bench, in this process: the real composition root, API, store,
// state machines and endpoint listeners, with the instant compute driver and no reconcile loop
// (nothing should run that the figure did not ask for). Plus the few calls every figure needs.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { packSnapshot } from '../../cli/lib/pack-snapshot.ts';
import { issueOwnerToken } from '../../functions/api/auth.ts';
import type { EnvRef } from '../../functions/core/ports.ts';
import { startEmbeddedPlatform, type EmbeddedPlatform } from '../../functions/embedded/platform.ts';
import { createReadyEnv as createOpsReadyEnv } from '../../test/support/ops-harness.ts';
import { InstantCompute } from './instant-compute.ts';

export interface BenchPlatform {
  platform: EmbeddedPlatform;
  home: string;
  token: string;
  /** An API call with the owner token: status and body text. */
  raw(method: string, path: string, body?: unknown): Promise<{ status: number; text: string }>;
  /** An API call with the owner token; throws unless the status is `expect`. */
  call(method: string, path: string, body: unknown, expect: number): Promise<Record<string, any>>;
  close(): Promise<void>;
}

export async function startBenchPlatform(): Promise<BenchPlatform> {
  const home = mkdtempSync(join(tmpdir(), 'berth-bench-'));
  const platform = await startEmbeddedPlatform({ home, port: 0, version: 'bench', reconcileIntervalMs: 0, artifactGcIntervalMs: 0, compute: ({ logs }) => new InstantCompute(logs) });
  const { token } = await issueOwnerToken(platform.deps.store, 'bench');
  const raw = async (method: string, path: string, body?: unknown) => {
    const res = await fetch(`${platform.url}${path}`, {
      method,
      headers: { authorization: `Bearer ${token}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    return { status: res.status, text: await res.text() };
  };
  const call = async (method: string, path: string, body: unknown, expect: number): Promise<Record<string, any>> => {
    const { status, text } = await raw(method, path, body);
    if (status !== expect) throw new Error(`${method} ${path}: expected ${expect}, got ${status} ${text}`);
    return text ? (JSON.parse(text) as Record<string, any>) : {};
  };
  return {
    platform,
    home,
    token,
    raw,
    call,
    async close() {
      await platform.close();
      rmSync(home, { recursive: true, force: true });
    },
  };
}

// The tests' helpers: the env path, and a ready env (org…env, the config and secret bundle the
// manifest requires), so the bench measures the same setup the tests run.
export { envPath } from '../../test/support/ops-harness.ts';

export function createReadyEnv(bp: BenchPlatform, r: EnvRef): Promise<void> {
  return createOpsReadyEnv({ call: bp.raw, platform: bp.platform }, r);
}

/** Uploads a one-file app snapshot (the bench never runs it) and returns its digest. */
export async function uploadApp(bp: BenchPlatform, org: string): Promise<string> {
  const dir = join(bp.home, 'app-src');
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'server.mjs'), "import { createServer } from 'node:http';\ncreateServer((_, res) => res.end('ok')).listen(Number(process.env.PORT));\n");
  const snapshot = await packSnapshot(dir);
  const res = await fetch(`${bp.platform.url}/v1/orgs/${org}/artifacts/${snapshot.digest}`, { method: 'PUT', headers: { authorization: `Bearer ${bp.token}` }, body: Buffer.from(snapshot.bytes) });
  if (res.status !== 201) throw new Error(`artifact upload: ${res.status} ${await res.text()}`);
  return snapshot.digest;
}

/** The quick start's shape: `workloads` web workloads (one instance each) and one IPv6 endpoint on `port`. */
export function benchManifest(app: string, port: number, workloads = 1, count = 1): string {
  const lines = [`app: ${app}`, 'workloads:'];
  for (let w = 0; w < workloads; w++) {
    lines.push(
      `  ${w === 0 ? 'web' : `worker${w}`}:`,
      '    command: ["node", "server.mjs"]',
      `    count: ${count}`,
      '    ports: [8080]',
      '    healthCheck: { type: http, path: /, intervalSeconds: 1, deadlineSeconds: 10 }',
      '    requires: { env: [GREETING], secrets: [db] }',
    );
  }
  lines.push('endpoints:', '  web:', '    workload: web', `    port: ${port}`, '    targetPort: 8080', '');
  return lines.join('\n');
}

// The tests' helper: a port the OS just handed out and took back.
export { freePort } from '../../test/support/free-port.ts';
