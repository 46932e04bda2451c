// Shared by the rollout tests (zero downtime, crash recovery, drift): a tiny HTTP app that says
// which release and instance answered, a manifest for it, an API client, and process helpers.
import { mkdirSync, readdirSync, readFileSync, readlinkSync, rmSync, writeFileSync } from 'node:fs';
import { expect } from 'vitest';
import { request } from 'node:http';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { packSnapshot } from '../../cli/lib/pack-snapshot.ts';
import { pathFor } from '../../functions/contract/path.ts';
import { destroyEnv } from '../../functions/contract/routes/index.ts';

/**
 * Answers every request with `{ release, instance }` (from BERTH_RELEASE / BERTH_INSTANCE_ID) and
 * stops gracefully on SIGTERM (server.close, then exit). With LISTEN_AFTER_MS set it only starts
 * listening after that long, so its health check cannot pass before then.
 */
const SERVER = `import { createServer } from 'node:http';
const port = Number(process.env.PORT);
const listenAfterMs = Number(process.env.LISTEN_AFTER_MS ?? 0);
const server = createServer((req, res) => {
  res.writeHead(200, { 'content-type': 'application/json', connection: 'close' });
  res.end(JSON.stringify({ release: process.env.BERTH_RELEASE, instance: process.env.BERTH_INSTANCE_ID }) + '\\n');
});
setTimeout(() => server.listen(port, '127.0.0.1', () => console.log('INFO listening on ' + port)), listenAfterMs);
process.on('SIGTERM', () => {
  console.log('INFO SIGTERM: closing');
  server.close(() => process.exit(0));
});
`;

/** Writes the app into `dir` (created if needed). */
export function writeRolloutApp(dir: string): void {
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'server.mjs'), SERVER);
}

export interface RolloutManifestOptions {
  app: string;
  count: number;
  endpointPort: number;
  maxSurge?: number;
  intervalSeconds?: number;
  deadlineSeconds?: number;
  /** The app listens only after this long (its health check fails until then). */
  listenAfterMs?: number;
  /** Changes the manifest (and so the revision) without changing anything else. */
  marker?: string;
}

export function rolloutManifest(o: RolloutManifestOptions): string {
  const env: Record<string, string> = { LISTEN_AFTER_MS: String(o.listenAfterMs ?? 0) };
  if (o.marker) env.MARKER = o.marker;
  return stringify({
    app: o.app,
    workloads: {
      web: {
        command: ['node', 'server.mjs'],
        count: o.count,
        ports: [8080],
        env,
        healthCheck: { type: 'http', path: '/', intervalSeconds: o.intervalSeconds ?? 0.2, deadlineSeconds: o.deadlineSeconds ?? 20 },
        ...(o.maxSurge !== undefined ? { rollout: { maxSurge: o.maxSurge } } : {}),
      },
    },
    endpoints: { web: { workload: 'web', port: o.endpointPort, targetPort: 8080 } },
  });
}

export interface ApiResult {
  status: number;
  body: Record<string, any>;
}

export interface EventRecord {
  id: string;
  type: string;
  message: string;
  operationId?: string;
  step?: string;
  instance?: string;
}

/** The HTTP API with a bearer token, scoped to one env. */
export class RolloutClient {
  readonly envPath: string;

  constructor(
    public url: string,
    private readonly token: string,
    readonly names: { org: string; project: string; app: string; env: string },
  ) {
    this.envPath = pathFor(destroyEnv, names);
  }

  async call(method: string, path: string, body?: unknown): Promise<ApiResult> {
    const res = await fetch(`${this.url}${path}`, {
      method,
      headers: { authorization: `Bearer ${this.token}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    return { status: res.status, body: (await res.json()) as Record<string, any> };
  }

  /** Creates the org, project, app and env (an existing one is fine). */
  async createEnv(): Promise<void> {
    const { org, project, app, env } = this.names;
    const steps: [string, string][] = [
      ['/v1/orgs', org],
      [`/v1/orgs/${org}/projects`, project],
      [`/v1/orgs/${org}/projects/${project}/apps`, app],
      [`/v1/orgs/${org}/projects/${project}/apps/${app}/envs`, env],
    ];
    for (const [path, name] of steps) {
      const r = await this.call('POST', path, { name });
      if (r.status !== 201 && r.status !== 409) throw new Error(`POST ${path} answered ${r.status}: ${JSON.stringify(r.body)}`);
      // Creating an env may start an operation of its own (provisioning); the env is busy until it ends.
      if (typeof r.body.operationId === 'string') {
        const op = await this.waitOperation(r.body.operationId);
        if (op.status !== 'succeeded') throw new Error(`creating env ${env} failed: ${JSON.stringify(op.error)}`);
      }
    }
  }

  /** Packs and uploads the app dir; resolves with its digest. */
  async upload(dir: string): Promise<string> {
    const snapshot = await packSnapshot(dir);
    const res = await fetch(`${this.url}/v1/orgs/${this.names.org}/artifacts/${snapshot.digest}`, { method: 'PUT', headers: { authorization: `Bearer ${this.token}` }, body: Buffer.from(snapshot.bytes) });
    if (res.status !== 201 && res.status !== 200) throw new Error(`artifact upload answered ${res.status}: ${await res.text()}`);
    return snapshot.digest;
  }

  /** Starts a deploy; resolves with the receipt (throws unless 202). */
  async deploy(manifest: string, artifactDigest: string): Promise<{ operationId: string; releaseId: string }> {
    const r = await this.call('POST', `${this.envPath}/deploys`, { manifest, artifactDigest });
    if (r.status !== 202) throw new Error(`deploy answered ${r.status}: ${JSON.stringify(r.body)}`);
    return r.body.receipt;
  }

  async operation(id: string): Promise<Record<string, any>> {
    const r = await this.call('GET', `${this.envPath}/operations/${id}`);
    if (r.status !== 200) throw new Error(`GET operation ${id} answered ${r.status}: ${JSON.stringify(r.body)}`);
    return r.body.operation;
  }

  /** Polls the operation until it is no longer running; resolves with it. */
  async waitOperation(id: string, timeoutMs = 20_000): Promise<Record<string, any>> {
    return until(async () => {
      const op = await this.operation(id);
      return op.status !== 'running' ? op : undefined;
    }, timeoutMs, `operation ${id} to finish`);
  }

  async status(): Promise<Record<string, any>> {
    const r = await this.call('GET', `${this.envPath}/status`);
    if (r.status !== 200) throw new Error(`GET status answered ${r.status}: ${JSON.stringify(r.body)}`);
    return r.body.status;
  }

  async events(): Promise<EventRecord[]> {
    const r = await this.call('GET', `${this.envPath}/events?limit=1000`);
    if (r.status !== 200) throw new Error(`GET events answered ${r.status}: ${JSON.stringify(r.body)}`);
    return r.body.events;
  }
}

/** Polls `probe` every `everyMs` until it returns something other than undefined/false. */
export async function until<T>(probe: () => Promise<T | undefined | false> | T | undefined | false, timeoutMs: number, what: string, everyMs = 100): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  for (;;) {
    try {
      const value = await probe();
      if (value !== undefined && value !== false) return value as T;
    } catch (err) {
      lastError = err;
    }
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${lastError ? ` (last error: ${(lastError as Error).message})` : ''}`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}

/** One GET over a NEW connection to [::1]:port (no keep-alive agent). */
export function get6(port: number, path = '/', timeoutMs = 5000): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '::1', family: 6, port, path, method: 'GET', agent: false, timeout: timeoutMs }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (d) => (body += d));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
      res.on('error', reject);
    });
    req.on('timeout', () => req.destroy(new Error(`no answer within ${timeoutMs} ms`)));
    req.on('error', reject);
    req.end();
  });
}

/** The pid the process driver recorded for an instance (`<home>/instances/instances/<id>/process.json`). */
export function instancePid(home: string, instanceId: string): number {
  const record = JSON.parse(readFileSync(join(home, 'instances', 'instances', instanceId, 'process.json'), 'utf8')) as { pid: number };
  return record.pid;
}

/** Linux: whether `pid` is a living process (a zombie counts as gone). */
export function processAlive(pid: number): boolean {
  let stat: string;
  try {
    stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return false;
  }
  const state = stat.slice(stat.lastIndexOf(')') + 2).split(' ')[0];
  return state !== 'Z' && state !== 'X';
}

/** Linux: the parent pid of `pid`, or undefined when it is gone. */
export function parentPid(pid: number): number | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
  } catch {
    return undefined;
  }
}

/**
 * Linux: the living processes that belong to a test's temp dir: whose working directory is under
 * `dir` (instances run in `<home>/artifacts/unpacked/…`) or whose command line names it (the
 * platform process, `--home <dir>/…`). Catches instances nobody recorded a pid for.
 */
export function processesUnder(dir: string): { pid: number; what: string }[] {
  const found: { pid: number; what: string }[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry) || Number(entry) === process.pid) continue;
    const pid = Number(entry);
    let cwd = '';
    let cmdline = '';
    try {
      cwd = readlinkSync(`/proc/${pid}/cwd`);
    } catch {
      /* gone, or not ours to read */
    }
    try {
      cmdline = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').join(' ').trim();
    } catch {
      /* gone */
    }
    if ((cwd.startsWith(dir) || cmdline.includes(dir)) && processAlive(pid)) found.push({ pid, what: `${cmdline} (cwd ${cwd})` });
  }
  return found;
}

/** Closes the platform, then checks (and cleans up) that none of the test's processes outlived it. */
export async function closeLeavingNothing(platform: { close(): Promise<void> } | undefined, dir: string): Promise<void> {
  await platform?.close();
  const leaked = processesUnder(dir);
  for (const { pid } of leaked) process.kill(pid, 'SIGKILL');
  rmSync(dir, { recursive: true, force: true });
  expect(leaked, 'instance processes still running after platform.close()').toEqual([]);
}
