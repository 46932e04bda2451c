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
import { InstantCompute } from './instant-compute.ts';

export interface BenchPlatform {
  platform: EmbeddedPlatform;
  home: string;
  token: string;
  /** An API call with the owner token; throws unless the status is `expect`. */
  call(method: string, path: string, body: unknown, expect: number): Promise<Record<string, any>>;
  close(): Promise<void>;
}

export async function startBenchPlatform(): Promise<BenchPlatform> {
  const home = mkdtempSync(join(tmpdir(), 'berth-bench-'));
  const platform = await startEmbeddedPlatform({ home, port: 0, version: 'bench', reconcileIntervalMs: 0, compute: ({ logs }) => new InstantCompute(logs) });
  const { token } = await issueOwnerToken(platform.deps.store, 'bench');
  const call = async (method: string, path: string, body: unknown, expect: number): Promise<Record<string, any>> => {
    const res = await fetch(`${platform.url}${path}`, {
      method,
      headers: { authorization: `Bearer ${token}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await res.text();
    if (res.status !== expect) throw new Error(`${method} ${path}: expected ${expect}, got ${res.status} ${text}`);
    return text ? (JSON.parse(text) as Record<string, any>) : {};
  };
  return {
    platform,
    home,
    token,
    call,
    async close() {
      await platform.close();
      rmSync(home, { recursive: true, force: true });
    },
  };
}

export const envPath = (r: EnvRef): string => `/v1/orgs/${r.org}/projects/${r.project}/apps/${r.app}/envs/${r.env}`;

/** Creates what is missing of org/project/app, then the env with the config and secret bundle the manifest requires. */
export async function createReadyEnv(bp: BenchPlatform, r: EnvRef): Promise<void> {
  const steps: [string, string][] = [
    ['/v1/orgs', r.org],
    [`/v1/orgs/${r.org}/projects`, r.project],
    [`/v1/orgs/${r.org}/projects/${r.project}/apps`, r.app],
    [`/v1/orgs/${r.org}/projects/${r.project}/apps/${r.app}/envs`, r.env],
  ];
  for (const [path, name] of steps) {
    const res = await fetch(`${bp.platform.url}${path}`, { method: 'POST', headers: { authorization: `Bearer ${bp.token}`, 'content-type': 'application/json' }, body: JSON.stringify({ name }) });
    if (res.status !== 201 && res.status !== 409) throw new Error(`POST ${path} ${name}: ${res.status} ${await res.text()}`);
  }
  // Creating an env provisions it through the env machine; it is ready once that has finished.
  await bp.platform.orchestrator.idle();
  await bp.call('PATCH', `${envPath(r)}/config`, { set: { GREETING: 'ahoy' } }, 200);
  await bp.call('PUT', `${envPath(r)}/secrets/db`, { values: { PASSWORD: 'correct-horse' } }, 200);
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
