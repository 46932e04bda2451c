// Issue 13: a shared volume is explicit and allows many writers; releases are immutable (an exec
// that edits the code changes nothing beyond its own instance's run); an app without a
// package.json runs as CommonJS even when the platform's data dir sits under an ESM project.
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import WebSocket from 'ws';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { inProcessCli } from '../bench/support/cli-in-process.ts';
import type { EnvRef } from '../functions/core/ports.ts';
import { createReadyEnv, envPath, freePort, httpGet, startOpsPlatform, uploadApp, type OpsPlatform } from './support/ops-harness.ts';

const SHARED: EnvRef = { org: 'acme', project: 'shop', app: 'tally', env: 'prod' };
const PLAIN: EnvRef = { org: 'acme', project: 'shop', app: 'plain', env: 'prod' };

// Each instance appends its id to one file on the shared volume and answers with the file.
const TALLY = `import { createServer } from 'node:http';
import { appendFileSync, readFileSync } from 'node:fs';
const file = process.env.BERTH_VOLUME_DATA + '/tally';
appendFileSync(file, process.env.BERTH_INSTANCE_ID + '\\n');
createServer((req, res) => res.end(readFileSync(file, 'utf8'))).listen(Number(process.env.PORT));
`;

// CommonJS with no package.json of its own: \`require\` must work.
const COMMONJS = `const http = require('node:http');
const fs = require('node:fs');
http.createServer((req, res) => res.end(fs.readFileSync(__dirname + '/message.txt', 'utf8'))).listen(Number(process.env.PORT));
`;

let dir: string;
let ops: OpsPlatform;
let tallyPort: number;
let plainPort: number;

async function applied(res: { status: number; body: Record<string, any>; text: string }): Promise<Record<string, any>> {
  expect(res.status, res.text).toBe(202);
  await ops.platform.orchestrator.idle();
  const op = (await ops.call('GET', `${envPath(refOf(res.body.receipt.env))}/operations/${res.body.receipt.operationId}`)).body.operation;
  expect(op.status, JSON.stringify(op.error)).toBe('succeeded');
  return res.body.receipt;
}

function refOf(label: string): EnvRef {
  const [org, project, app, env] = label.split('/');
  return { org, project, app, env };
}

async function execIn(ref: EnvRef, instance: string, argv: string[]): Promise<{ code: number; stdout: string }> {
  const res = await ops.call('POST', `${envPath(ref)}/exec-sessions`, { instance, argv, tty: false });
  expect(res.status, res.text).toBe(201);
  const ws = new WebSocket(`${ops.platform.url.replace(/^http/, 'ws')}${res.body.session.channel.path}`);
  let stdout = '';
  const code = await new Promise<number>((resolve, reject) => {
    ws.once('error', reject);
    ws.once('open', () => ws.send(JSON.stringify({ type: 'start', argv })));
    ws.on('message', (raw) => {
      const m = JSON.parse(raw.toString());
      if (m.type === 'stdout') stdout += Buffer.from(m.data, 'base64').toString();
      if (m.type === 'exit') resolve(m.code);
    });
  });
  return { code, stdout };
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'berth-access-'));
  // The data dir under an ESM project, as `npm start` in the checkout puts it.
  writeFileSync(join(dir, 'package.json'), '{ "type": "module" }\n');
  ops = await startOpsPlatform(join(dir, 'home'));
  await createReadyEnv(ops, SHARED);
  await createReadyEnv(ops, PLAIN);
  tallyPort = await freePort();
  plainPort = await freePort();
}, 60_000);

afterAll(async () => {
  await ops?.platform.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('a shared volume', () => {
  it('runs several instances on it at once, says the app must handle concurrent writers, and scales further', async () => {
    const digest = await uploadApp(ops, SHARED.org, join(dir, 'tally'), TALLY);
    const manifest = `app: tally
workloads:
  web:
    command: ["node", "server.mjs"]
    count: 2
    ports: [8080]
    healthCheck: { type: http, path: /, intervalSeconds: 0.2 }
    volumes: [{ volume: data, path: /data }]
endpoints:
  web: { workload: web, port: ${tallyPort}, targetPort: 8080 }
volumes:
  data: { sizeGiB: 1, access: shared }
`;
    const receipt = await applied(await ops.call('POST', `${envPath(SHARED)}/deploys`, { manifest, artifactDigest: digest }));
    expect(receipt.notes).toEqual([expect.stringContaining('volume data is shared')]);
    await applied(await ops.call('POST', `${envPath(SHARED)}/scale`, { workload: 'web', settings: { count: 3 } }));
    const instances = await ops.platform.deps.compute.list(SHARED);
    expect(instances.map((i) => i.state)).toEqual(['healthy', 'healthy', 'healthy']);
    const tally = (await httpGet(tallyPort)).body.trim().split('\n').sort();
    expect(tally).toEqual(instances.map((i) => i.id).sort());
  });
});

describe('a release', () => {
  let digest: string;
  let releaseDir: string;

  it('runs CommonJS without a package.json, even with the data dir under an ESM project', async () => {
    const appDir = join(dir, 'plain');
    mkdirSync(appDir);
    writeFileSync(join(appDir, 'server.js'), COMMONJS);
    writeFileSync(join(appDir, 'message.txt'), 'original code');
    digest = await uploadApp(ops, PLAIN.org, appDir, '// unused\n');
    releaseDir = join(dir, 'home', 'artifacts', 'unpacked', digest.replace(/^sha256:/, ''));
    const manifest = `app: plain
workloads:
  web:
    command: ["node", "server.js"]
    ports: [8080]
    healthCheck: { type: http, path: /, intervalSeconds: 0.2 }
endpoints:
  web: { workload: web, port: ${plainPort}, targetPort: 8080 }
`;
    await applied(await ops.call('POST', `${envPath(PLAIN)}/deploys`, { manifest, artifactDigest: digest }));
    expect((await httpGet(plainPort)).body).toBe('original code');
  });

  it('is immutable: an exec that edits its files changes nothing once the instance restarts', async () => {
    const [instance] = await ops.platform.deps.compute.list(PLAIN);
    // Release files are read-only to the instance's uid; replacing one is possible in its own layer.
    const edit = await execIn(PLAIN, instance.id, ['sh', '-c', 'rm -f message.txt && echo tampered > message.txt && cat message.txt']);
    expect(edit).toEqual({ code: 0, stdout: 'tampered\n' });
    // The release on disk is untouched; the edit lived in the instance's own writable layer.
    expect(readFileSync(join(releaseDir, 'message.txt'), 'utf8')).toBe('original code');
    // A replacement (here a new size) starts from the release again.
    await applied(await ops.call('POST', `${envPath(PLAIN)}/scale`, { workload: 'web', settings: { cpu: 512, memory: 1024 } }));
    expect((await httpGet(plainPort)).body).toBe('original code');
  });
});

describe('restoring a volume', () => {
  const NOTES: EnvRef = { org: 'acme', project: 'shop', app: 'notes', env: 'prod' };
  // Answers with the note on its volume; POST replaces it.
  const SERVER = `import { createServer } from 'node:http';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
const note = process.env.BERTH_VOLUME_DATA + '/note.txt';
createServer((req, res) => {
  if (req.method === 'POST') { let b = ''; req.on('data', (d) => (b += d)); req.on('end', () => { writeFileSync(note, b); res.end('stored'); }); return; }
  res.end(existsSync(note) ? readFileSync(note, 'utf8') : '-');
}).listen(Number(process.env.PORT));
`;
  let port: number;
  const post = (body: string) => fetch(`http://[::1]:${port}/`, { method: 'POST', body }).then((r) => r.text());
  const volumePath = (suffix = '') => `${envPath(NOTES)}/volumes/data${suffix}`;

  beforeAll(async () => {
    await createReadyEnv(ops, NOTES);
    port = await freePort();
    const digest = await uploadApp(ops, NOTES.org, join(dir, 'notes'), SERVER);
    const manifest = `app: notes
workloads:
  web:
    command: ["node", "server.mjs"]
    ports: [8080]
    healthCheck: { type: http, path: /, intervalSeconds: 0.2 }
    volumes: [{ volume: data, path: /data }]
endpoints:
  web: { workload: web, port: ${port}, targetPort: 8080 }
volumes:
  data: { sizeGiB: 1 }
`;
    await applied(await ops.call('POST', `${envPath(NOTES)}/deploys`, { manifest, artifactDigest: digest }));
  }, 60_000);

  it('brings back the snapshot\'s data, with the writer stopped meanwhile; a --stop snapshot says it is consistent', async () => {
    expect(await post('before')).toBe('stored');
    const snap = await applied(await ops.call('POST', volumePath('/snapshots'), { stop: true }));
    expect(snap.notes).toEqual(['the workloads that mount data stop until the copy is done']);
    const running = await ops.call('POST', volumePath('/snapshots'), {});
    await applied(running);
    const snapshots = (await ops.call('GET', volumePath())).body.volume.snapshots;
    expect(snapshots.map((s: { consistency: string }) => s.consistency)).toEqual(['stopped', 'crash-consistent']);
    expect((await httpGet(port)).body).toBe('before');

    expect(await post('after')).toBe('stored');
    const before = (await ops.platform.deps.compute.list(NOTES)).map((i) => i.id);
    const restore = await applied(await ops.call('POST', volumePath('/restores'), { snapshot: snap.snapshotId }));
    expect(restore).toMatchObject({ action: 'restore', snapshotId: snap.snapshotId, notes: ['the workloads that mount data stop until the restore is done'] });
    expect((await httpGet(port)).body).toBe('before');
    // A new instance: the one that had the volume open was stopped first.
    const after = await ops.platform.deps.compute.list(NOTES);
    expect(after.map((i) => i.state)).toEqual(['healthy']);
    expect(before).not.toContain(after[0].id);
  });

  it('refuses an unknown snapshot, and undoes a restore that fails halfway, the data as it was', async () => {
    const unknown = await ops.call('POST', volumePath('/restores'), { snapshot: 'snap-0000000000' });
    expect(unknown.status).toBe(404);
    expect(unknown.body.error).toMatchObject({ category: 'not-found', code: 'snapshot-not-found' });

    expect(await post('current')).toBe('stored');
    // A snapshot whose copy is gone from disk: the restore fails after the writer stopped.
    const snap = await applied(await ops.call('POST', volumePath('/snapshots'), {}));
    rmSync(join(dir, 'home', 'volumes', NOTES.org, NOTES.project, NOTES.app, NOTES.env, '.snapshots', 'data', snap.snapshotId), { recursive: true });
    const r = await ops.call('POST', volumePath('/restores'), { snapshot: snap.snapshotId });
    expect(r.status).toBe(202);
    await ops.platform.orchestrator.idle();
    const op = (await ops.call('GET', `${envPath(NOTES)}/operations/${r.body.receipt.operationId}`)).body.operation;
    expect(op).toMatchObject({ status: 'failed', error: { category: 'not-found', code: 'snapshot-not-found', step: 'ApplyVolumeChange' } });
    expect((await httpGet(port)).body).toBe('current');
    expect((await ops.platform.deps.compute.list(NOTES)).map((i) => i.state)).toEqual(['healthy']);
  });

  it('creates a new volume from a snapshot (through the CLI): a copy of its data, the original untouched', async () => {
    expect(await post('seed')).toBe('stored');
    const snap = await applied(await ops.call('POST', volumePath('/snapshots'), {}));
    expect(await post('changed later')).toBe('stored');
    const berth = inProcessCli(ops.platform.url, ops.token, NOTES);
    const created = await berth(['volumes', 'create', 'copy', '--from-snapshot', snap.snapshotId, '--wait'], true);
    expect(created.code).toBe(0);
    const volumes = join(dir, 'home', 'volumes', NOTES.org, NOTES.project, NOTES.app, NOTES.env);
    expect(readFileSync(join(volumes, 'copy', 'note.txt'), 'utf8')).toBe('seed');
    expect(readFileSync(join(volumes, 'data', 'note.txt'), 'utf8')).toBe('changed later');
    const copy = (await ops.call('GET', `${envPath(NOTES)}/volumes/copy`)).body.volume;
    expect(copy).toMatchObject({ sizeGiB: 1, source: { volume: 'data', snapshot: snap.snapshotId }, snapshots: [] });
    const shown = await berth(['volumes', 'show', 'copy'], true);
    expect(shown.stdout).toContain(`from snapshot ${snap.snapshotId} of data`);

    const unknown = await ops.call('PUT', `${envPath(NOTES)}/volumes/other`, { sizeGiB: 1, fromSnapshot: 'snap-0000000000' });
    expect(unknown.status).toBe(404);
    expect(unknown.body.error).toMatchObject({ code: 'snapshot-not-found', details: { path: 'fromSnapshot' } });
    await applied(await ops.call('PATCH', volumePath(), { sizeGiB: 3 }));
    const small = await ops.call('PUT', `${envPath(NOTES)}/volumes/other`, { sizeGiB: 2, fromSnapshot: snap.snapshotId });
    expect(small.status).toBe(400);
    expect(small.body.error.message).toContain('use --size 3 or more');
    expect((await ops.call('GET', `${envPath(NOTES)}/volumes/other`)).status).toBe(404);
  });
});

describe('workloads.<w>.user', () => {
  const USERS: EnvRef = { org: 'acme', project: 'shop', app: 'users', env: 'prod' };
  // Answers with who it is, and who owns what it wrote on its volume and its secret files.
  const WHOAMI = `import { createServer } from 'node:http';
import { statSync, writeFileSync } from 'node:fs';
import { userInfo } from 'node:os';
const file = process.env.BERTH_VOLUME_DATA + '/mine';
writeFileSync(file, 'x');
createServer((req, res) => {
  const f = statSync(file), v = statSync(process.env.BERTH_VOLUME_DATA), s = statSync(process.env.BERTH_SECRETS_DIR);
  res.end([process.getuid(), process.getgid(), userInfo().username, f.uid + ':' + f.gid, v.uid, s.uid].join(' '));
}).listen(Number(process.env.PORT));
`;
  let port: number;
  let digest: string;
  const manifest = (user: string) => `app: users
workloads:
  web:
    command: ["node", "server.mjs"]
    user: "${user}"
    ports: [8080]
    healthCheck: { type: http, path: /, intervalSeconds: 0.2 }
    volumes: [{ volume: data, path: /data }]
endpoints:
  web: { workload: web, port: ${port}, targetPort: 8080 }
volumes:
  data: { sizeGiB: 1 }
`;

  beforeAll(async () => {
    await createReadyEnv(ops, USERS);
    port = await freePort();
    digest = await uploadApp(ops, USERS.org, join(dir, 'users'), WHOAMI);
  });

  it('runs the command as that uid:gid, owning its volume and secret files; exec runs as the same user', async () => {
    await applied(await ops.call('POST', `${envPath(USERS)}/deploys`, { manifest: manifest('4242:4243'), artifactDigest: digest }));
    expect((await httpGet(port)).body).toBe('4242 4243 app 4242:4243 4242 4242');
    const [instance] = await ops.platform.deps.compute.list(USERS);
    expect(await execIn(USERS, instance.id, ['sh', '-c', 'id -u; id -g; ls -n /data/mine | cut -d" " -f3'])).toEqual({ code: 0, stdout: '4242\n4243\n4242\n' });
    // To the host it is still the env's own uid (or the platform's user), never uid 4242.
    const volume = join(dir, 'home', 'volumes');
    const owners = new Set(readdirTree(volume).filter((p) => p.endsWith('/mine')).map((p) => statSync(p).uid));
    expect(owners.size).toBe(1);
    expect([...owners][0]).not.toBe(4242);
  });

  it('resolves a name from the machine\'s /etc/passwd (its group too)', async () => {
    await applied(await ops.call('POST', `${envPath(USERS)}/deploys`, { manifest: manifest('daemon'), artifactDigest: digest }));
    const daemon = readFileSync('/etc/passwd', 'utf8').split('\n').find((l) => l.startsWith('daemon:'))!.split(':');
    expect((await httpGet(port)).body).toBe(`${daemon[2]} ${daemon[3]} daemon ${daemon[2]}:${daemon[3]} ${daemon[2]} ${daemon[2]}`);
  });

  it('fails a deploy naming a user the machine does not know as invalid-input, the last release still serving', async () => {
    const res = await ops.call('POST', `${envPath(USERS)}/deploys`, { manifest: manifest('nosuchuser'), artifactDigest: digest });
    expect(res.status, res.text).toBe(202);
    await ops.platform.orchestrator.idle();
    const op = (await ops.call('GET', `${envPath(USERS)}/operations/${res.body.receipt.operationId}`)).body.operation;
    expect(op.status).toBe('failed');
    expect(op.error).toMatchObject({ category: 'invalid-input', code: 'user-unknown' });
    expect(op.error.message).toContain('there is no user "nosuchuser"');
    expect((await httpGet(port)).body).toMatch(/ daemon /);
    const bad = await ops.call('POST', `${envPath(USERS)}/deploys`, { manifest: manifest('root; rm -rf /'), artifactDigest: digest });
    expect(bad.status).toBe(400);
    expect(bad.text).toContain('workloads.web.user');
  });
});

function readdirTree(root: string): string[] {
  return readdirSync(root, { recursive: true, withFileTypes: true }).filter((e) => e.isFile()).map((e) => join(e.parentPath, e.name));
}
