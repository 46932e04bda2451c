// Two flows end to end through the API: a rollback runs the old code with its old config (the
// release pins both), and a volume's data survives a redeploy onto a new release.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createReadyEnv, envPath, freePort, httpGet, startOpsPlatform, uploadApp, volumeManifestFor, type OpsPlatform } from './support/ops-harness.ts';

const REF = { org: 'acme', project: 'shop', app: 'notes', env: 'prod' };
let dir: string;
let ops: OpsPlatform;
let port: number;

// Answers with its release, the GREETING config value and the note kept on its volume; POST stores one.
const SERVER = (variant: string) => `// ${variant}
import { createServer } from 'node:http';
import { readFileSync, writeFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
const note = join(process.env.BERTH_VOLUME_DATA, 'note.txt');
createServer((req, res) => {
  if (req.method === 'POST') { let b = ''; req.on('data', (d) => (b += d)); req.on('end', () => { writeFileSync(note, b); res.end('stored'); }); return; }
  res.end([process.env.BERTH_RELEASE, '${variant}', process.env.GREETING, existsSync(note) ? readFileSync(note, 'utf8') : '-'].join(' '));
}).listen(Number(process.env.PORT));
`;

const manifest = (p: number): string => volumeManifestFor('notes', p);

async function deploy(variant: string): Promise<string> {
  const digest = await uploadApp(ops, REF.org, join(dir, variant), SERVER(variant));
  const r = await ops.call('POST', `${envPath(REF)}/deploys`, { manifest: manifest(port), artifactDigest: digest });
  expect(r.status, r.text).toBe(202);
  await ops.platform.orchestrator.idle();
  const op = (await ops.call('GET', `${envPath(REF)}/operations/${r.body.receipt.operationId}`)).body.operation;
  expect(op.status, JSON.stringify(op.error)).toBe('succeeded');
  return r.body.receipt.releaseId;
}

function post(body: string): Promise<number> {
  return fetch(`http://[::1]:${port}/`, { method: 'POST', body }).then((r) => r.status);
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'berth-flows-'));
  ops = await startOpsPlatform(join(dir, 'home'));
  await createReadyEnv(ops, REF);
  port = await freePort();
}, 90_000);

afterAll(async () => {
  await ops?.platform.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('rollback and volumes', () => {
  it('keeps volume data across a redeploy onto a new release', async () => {
    expect(await deploy('v1')).toBe('rel-1');
    expect(await post('remember me')).toBe(200);
    expect((await httpGet(port)).body).toBe('rel-1 v1 ahoy remember me');
    expect(await deploy('v2')).toBe('rel-2');
    expect((await httpGet(port)).body).toBe('rel-2 v2 ahoy remember me');
    const volumes = (await ops.call('GET', `${envPath(REF)}/volumes`)).body.volumes;
    expect(volumes).toMatchObject([{ name: 'data', sizeGiB: 1, attachedTo: [{ workload: 'web', path: '/data' }] }]);
  });

  it('rolls back to the old code with its old config, and rebuilds nothing', async () => {
    expect((await ops.call('PATCH', `${envPath(REF)}/config`, { set: { GREETING: 'howdy' } })).status).toBe(200);
    expect(await deploy('v3')).toBe('rel-3');
    expect((await httpGet(port)).body).toBe('rel-3 v3 howdy remember me');

    const r = await ops.call('POST', `${envPath(REF)}/rollbacks`, { releaseId: 'rel-2' });
    expect(r.status, r.text).toBe(202);
    expect(r.body.receipt).toMatchObject({ releaseId: 'rel-2', previousReleaseId: 'rel-3', configVersion: 1 });
    expect(r.body.receipt.diff.config.keys).toEqual(['GREETING']);
    await ops.platform.orchestrator.idle();
    // rel-2's code (v2) and rel-2's config (GREETING=ahoy), though the env's config is now "howdy".
    expect((await httpGet(port)).body).toBe('rel-2 v2 ahoy remember me');
    const releases = (await ops.call('GET', `${envPath(REF)}/releases`)).body;
    expect(releases.currentReleaseId).toBe('rel-2');
    expect(releases.releases.map((x: { id: string; status: string }) => `${x.id}:${x.status}`)).toEqual(['rel-3:superseded', 'rel-2:active', 'rel-1:superseded']);
  });
});
