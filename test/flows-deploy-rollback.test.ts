// Flows 2, 5 and 8 through the CLI as a subprocess against `npm start`'s entry: a dry run shows the
// whole diff (workloads added/changed with their fields, endpoints, config keys, secret versions)
// and applies nothing; the deploy applies it and the volume's data survives; a rollback runs the
// old code with its old config and secret versions, and nothing is rebuilt.
import { join } from 'node:path';
import { stringify } from 'yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort } from './support/free-port.ts';
import { createSelected, deployOrThrow, httpGet, startFlow, writeFiles, type Flow } from './support/cli-flow.ts';

// Says which code it is, its release, config and secret version, and the note kept on its volume.
const SERVER = (code: string) => `import { createServer } from 'node:http';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
const note = join(process.env.BERTH_VOLUME_DATA, 'note.txt');
const db = JSON.parse(readFileSync(join(process.env.BERTH_SECRETS_DIR, 'db.json'), 'utf8'));
createServer((req, res) => {
  if (req.method === 'POST') { let b = ''; req.on('data', (d) => (b += d)); req.on('end', () => { writeFileSync(note, b); res.end('stored'); }); return; }
  res.end([process.env.BERTH_RELEASE, '${code}', process.env.GREETING, db.USER, existsSync(note) ? readFileSync(note, 'utf8') : '-'].join(' '));
}).listen(Number(process.env.PORT));
`;

let flow: Flow;
let port: number;
let app: string;

function manifest(version: 'v1' | 'v2'): string {
  const web = { command: ['node', 'server.mjs'], ports: [8080], healthCheck: { type: 'http', path: '/', intervalSeconds: 0.2 }, requires: { env: ['GREETING'], secrets: ['db'] }, volumes: [{ volume: 'data', path: '/data' }] };
  return stringify({
    app: 'notes',
    workloads: version === 'v1' ? { web } : { web: { ...web, memory: 1024 }, worker: { command: ['node', '-e', 'setInterval(() => {}, 60000)'] } },
    endpoints: { web: { workload: 'web', port, targetPort: 8080, ...(version === 'v2' ? { ipv4: true } : {}) } },
    volumes: { data: { sizeGiB: 1 } },
  });
}

const serving = async () => (await httpGet('::1', port, '/')).body;

beforeAll(async () => {
  flow = await startFlow('deploy');
  port = await freePort();
  app = join(flow.dir, 'app');
  writeFiles(app, { 'server.mjs': SERVER('v1'), 'berth.yaml': manifest('v1') });
  await createSelected(flow, { org: 'acme', project: 'shop', app: 'notes', env: 'prod' });
  for (const args of [['config', 'set', 'GREETING=ahoy'], ['secrets', 'set', 'db', 'USER=app-1', 'PASSWORD=one']]) {
    const r = await flow.berth(args);
    if (r.code !== 0) throw new Error(r.stderr);
  }
  await deployOrThrow(flow);
  const stored = await fetch(`http://[::1]:${port}/`, { method: 'POST', body: 'remember me' });
  expect(stored.status).toBe(200);
}, 120_000);

afterAll(async () => {
  await flow?.stop();
});

describe('deploy, dry run and rollback through the CLI', () => {
  let rel1Artifact: string;

  it('a dry run lists every change against the running release and applies nothing', async () => {
    writeFiles(app, { 'server.mjs': SERVER('v2'), 'berth.yaml': manifest('v2') });
    for (const args of [['config', 'set', 'GREETING=howdy'], ['secrets', 'set', 'db', 'USER=app-2', 'PASSWORD=two']]) expect((await flow.berth(args)).code).toBe(0);

    const [dry, json] = await Promise.all([flow.berth(['deploy', '--dry-run']), flow.berth(['deploy', '--dry-run', '--json'])]);
    expect(dry.code, dry.stderr).toBe(0);
    expect(dry.stdout).toContain('Dry run: rel-2 would be created for acme/shop/notes/prod (nothing was applied)');
    expect(dry.stdout).toMatch(/^ {2}previous {3}rel-1$/m);
    expect(dry.stdout).toMatch(/^ {2}artifact {3}sha256:[0-9a-f]{12}… \(was sha256:[0-9a-f]{12}…\)$/m);
    expect(dry.stdout).toMatch(/^ {2}config {5}v2 \(changed: GREETING\)$/m);
    expect(dry.stdout).toMatch(/^ {2}secrets {4}db v1 → v2$/m);
    expect(dry.stdout).toMatch(/^ {2}workloads {2}\+ worker {3}~ web \(memory\)$/m);
    expect(dry.stdout).toMatch(/^ {2}endpoints {2}~ web \(ipv4\)$/m);
    expect(dry.stdout).toMatch(/^ {2}volumes {4}no change$/m);
    expect(JSON.parse(json.stdout).receipt).toMatchObject({
      dryRun: true,
      releaseId: 'rel-2',
      previousReleaseId: 'rel-1',
      diff: { workloads: { added: ['worker'], changed: [{ name: 'web', fields: ['memory'] }], removed: [] }, config: { keys: ['GREETING'] }, secrets: [{ bundle: 'db', from: 1, to: 2 }] },
    });

    const releases = JSON.parse((await flow.berth(['releases', '--json'])).stdout).releases;
    expect(releases.map((r: { id: string }) => r.id)).toEqual(['rel-1']);
    rel1Artifact = releases[0].artifactDigest;
    expect(await serving()).toBe('rel-1 v1 ahoy app-1 remember me');
  });

  it('the deploy applies it: new code, config and secret version, and the volume keeps its data', async () => {
    const r = await deployOrThrow(flow);
    expect(r.stdout).toContain('Release rel-2 accepted for acme/shop/notes/prod');
    // --wait ends with the converged status: desired beside current for every workload.
    expect(r.stdout).toMatch(/op-\S+ succeeded: rel-2 is live\n\nacme\/shop\/notes\/prod {2}release rel-2 \(desired rel-2\) {2}converged\n\nWORKLOAD +DESIRED +CURRENT +CPU\/MEM +RELEASE\nweb +1 +1\/1 healthy +256\/1024 +rel-2\nworker +1 +1\/1 healthy +256\/512 +rel-2\n$/);
    expect(await serving()).toBe('rel-2 v2 howdy app-2 remember me');
    expect((await httpGet('127.0.0.1', port, '/')).body).toBe('rel-2 v2 howdy app-2 remember me');
  });

  it('a rollback runs the old code with its old config and secrets, removes what it did not have, and rebuilds nothing', async () => {
    const unknown = await flow.berth(['rollback', 'rel-9']);
    expect(unknown.code).toBe(4);
    expect(unknown.stderr).toContain('Error (not-found)');

    const r = await flow.berth(['rollback', '--wait']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^Rollback to rel-1 accepted for acme\/shop\/notes\/prod; rolling out as op-\S+$/m);
    expect(r.stdout).toMatch(/^ {2}restores {2}code, config v1 and secret versions pinned by rel-1$/m);
    expect(r.stdout).toMatch(/^ {2}config {5}v1 \(changed: GREETING\)$/m);
    expect(r.stdout).toMatch(/^ {2}secrets {4}db v2 → v1$/m);
    expect(r.stdout).toMatch(/^ {2}workloads {2}~ web \(memory\) {3}- worker$/m);
    expect(r.stdout).toMatch(/op-\S+ succeeded: rel-1 is live/);

    // rel-1's code, config (ahoy) and secret version (app-1), though the env now holds howdy and app-2.
    expect(await serving()).toBe('rel-1 v1 ahoy app-1 remember me');
    const [releases, config, status] = await Promise.all([flow.berth(['releases', '--json']), flow.berth(['config', 'list']), flow.berth(['status', '--json'])]);
    const list = JSON.parse(releases.stdout).releases;
    expect(list.map((x: { id: string; status: string }) => `${x.id}:${x.status}`)).toEqual(['rel-2:superseded', 'rel-1:active']);
    expect(list[1].artifactDigest).toBe(rel1Artifact);
    expect(config.stdout).toMatch(/GREETING\s*=?\s*howdy/);
    expect(JSON.parse(status.stdout).workloads.map((w: { name: string }) => w.name)).toEqual(['web']);
  });
});
