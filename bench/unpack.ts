// Figure 9: unpacking a large snapshot. A 10,000-file, ~120 MB tree (node_modules-like small
// files and two large ones) is packed by the CLI's packer, stored, and unpacked by the embedded
// artifact store (functions/drivers/local/snapshot-unpack.ts) in a child process of its own, so
// its peak RSS is the unpack's. Floor: GNU `tar -xzf` of the same archive, under /usr/bin/time
// for its peak RSS, run in turn with Berth's so that neighbours' noise lands on both alike.
// Berth's time is the unpack alone (the child reports it); its memory includes Node and tsx.
import { spawn, spawnSync, type SpawnSyncReturns } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { packSnapshot } from '../cli/lib/pack-snapshot.ts';
import { LocalArtifactStore } from '../functions/drivers/local/artifact-store.ts';
import { progress, runAsScript, timeMs, type FigureResult } from './lib/figure.ts';
import { makeRow } from './lib/report.ts';
import { median } from './lib/stats.ts';

const FILES = Number(process.env.BENCH_UNPACK_FILES ?? 10_000);
const RUNS = 3;
const CHILD = fileURLToPath(new URL('../test/support/unpack-child.ts', import.meta.url));
const MEMORY_GOAL_KB = 200 * 1024;

/** Source-like text (compresses about 4:1, as code does), deterministic per file. */
function sourceText(i: number, bytes: number): string {
  let out = '';
  for (let line = 0; out.length < bytes; line++) out += `export function f${i}_${line}(a, b) { return a * ${(i * 31 + line) % 997} + b; } // ${((i * 7919 + line * 104729) >>> 0).toString(36)}\n`;
  return out.slice(0, bytes);
}

export function writeTree(dir: string): void {
  for (let i = 0; i < FILES; i++) {
    const sub = join(dir, 'node_modules', `pkg-${i % 400}`, i % 3 ? 'lib' : 'dist');
    mkdirSync(sub, { recursive: true });
    writeFileSync(join(sub, `m${i}.js`), sourceText(i, 2_000 + ((i * 7919) % 14_000)));
  }
  // Two large assets that barely compress (a model file, a bundled binary).
  for (const name of ['assets/model.bin', 'assets/tool.bin']) {
    mkdirSync(join(dir, 'assets'), { recursive: true });
    const buf = Buffer.alloc(20 * 1024 * 1024);
    for (let i = 0, x = 0x2545f491; i < buf.length; i += 4) buf.writeUInt32LE((x = (Math.imul(x, 1664525) + 1013904223) >>> 0), i);
    writeFileSync(join(dir, name), buf);
  }
  writeFileSync(join(dir, 'package.json'), '{"name":"big"}\n');
}

interface ChildReport {
  error?: { message: string };
  peakRssBytes: number;
  baselineRssBytes: number;
  seconds: number;
}

function runChild(dir: string, digest: string): Promise<ChildReport> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', CHILD, dir, digest], { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d));
    child.on('error', reject);
    child.on('close', (code) => {
      if (code !== 0) return reject(new Error(`unpack child exited ${code}`));
      const report = JSON.parse(out) as ChildReport;
      if (report.error) return reject(new Error(`unpack refused the snapshot: ${report.error.message}`));
      resolve(report);
    });
  });
}

export async function measure(): Promise<FigureResult> {
  const scratch = mkdtempSync(join(tmpdir(), 'berth-bench-unpack-'));
  try {
    progress(`figure 9: writing and packing a ${FILES.toLocaleString('en-US')}-file tree`);
    const app = join(scratch, 'app');
    writeTree(app);
    const snap = await packSnapshot(app);
    const archive = join(scratch, 'snapshot.tgz');
    writeFileSync(archive, snap.bytes);
    const sizeMb = snap.size / 1e6;

    progress(`figure 9: unpacking ${sizeMb.toFixed(0)} MB (${(snap.bytes.length / 1e6).toFixed(0)} MB gzipped), Berth and tar -xzf in turn`);
    const berth = { ms: [] as number[], kb: [] as number[], baselineKb: [] as number[] };
    const tar = { ms: [] as number[], kb: [] as number[] };
    for (let run = 0; run < RUNS; run++) {
      const store = join(scratch, `store-${run}`);
      await new LocalArtifactStore(store).put(snap.digest, snap.bytes);
      const report = await runChild(store, snap.digest);
      berth.ms.push(report.seconds * 1000);
      berth.kb.push(report.peakRssBytes / 1024);
      berth.baselineKb.push(report.baselineRssBytes / 1024);
      rmSync(store, { recursive: true, force: true });

      const into = join(scratch, `tar-${run}`);
      mkdirSync(into);
      let result: SpawnSyncReturns<string> | undefined;
      tar.ms.push(await timeMs(() => (result = spawnSync('/usr/bin/time', ['-f', '%M', 'tar', '-xzf', archive, '-C', into], { encoding: 'utf8' }))));
      if (result?.status !== 0) throw new Error(`tar -xzf failed: ${result?.stderr}`);
      tar.kb.push(Number(result.stderr.trim().split('\n').pop())); // /usr/bin/time -f %M: peak RSS in KB
      rmSync(into, { recursive: true, force: true });
    }

    const baseline = median(berth.baselineKb);
    const rows = [
      makeRow({
        figure: 9,
        measure: `unpack a ${sizeMb.toFixed(0)} MB snapshot (${FILES.toLocaleString('en-US')} files)`,
        unit: 'ms',
        samples: berth.ms,
        spread: 'worst',
        floor: { label: 'tar -xzf', samples: tar.ms },
        goal: { text: '≤ 3× tar', check: ({ ratio }) => (ratio ?? Infinity) <= 3 },
        note: 'streaming: read, inflate, untar and write chunk by chunk, with every entry checked',
      }),
      makeRow({
        figure: 9,
        measure: `peak memory unpacking it`,
        unit: 'KB',
        samples: berth.kb,
        spread: 'worst',
        floor: { label: 'tar -xzf', samples: tar.kb },
        goal: { text: `< ${MEMORY_GOAL_KB / 1024} MB`, check: ({ median: m }) => m < MEMORY_GOAL_KB },
        note: `peak RSS of the unpacking process; Node and tsx alone are ${Math.round(baseline).toLocaleString('en-US')} KB of it`,
      }),
    ];
    return { rows, details: { files: FILES, contentBytes: snap.size, archiveBytes: snap.bytes.length, berth, tar } };
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }
}

await runAsScript(import.meta.url, measure);
