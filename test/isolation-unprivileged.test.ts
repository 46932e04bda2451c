// Issue 12, the non-root path: the platform run by a user that is not root (as `nobody` when the
// tests run as root, as CI does) sandboxes instances in unprivileged user namespaces. The hostile
// probe, as an instance and as an exec command, is denied another instance's secrets and release,
// the platform's files and processes; and the instances end when that platform is killed.
import { spawn, type ChildProcess } from 'node:child_process';
import { chmodSync, chownSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ProbeAttempt } from './support/hostile-probe.ts';
import { pidsRunning, uniqueSleep } from './support/processes.ts';
import { until } from './support/rollout-app.ts';

const REPO = fileURLToPath(new URL('..', import.meta.url));
const SCRIPT = fileURLToPath(new URL('./support/unprivileged-driver.ts', import.meta.url));
const NOBODY = 65534;
const SECRET = 'unprivileged-victim-secret-41d7';
const asRoot = process.getuid?.() === 0;

let work: string;
let child: ChildProcess;
let result: { kind: string; platformUid: number; victimPids: number[]; report: ProbeAttempt[]; execReport: ProbeAttempt[]; inside: string[] };
let stderr = '';
const sleep = uniqueSleep();

beforeAll(async () => {
  work = mkdtempSync(join(tmpdir(), 'berth-unpriv-'));
  if (asRoot) chownSync(work, NOBODY, NOBODY);
  chmodSync(work, 0o700);
  child = spawn(process.execPath, ['--import', 'tsx', SCRIPT], {
    cwd: REPO,
    ...(asRoot ? { uid: NOBODY, gid: NOBODY } : {}),
    env: { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: work, TMPDIR: work, BERTH_TEST_WORK: work, BERTH_TEST_SECRET: SECRET, BERTH_TEST_SLEEP: sleep.join(' ') },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  child.stderr!.on('data', (d) => (stderr += d));
  result = await new Promise((resolve, reject) => {
    let out = '';
    child.stdout!.on('data', (d) => {
      out += d;
      if (out.includes('\n')) resolve(JSON.parse(out.split('\n')[0]));
    });
    child.once('exit', (code) => reject(new Error(`the unprivileged platform exited with ${code}: ${stderr}`)));
  });
}, 60_000);

afterAll(() => {
  child?.kill('SIGKILL');
  for (const pid of pidsRunning(sleep)) process.kill(pid, 'SIGKILL');
  rmSync(work, { recursive: true, force: true });
});

function expectAllDenied(report: ProbeAttempt[]): void {
  expect(report.length).toBeGreaterThan(20);
  const leaks = report.filter((a) => !a.outcome.startsWith('denied'));
  expect(leaks, JSON.stringify(leaks, null, 2)).toEqual([]);
  expect(JSON.stringify(report)).not.toContain(SECRET);
}

describe('a platform that is not root', () => {
  it('sandboxes instances in user namespaces', () => {
    expect(result.platformUid).not.toBe(0);
    expect(result.kind).toBe('user-namespaces');
  });

  it('denies a hostile instance and its exec sessions the victim, the platform files and processes', () => {
    expect(result.victimPids).toHaveLength(1);
    expectAllDenied(result.report);
    expectAllDenied(result.execReport);
  });

  it('runs commands as an ordinary uid of their own, with sandbox paths', () => {
    expect(result.inside).toEqual(['1000', '/berth/secrets', '/app']);
  });

  it('takes every instance process with it when killed', async () => {
    expect(pidsRunning(sleep)).toHaveLength(1);
    child.kill('SIGKILL');
    await until(() => pidsRunning(sleep).length === 0, 5_000, "the setsid'd child to end with its platform");
  });
});
