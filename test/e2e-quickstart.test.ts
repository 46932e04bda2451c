// The README's quick start, end to end, through the CLI as a subprocess against `npm start`'s entry:
// org → project → app → env → (blocked deploy) → config → secret → deploy → wait → request over
// IPv6 → logs → status; then a broken release that fails clearly while the old one keeps serving.
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse, stringify } from 'yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runBerth, startPlatformProcess, type RunningPlatform } from './support/cli-harness.ts';
import { freePort } from './support/free-port.ts';

const EXAMPLE = fileURLToPath(new URL('../examples/hello/', import.meta.url));

let dir: string;
let home: string;
let appDir: string;
let port: number;
let platform: RunningPlatform;
const env = () => ({ BERTH_HOME: home });
const berth = (args: string[], cwd = appDir, input?: string) => runBerth(args, { cwd, env: env(), input });

function get(path: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '::1', family: 6, port, path, method: 'GET' }, (res) => {
      let body = '';
      res.on('data', (d) => (body += d));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'berth-e2e-'));
  home = join(dir, 'home');
  appDir = join(dir, 'hello');
  cpSync(EXAMPLE, appDir, { recursive: true });
  // The example listens on 8080; give this run its own free port so tests never collide.
  port = await freePort();
  const manifest = parse(readFileSync(join(appDir, 'berth.yaml'), 'utf8'));
  manifest.endpoints.web.port = port;
  manifest.endpoints.web.targetPort = 8080;
  writeFileSync(join(appDir, 'berth.yaml'), stringify(manifest));
  platform = await startPlatformProcess(home);
});

afterAll(async () => {
  await platform?.stop();
  rmSync(dir, { recursive: true, force: true });
});

describe('quick start through the CLI', () => {
  it('creates the org, project, app and env, each selected for the next command', async () => {
    for (const [noun, name] of [['orgs', 'acme'], ['projects', 'shop'], ['apps', 'hello'], ['envs', 'prod']]) {
      const r = await berth([noun, 'create', name]);
      expect(r.stderr).toBe('');
      expect(r.code).toBe(0);
      expect(r.stdout).toContain(`Created ${noun.slice(0, -1)} ${name}`);
    }
    const envs = await berth(['envs', 'list', '--json']);
    expect(JSON.parse(envs.stdout).map((e: { env: string }) => e.env)).toEqual(['prod']);
  });

  it('blocks a deploy with missing config before any release exists (config-missing, exit 3)', async () => {
    const r = await berth(['deploy']);
    expect(r.code).toBe(3);
    expect(r.stderr).toContain('Error (config-missing)');
    expect(r.stderr).toContain('requires config key GREETING');
    expect(r.stderr).toContain('requires secret bundle db');
    expect(r.stderr).toContain('berth config set GREETING=<value>');
    expect(r.stderr).toContain('berth secrets set db KEY=<value>');
    const releases = await berth(['releases', '--json']);
    expect(JSON.parse(releases.stdout).releases).toEqual([]);
    const json = await berth(['deploy', '--json']);
    expect(json.code).toBe(3);
    expect(JSON.parse(json.stdout).error).toMatchObject({ category: 'config-missing', code: 'required-config-missing' });
  });

  it('sets config and a secret bundle without ever printing the secret', async () => {
    expect((await berth(['config', 'set', 'GREETING=ahoy'])).code).toBe(0);
    const secret = await berth(['secrets', 'set', 'db', 'PASSWORD=correct-horse-battery', 'USER=app']);
    expect(secret.code).toBe(0);
    const list = await berth(['secrets', 'list']);
    expect(list.stdout).toContain('db');
    for (const out of [secret.stdout, secret.stderr, list.stdout]) expect(out).not.toContain('correct-horse-battery');
  });

  it('deploys, waits to convergence and serves the release over IPv6', async () => {
    const deploy = await berth(['deploy']);
    expect(deploy.code).toBe(0);
    expect(deploy.stdout).toContain('Release rel-1 accepted for acme/shop/hello/prod');
    expect(deploy.stdout).toMatch(/config\s+v1 \(changed: GREETING\)/);
    expect(deploy.stdout).toContain('berth wait op-');
    const wait = await berth(['wait']);
    expect(wait.stderr).toBe('');
    expect(wait.code).toBe(0);
    expect(wait.stdout).toContain('succeeded: rel-1 is live');

    const res = await get('/e2e-probe');
    expect(res.status).toBe(200);
    const body = JSON.parse(res.body);
    expect(body.release).toBe('rel-1');
    expect(body.greeting).toBe('ahoy');
    expect(body.instance).toMatch(/^i-[0-9a-f]{8}$/);
    expect(body.secrets).toMatch(/^db: 2 keys \(sha256 [0-9a-f]{12}\)$/);
  });

  it('shows the request in the logs and the env as 1/1 healthy', async () => {
    const logs = await berth(['logs', '--source', 'app', '--since', '5m']);
    expect(logs.code).toBe(0);
    expect(logs.stdout).toMatch(/^\S+Z app +web\/i-[0-9a-f]{8} info +INFO GET \/e2e-probe from /m);

    const status = await berth(['status']);
    expect(status.code).toBe(0);
    expect(status.stdout).toContain('converged');
    expect(status.stdout).toMatch(/web\s+1\s+1\/1 healthy\s+256\/512\s+rel-1/);
    expect(status.stdout).toContain(`[::1]:${port}`);
    const json = JSON.parse((await berth(['status', '--json'])).stdout);
    expect(json.workloads[0]).toMatchObject({ name: 'web', desired: { count: 1, releaseId: 'rel-1' }, current: { running: 1, healthy: 1 } });
  });

  it('shows what a release pins, and what the org exposes to the internet', async () => {
    const [show, all] = await Promise.all([berth(['releases', 'show', 'rel-1']), berth(['endpoints', 'list', '--all'])]);
    expect(show.code).toBe(0);
    expect(show.stdout).toMatch(/rel-1\s+active/);
    expect(show.stdout).toMatch(/artifact\s+sha256:[0-9a-f]{64}/);
    expect(show.stdout).toContain('secrets   db@v1');
    expect(show.stdout).toContain('berth rollback rel-1');
    expect(all.code).toBe(0);
    expect(all.stdout).toMatch(new RegExp(`acme/shop/hello/prod\\s+web\\s+\\[::1\\]:${port}\\s+web:8080 \\(1 target\\)\\s+IPv6 only`));
  });

  it('fails a release whose command exits at start with health-check, keeps rel-1 serving, and says what to do', async () => {
    const manifest = parse(readFileSync(join(appDir, 'berth.yaml'), 'utf8'));
    manifest.workloads.web.command = ['node', 'missing.js'];
    writeFileSync(join(appDir, 'berth.yaml'), stringify(manifest));
    const r = await berth(['deploy', '--wait']);
    expect(r.code).toBe(7);
    expect(r.stdout).toContain('Release rel-2 accepted');
    expect(r.stderr).toContain('Error (health-check)');
    expect(r.stderr).toContain('failed at step WaitForBatchHealthy');
    expect(r.stderr).toMatch(/berth logs --instance i-[0-9a-f]{8}/);
    expect(r.stderr).toContain('Cannot find module');
    // The instance's output is shown once, under "Last log lines"; the progress lines stay one line each.
    expect(r.stderr.match(/Error: Cannot find module/g)).toHaveLength(1);
    expect(r.stderr).toMatch(/Last log lines of i-[0-9a-f]{8}:\n/);
    expect(r.stdout).not.toContain('Cannot find module');

    const res = await get('/after-failure');
    expect(JSON.parse(res.body).release).toBe('rel-1');
    const releases = JSON.parse((await berth(['releases', '--json'])).stdout);
    expect(releases.releases.map((x: { id: string; status: string }) => `${x.id}:${x.status}`)).toEqual(['rel-2:failed', 'rel-1:active']);
    const status = JSON.parse((await berth(['status', '--json'])).stdout);
    expect(status).toMatchObject({ currentReleaseId: 'rel-1', desiredReleaseId: 'rel-1', converged: true });
    expect(status.lastOperation.error).toMatchObject({ category: 'health-check', step: 'WaitForBatchHealthy' });
  });
});
