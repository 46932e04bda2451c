// Issue 13: a real PostgreSQL server from Debian's packages on a single-writer volume, written to
// without pause across 20 deploys, 5 rollbacks and 5 `scale vm`: every acknowledged write is
// there afterwards, and the server shut down cleanly before each restart (never two on one dir).
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createReadyEnv, envPath, freePort, startOpsPlatform, uploadApp, type OpsPlatform } from './support/ops-harness.ts';

const REF = { org: 'acme', project: 'shop', app: 'ledger', env: 'prod' };
// Debian installs each major version under /usr/lib/postgresql/<major>/bin (.ci/run installs it).
const PG_BIN = existsSync('/usr/lib/postgresql') ? readdirSync('/usr/lib/postgresql').map((v) => `/usr/lib/postgresql/${v}/bin`).find((d) => existsSync(`${d}/postgres`)) : undefined;

let dir: string;
let ops: OpsPlatform;
let port: number;
let digest: string;

const manifest = (variant: number) => `app: ledger
workloads:
  db:
    command: "test -s /data/pg/PG_VERSION || $PGBIN/initdb -D /data/pg -U app -A trust >/dev/null; exec $PGBIN/postgres -D /data/pg -k /tmp -c listen_addresses=127.0.0.1 -p $PORT"
    ports: [5432]
    healthCheck: { type: tcp, intervalSeconds: 0.2, deadlineSeconds: 60 }
    volumes: [{ volume: data, path: /data }]
    env: { PGBIN: "${PG_BIN}", VARIANT: "${variant}" }
endpoints:
  db: { workload: db, port: ${port}, targetPort: 5432, ipv4: true }
volumes:
  data: { sizeGiB: 1 }
`;

function psql(sql: string): Promise<{ ok: boolean; out: string }> {
  return new Promise((resolve) => {
    execFile('psql', ['-h', '127.0.0.1', '-p', String(port), '-U', 'app', '-d', 'postgres', '-v', 'ON_ERROR_STOP=1', '-qAtc', sql], { timeout: 20_000, env: { ...process.env, PGCONNECT_TIMEOUT: '15' } }, (err, stdout) => resolve({ ok: !err, out: stdout }));
  });
}

async function applied(res: { status: number; body: Record<string, any>; text: string }): Promise<void> {
  expect(res.status, res.text).toBe(202);
  await ops.platform.orchestrator.idle();
  const op = (await ops.call('GET', `${envPath(REF)}/operations/${res.body.receipt.operationId}`)).body.operation;
  expect(op.status, JSON.stringify(op.error)).toBe('succeeded');
}

beforeAll(async () => {
  expect(PG_BIN, 'PostgreSQL from Debian is needed: apt-get install postgresql (.ci/run does)').toBeDefined();
  dir = mkdtempSync(join(tmpdir(), 'berth-pg-'));
  ops = await startOpsPlatform(join(dir, 'home'));
  await createReadyEnv(ops, REF);
  port = await freePort();
  digest = await uploadApp(ops, REF.org, join(dir, 'app'), '// the database runs from the system; the release holds nothing\n');
}, 60_000);

afterAll(async () => {
  await ops?.platform.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('PostgreSQL on a single-writer volume', () => {
  it('keeps every acknowledged write across 20 deploys, 5 rollbacks and 5 scale vm, restarting cleanly each time', async () => {
    const first = await ops.call('POST', `${envPath(REF)}/deploys`, { manifest: manifest(0), artifactDigest: digest });
    expect(first.body.receipt.notes).toBeUndefined(); // nothing to replace yet
    await applied(first);
    expect((await psql('create table w (n int primary key)')).ok).toBe(true);

    const acked: number[] = [];
    let failed = 0;
    let writing = true;
    // Three clients at once, each with its own numbers, for as long as the rollouts go on.
    const writers = [0, 1, 2].map(async (k) => {
      for (let n = 1 + k; writing; n += 3) {
        if ((await psql(`insert into w values (${n})`)).ok) acked.push(n);
        else failed++;
      }
    });

    const releases: string[] = [];
    for (let i = 1; i <= 20; i++) {
      const r = await ops.call('POST', `${envPath(REF)}/deploys`, { manifest: manifest(i), artifactDigest: digest });
      expect(r.body.receipt.notes).toEqual(['db: brief downtime: single-writer volume data (the old instance stops before the new one starts)']);
      await applied(r);
      releases.push(r.body.receipt.releaseId);
      if (i % 4 === 0) await applied(await ops.call('POST', `${envPath(REF)}/rollbacks`, { releaseId: releases.at(-2) }));
      if (i % 4 === 2) {
        // Alternating sizes: each one replaces the server.
        const size = ((i - 2) / 4) % 2 === 0 ? { cpu: 512, memory: 1024 } : { cpu: 256, memory: 512 };
        await applied(await ops.call('POST', `${envPath(REF)}/scale`, { workload: 'db', settings: size }));
      }
      // Only one server ever runs on the volume.
      expect((await ops.platform.deps.compute.list(REF)).filter((s) => s.state !== 'stopped')).toHaveLength(1);
    }
    writing = false;
    await Promise.all(writers);

    const rows = new Set((await psql('select n from w')).out.trim().split('\n').map(Number));
    const missing = acked.filter((n) => !rows.has(n));
    console.log(`postgres: ${acked.length} writes acknowledged across 30 rollouts (${failed} refused while a server was starting or stopping), ${missing.length} missing`);
    expect(acked.length).toBeGreaterThan(100);
    expect(missing).toEqual([]);

    const lines = (await ops.platform.deps.logs.query(REF, { source: 'app' })).map((l) => l.message);
    // 31 starts, each after a clean shutdown: no crash recovery, no "lock file already exists".
    expect(lines.filter((l) => l.includes('database system is ready to accept connections')).length).toBe(31);
    expect(lines.filter((l) => l.includes('database system is shut down')).length).toBe(30);
    expect(lines.filter((l) => /not properly shut down|lock file .* already exists|automatic recovery in progress/.test(l))).toEqual([]);
  }, 300_000);

  it('refuses a second instance on the single-writer volume, naming the volume and the fix', async () => {
    const r = await ops.call('POST', `${envPath(REF)}/scale`, { workload: 'db', settings: { count: 2 } });
    expect(r.status).toBe(400);
    expect(r.body.error).toMatchObject({ category: 'invalid-input', code: 'single-writer-volume' });
    expect(r.body.error.message).toContain('volume "data", which is single-writer');
    expect(r.body.error.message).toContain('volumes.data.access: shared');
  });
});
