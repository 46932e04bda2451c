// Flows 7 and 8 through the CLI as a subprocess against `npm start`'s entry: expose an extra
// endpoint (IPv6 + IPv4) and close it again; create, inspect, grow, snapshot and delete a volume;
// then destroy the env, which stops everything and refuses later deploys.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runBerth, startPlatformProcess, type RunningPlatform } from './support/cli-harness.ts';
import { freePort } from './support/free-port.ts';

const SERVER = `import { createServer } from 'node:http';
createServer((req, res) => res.end(JSON.stringify({ instance: process.env.BERTH_INSTANCE_ID, path: req.url })))
  .listen(Number(process.env.PORT ?? 8080));
`;

let dir: string;
let home: string;
let appDir: string;
let webPort: number;
let extraPort: number;
let platform: RunningPlatform;
const berth = (args: string[]) => runBerth(args, { cwd: appDir, env: { BERTH_HOME: home } });

function get(host: string, port: number, path: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request({ host, port, path, method: 'GET' }, (res) => {
      let body = '';
      res.on('data', (d) => (body += d));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

/** Resolves with the error code of a TCP connect ('ECONNREFUSED'), or 'connected'. */
function connectOutcome(host: string, port: number): Promise<string> {
  return new Promise((resolve) => {
    const socket = connect({ host, port });
    socket.once('connect', () => {
      socket.destroy();
      resolve('connected');
    });
    socket.once('error', (err: NodeJS.ErrnoException) => resolve(err.code ?? err.message));
  });
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'berth-resources-'));
  home = join(dir, 'home');
  appDir = join(dir, 'app');
  mkdirSync(appDir);
  webPort = await freePort();
  extraPort = await freePort();
  writeFileSync(join(appDir, 'server.mjs'), SERVER);
  const manifest = {
    app: 'store',
    workloads: { web: { command: ['node', 'server.mjs'], ports: [8080], healthCheck: { type: 'http', path: '/' } } },
    endpoints: { web: { workload: 'web', port: webPort, targetPort: 8080 } },
  };
  writeFileSync(join(appDir, 'berth.yaml'), stringify(manifest));
  platform = await startPlatformProcess(home);
  for (const [noun, name] of [['orgs', 'acme'], ['projects', 'shop'], ['apps', 'store'], ['envs', 'prod']]) {
    const r = await berth([noun, 'create', name]);
    if (r.code !== 0) throw new Error(`${noun} create failed: ${r.stderr}`);
  }
  const deploy = await berth(['deploy', '--wait']);
  if (deploy.code !== 0) throw new Error(`deploy failed:\n${deploy.stdout}\n${deploy.stderr}\n${platform.output()}`);
}, 90_000);

afterAll(async () => {
  await platform?.stop();
  rmSync(dir, { recursive: true, force: true });
});

// Each CLI run starts node and tsx, so commands that do not depend on each other run side by side.
describe('endpoints through the CLI', () => {
  it('creates an extra IPv6+IPv4 endpoint with --wait and serves it over 127.0.0.1', async () => {
    const r = await berth(['endpoints', 'create', 'extra', '--workload', 'web', '--port', String(extraPort), '--target-port', '8080', '--ipv4', '--wait']);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/Endpoint extra: create accepted for acme\/shop\/store\/prod; applying as op-/);
    expect(r.stdout).toContain('berth endpoints show extra');
    expect(r.stdout).toMatch(/op-\S+ succeeded/);

    const res = await get('127.0.0.1', extraPort, '/via-ipv4');
    expect(res.status).toBe(200);
    expect(JSON.parse(res.body).path).toBe('/via-ipv4');
  });

  it('lists manifest and API endpoints with their addresses, and shows one with its notes', async () => {
    const [list, json, show, badPort] = await Promise.all([
      berth(['endpoints', 'list']),
      berth(['endpoints', 'list', '--json']),
      berth(['endpoints', 'show', 'extra']),
      berth(['endpoints', 'create', 'bad', '--workload', 'web', '--port', 'http']),
    ]);
    expect(list.code).toBe(0);
    const line = (name: string) => list.stdout.split('\n').find((l) => l.startsWith(`${name} `)) ?? '';
    expect(list.stdout).toMatch(/^NAME\s+SOURCE\s+ADDRESS\s+WORKLOAD\s+NOTES/);
    expect(line('web')).toMatch(new RegExp(`^web\\s+manifest\\s+\\[::1\\]:${webPort}\\s+web:8080 \\(1 target\\)\\s+IPv6 only`));
    expect(line('web')).not.toContain('127.0.0.1');
    expect(line('extra')).toMatch(new RegExp(`^extra\\s+api\\s+\\[::1\\]:${extraPort} 127\\.0\\.0\\.1:${extraPort}\\s+web:8080 \\(1 target\\)\\s+IPv6 and IPv4`));
    expect(line('extra')).toContain("TLS is the app's job");
    expect(JSON.parse(json.stdout).map((e: { name: string; source: string }) => `${e.name}:${e.source}`)).toEqual(['extra:api', 'web:manifest']);

    expect(show.code).toBe(0);
    expect(show.stdout).toContain(`[::1]:${extraPort} 127.0.0.1:${extraPort}`);
    expect(show.stdout).toMatch(/^ {2}IPv6 and IPv4/m);
    expect(show.stdout).toMatch(/^ {2}no PROXY protocol/m);
    expect(show.stdout).toMatch(/^ {2}TLS is the app's job: raw TCP is forwarded to port 8080 of workload "web"$/m);

    expect(badPort.code).toBe(2);
    expect(badPort.stderr).toContain('--port must be a whole number');
  });

  it('deletes the extra endpoint with --wait and its port refuses connections', async () => {
    const r = await berth(['endpoints', 'delete', 'extra', '--wait']);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('Endpoint extra: delete accepted');
    expect(await connectOutcome('127.0.0.1', extraPort)).toBe('ECONNREFUSED');
    expect(await connectOutcome('::1', extraPort)).toBe('ECONNREFUSED');
    expect((await berth(['endpoints', 'list'])).stdout).not.toMatch(/^extra /m);
  });
});

describe('volumes through the CLI', () => {
  it('creates a One Zone volume and shows its placement and operations', async () => {
    const r = await berth(['volumes', 'create', 'data', '--size', '1', '--zone', 'eu-west-1a', '--wait']);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('Volume data: create accepted');

    const [show, list] = await Promise.all([berth(['volumes', 'show', 'data']), berth(['volumes', 'list'])]);
    expect(show.code).toBe(0);
    expect(show.stdout).toMatch(/^Size\s+1 GiB$/m);
    expect(show.stdout).toMatch(/^Zone\s+eu-west-1a$/m);
    expect(show.stdout).toContain('One Zone');
    // Mounting needs the manifest to declare it too; show says exactly what to write.
    expect(show.stdout).toMatch(/^Attached\s+not mounted$/m);
    expect(show.stdout).toContain('  volumes:  { data: { sizeGiB: 1, zone: eu-west-1a } }\n  workloads.<name>.volumes:  [{ volume: data, path: /data }]');
    expect(show.stdout).toMatch(/^Operations:\n {2}berth volumes resize data --size <GiB>$/m);
    expect(show.stdout).toContain('berth volumes snapshot data');
    expect(list.stdout).toMatch(/^NAME\s+SIZE\s+ZONE\s+ATTACHED\s+SNAPSHOTS\ndata\s+1 GiB\s+eu-west-1a\s+-\s+0$/m);
  });

  it('grows the volume, takes a snapshot, and refuses to shrink it (invalid-input, exit 2)', async () => {
    const resize = await berth(['volumes', 'resize', 'data', '--size', '2', '--wait']);
    expect(resize.code).toBe(0);
    expect(resize.stdout).toMatch(/size\s+2 GiB/);
    const snap = await berth(['volumes', 'snapshot', 'data', '--wait']);
    expect(snap.code).toBe(0);
    const id = /snapshot\s+(snap-\S+)/.exec(snap.stdout)?.[1];
    expect(id).toBeDefined();

    const [snapshots, list, shrink] = await Promise.all([berth(['volumes', 'snapshots', 'data']), berth(['volumes', 'list']), berth(['volumes', 'resize', 'data', '--size', '1'])]);
    expect(snapshots.code).toBe(0);
    const [table, hint] = snapshots.stdout.trim().split('\n\n');
    const rows = table.split('\n');
    expect(rows[0]).toMatch(/^ID\s+TAKEN\s+SIZE\s+CONSISTENCY$/);
    expect(rows).toHaveLength(2);
    // Taken while the app ran: crash-consistent (--stop would say "stopped").
    expect(rows[1]).toMatch(new RegExp(`^${id}\\s+\\S+Z \\(\\d+s ago\\)\\s+\\d.*\\s+crash-consistent$`));
    expect(hint).toBe('Restore one: berth volumes restore data --snapshot <ID>');
    expect(list.stdout).toMatch(/^data\s+2 GiB\s+eu-west-1a\s+-\s+1$/m);
    expect(shrink.code).toBe(2);
    expect(shrink.stderr).toContain('Error (invalid-input)');
    expect(shrink.stderr).toContain('can grow but not shrink');
  });

  it('refuses to delete without --yes, deletes with it', async () => {
    const refused = await berth(['volumes', 'delete', 'data']);
    expect(refused.code).toBe(2);
    expect(refused.stderr).toContain('pass --yes');
    expect(refused.stderr).toContain('berth volumes delete data --yes');

    const r = await berth(['volumes', 'delete', 'data', '--yes', '--wait']);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const list = await berth(['volumes', 'list']);
    expect(list.code).toBe(0);
    expect(list.stdout).toContain('No volumes.');
  });
});

describe('envs destroy through the CLI', () => {
  it('stops every instance, closes the endpoints, and refuses later deploys (conflict, exit 5)', async () => {
    expect(await connectOutcome('::1', webPort)).toBe('connected');
    const refused = await berth(['envs', 'destroy', 'prod']);
    expect(refused.code).toBe(2);
    expect(refused.stderr).toContain('pass --yes');

    const r = await berth(['envs', 'destroy', 'prod', '--yes', '--wait']);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('Destroy of acme/shop/store/prod accepted');
    expect(await connectOutcome('::1', webPort)).toBe('ECONNREFUSED');

    const [status, deploy] = await Promise.all([berth(['status', '--json']), berth(['deploy'])]);
    expect(JSON.parse(status.stdout).workloads.flatMap((w: { instances: unknown[] }) => w.instances)).toEqual([]);
    expect(deploy.code).toBe(5);
    expect(deploy.stderr).toContain('Error (conflict)');
    expect(deploy.stderr).toContain('destroyed');
  });
});
