// Issue 12: a hostile tenant in org B, as an instance and as an exec session, tries every way to
// org A's secrets, volume, release and processes, and to the platform's own files and store; each
// attempt must be denied. Runs in the sandbox this machine gives (CI runs as root: uid per env).
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import WebSocket from 'ws';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { EnvRef, InstanceStatus } from '../functions/core/ports.ts';
import { detectSandbox } from '../functions/drivers/local/sandbox/sandbox.ts';
import { issueOwnerToken } from '../functions/api/auth.ts';
import { InstanceSandbox } from '../functions/drivers/local/instance-sandbox.ts';
import { ProcessDriver } from '../functions/drivers/local/process-driver.ts';
import { writeCredentials } from '../functions/embedded/credentials.ts';
import { startEmbeddedPlatform } from '../functions/embedded/platform.ts';
import { HOSTILE_SERVER, PROBE_SOURCE, type ProbeAttempt, type ProbeTargets } from './support/hostile-probe.ts';
import { createReadyEnv, envPath, httpGet, startOpsPlatform, uploadApp, type OpsPlatform } from './support/ops-harness.ts';
import { instancePids } from './support/processes.ts';

const VICTIM: EnvRef = { org: 'victim', project: 'bank', app: 'vault', env: 'prod' };
const HOSTILE: EnvRef = { org: 'hostile', project: 'games', app: 'probe', env: 'prod' };
const VICTIM_SECRET = 'victim-secret-9f3a1c';
const DIARY = 'victim-volume-diary-77b2';

const VICTIM_SERVER = `import { createServer } from 'node:http';
import { writeFileSync } from 'node:fs';
writeFileSync(process.env.BERTH_VOLUME_DATA + '/diary.txt', ${JSON.stringify(DIARY)});
createServer((req, res) => res.end('vault')).listen(Number(process.env.PORT));
`;

const manifest = (app: string, volume: boolean) =>
  [
    `app: ${app}`,
    'workloads:',
    '  web:',
    '    command: ["node", "server.mjs"]',
    '    ports: [8080]',
    '    healthCheck: { type: http, path: /, intervalSeconds: 0.2, deadlineSeconds: 10 }',
    ...(volume ? ['    volumes: [{ volume: data, path: /data }]', 'volumes:', '  data: { sizeGiB: 1 }'] : []),
    '',
  ].join('\n');

let dir: string;
let home: string;
let ops: OpsPlatform;
let victim: InstanceStatus;
let hostile: InstanceStatus;
let victimRelease: string;
let victimVolume: string;

async function deploy(ref: EnvRef, source: string, volume: boolean, extraFiles: Record<string, string> = {}): Promise<{ instance: InstanceStatus; release: string }> {
  const appDir = join(dir, ref.org);
  mkdirSync(appDir, { recursive: true });
  for (const [name, text] of Object.entries(extraFiles)) writeFileSync(join(appDir, name), text);
  const digest = await uploadApp(ops, ref.org, appDir, source);
  const r = await ops.call('POST', `${envPath(ref)}/deploys`, { manifest: manifest(ref.app, volume), artifactDigest: digest });
  expect(r.status, r.text).toBe(202);
  await ops.platform.orchestrator.idle();
  const [instance] = await ops.platform.deps.compute.list(ref);
  expect(instance?.state).toBe('healthy');
  return { instance, release: join(home, 'artifacts', 'unpacked', digest.replace(/^sha256:/, '')) };
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'berth-isolation-'));
  home = join(dir, 'home');
  ops = await startOpsPlatform(home);
  // What `npm start` leaves for the CLI: the owner token, in the data dir.
  writeCredentials(home, { api: ops.platform.url, token: ops.token });

  await createReadyEnv(ops, VICTIM);
  expect((await ops.call('PUT', `${envPath(VICTIM)}/secrets/vault`, { values: { TOKEN: VICTIM_SECRET } })).status).toBe(200);
  const v = await deploy(VICTIM, VICTIM_SERVER, true);
  victim = v.instance;
  victimRelease = v.release;
  victimVolume = join(home, 'volumes', VICTIM.org, VICTIM.project, VICTIM.app, VICTIM.env, 'data');
  expect(readFileSync(join(victimVolume, 'diary.txt'), 'utf8')).toBe(DIARY);

  await createReadyEnv(ops, HOSTILE);
  const victimDir = join(home, 'instances', 'instances', victim.id);
  const targets: ProbeTargets = {
    home,
    read: [
      join(home, 'credentials.json'),
      join(home, 'secrets.key'),
      join(home, 'instances', 'uids.json'),
      join(victimDir, 'secrets', 'vault.json'),
      join(victimDir, 'process.json'),
      join(victimVolume, 'diary.txt'),
      join(victimRelease, 'server.mjs'),
      ...readdirSync(join(home, 'dynamo')).map((f) => join(home, 'dynamo', f)),
    ],
    list: [home, join(home, 'dynamo'), join(home, 'instances', 'instances'), join(home, 'volumes'), victimVolume],
    write: [join(victimRelease, 'pwned'), join(victimVolume, 'pwned'), join(home, 'pwned'), '/usr/bin/pwned', '/etc/pwned', '/pwned'],
    sockets: [join(home, 'dynamo.sock')],
    pids: instancePids(victim.id),
    api: ops.platform.url,
  };
  expect(targets.pids).toHaveLength(1);
  expect((await ops.call('PATCH', `${envPath(HOSTILE)}/config`, { set: { PROBE_TARGETS: JSON.stringify(targets) } })).status).toBe(200);
  hostile = (await deploy(HOSTILE, HOSTILE_SERVER, false, { 'probe.mjs': PROBE_SOURCE })).instance;
}, 60_000);

afterAll(async () => {
  await ops?.platform.close();
  rmSync(dir, { recursive: true, force: true });
});

/** Runs `argv` in an instance of the hostile env through the exec WebSocket, as `berth exec` does. */
async function execOnce(instance: string, argv: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const res = await ops.call('POST', `${envPath(HOSTILE)}/exec-sessions`, { instance, argv, tty: false });
  expect(res.status, res.text).toBe(201);
  const ws = new WebSocket(`${ops.platform.url.replace(/^http/, 'ws')}${res.body.session.channel.path}`);
  let stdout = '';
  let stderr = '';
  const code = await new Promise<number>((resolve, reject) => {
    ws.once('error', reject);
    ws.once('open', () => ws.send(JSON.stringify({ type: 'start', argv })));
    ws.on('message', (raw) => {
      const m = JSON.parse(raw.toString());
      if (m.type === 'stdout') stdout += Buffer.from(m.data, 'base64').toString();
      if (m.type === 'stderr') stderr += Buffer.from(m.data, 'base64').toString();
      if (m.type === 'exit') resolve(m.code);
    });
  });
  return { code, stdout, stderr };
}

/** Every attempt denied, and nothing of org A's or the platform's anywhere in the report. */
function expectAllDenied(report: ProbeAttempt[]): void {
  expect(report.length).toBeGreaterThan(30);
  const leaks = report.filter((a) => !a.outcome.startsWith('denied'));
  expect(leaks, JSON.stringify(leaks, null, 2)).toEqual([]);
  const text = JSON.stringify(report);
  for (const secret of [VICTIM_SECRET, DIARY, ops.token, readFileSync(join(home, 'secrets.key'), 'utf8')]) expect(text).not.toContain(secret);
}

describe('a hostile instance of org B', () => {
  it('runs in a sandbox on this machine', () => {
    expect(detectSandbox().kind).not.toBe('none');
  });

  it('is denied the credentials, the secrets key, the store, org A\'s secrets, volume, release and processes, and the API', async () => {
    const { status, body } = await httpGet(hostile.addresses[8080].port, '/probe', '127.0.0.1');
    expect(status).toBe(200);
    const report = JSON.parse(body) as ProbeAttempt[];
    expectAllDenied(report);
    // The attempts that matter, by name: a regression shows which way opened.
    const whats = report.map((a) => a.what);
    expect(whats).toContain(`read ${join(home, 'credentials.json')}`);
    expect(whats).toContain(`connect ${join(home, 'dynamo.sock')}`);
    expect(whats).toContain("other instances' /proc/*/environ");
    expect(whats).toContain('GET /v1/whoami without a token');
  });

  it('is denied the same as an exec session in its instance', async () => {
    const r = await execOnce(hostile.id, ['node', 'probe.mjs', 'run']);
    expect(r.code, r.stderr).toBe(0);
    expectAllDenied(JSON.parse(r.stdout) as ProbeAttempt[]);
  });

  it('left org A untouched: its release, its volume and its instance', async () => {
    expect(existsSync(join(victimRelease, 'pwned'))).toBe(false);
    expect(existsSync(join(victimVolume, 'pwned'))).toBe(false);
    expect(existsSync(join(home, 'pwned'))).toBe(false);
    expect(readFileSync(join(victimVolume, 'diary.txt'), 'utf8')).toBe(DIARY);
    const [now] = await ops.platform.deps.compute.list(VICTIM);
    expect(now).toMatchObject({ id: victim.id, state: 'healthy', restarts: 0 });
  });

  it('sees its own things at sandbox paths that name no host path', async () => {
    const { stdout } = await execOnce(hostile.id, ['sh', '-c', 'echo $BERTH_SECRETS_DIR; ls $BERTH_SECRETS_DIR; pwd; id -u']);
    const [secretsDir, bundle, cwd, uid] = stdout.trim().split('\n');
    expect(secretsDir).toBe('/berth/secrets');
    expect(bundle).toBe('db.json');
    expect(cwd).toBe('/app');
    expect(Number(uid)).not.toBe(0);
    expect(stdout).not.toContain(home);
  });
});

describe('what the platform says of its isolation', () => {
  it('/v1/health and env status report the sandbox and whether limits are enforced', async () => {
    const health = await (await fetch(`${ops.platform.url}/v1/health`)).json();
    expect(health.isolation).toMatchObject({ kind: detectSandbox().kind, isolated: true, limitsEnforced: detectSandbox().cgroups !== undefined });
    const status = await ops.call('GET', `${envPath(HOSTILE)}/status`);
    expect(status.body.status.isolation).toEqual(health.isolation);
  });

  it('without a sandbox, says so on the second org and in status', async () => {
    const bare = await startEmbeddedPlatform({
      home: join(dir, 'bare'),
      port: 0,
      version: 'test',
      reconcileIntervalMs: 0,
      console: false,
      compute: (parts) => new ProcessDriver({ ...parts, sandbox: new InstanceSandbox({ kind: 'none', why: 'BERTH_SANDBOX=off is set' }, parts.dataDir) }),
    });
    try {
      const { token } = await issueOwnerToken(bare.deps.store, 'tester');
      const post = async (name: string) =>
        (await fetch(`${bare.url}/v1/orgs`, { method: 'POST', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' }, body: JSON.stringify({ name }) })).json();
      expect((await post('first')).warnings).toBeUndefined();
      const second = await post('second');
      expect(second.warnings).toEqual([expect.stringMatching(/^NOT ISOLATED: .*orgs on this platform are not isolated from each other's code \(this platform now has 2 orgs\)$/)]);
      const health = await (await fetch(`${bare.url}/v1/health`)).json();
      expect(health.isolation).toMatchObject({ kind: 'none', isolated: false, limitsEnforced: false });
      expect(health.isolation.summary).toContain('NOT ISOLATED: instances run as the current user with no sandbox (BERTH_SANDBOX=off is set)');
    } finally {
      await bare.close();
    }
  });
});

describe("the platform's own files", () => {
  it('are private to the platform user: the data dir 0700, credentials and the secrets key 0600', () => {
    expect(statSync(home).mode & 0o777).toBe(0o700);
    expect(statSync(join(home, 'credentials.json')).mode & 0o777).toBe(0o600);
    expect(statSync(join(home, 'secrets.key')).mode & 0o777).toBe(0o600);
  });
});
