// Issue 12: an instance's whole process tree goes when it stops, setsid and double-forked children
// included, both after `scale count 0` and when the platform itself is killed (SIGKILL) and
// started again. Runs `npm start`'s entry as a real process.
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startPlatformProcess, type RunningPlatform } from './support/cli-harness.ts';
import { pidsRunning, uniqueSleep } from './support/processes.ts';
import { RolloutClient, until } from './support/rollout-app.ts';

const NAMES = { org: 'forks', project: 'shop', app: 'escape', env: 'prod' };

let dir: string;
let home: string;
let platform: RunningPlatform;
let client: RolloutClient;
// Three sleeps that name themselves: a setsid'd one, a double-forked one, and the command itself.
const detached = uniqueSleep();
const doubleForked = uniqueSleep();
const main = uniqueSleep();
const all = [detached, doubleForked, main];

const MANIFEST = `app: ${NAMES.app}
workloads:
  escaper:
    command: "setsid ${detached.join(' ')} & (${doubleForked.join(' ')} &) ; exec ${main.join(' ')}"
`;

async function start(): Promise<void> {
  platform = await startPlatformProcess(home, ['--reconcile-interval', '300']);
  const { token } = JSON.parse(readFileSync(join(home, 'credentials.json'), 'utf8')) as { token: string };
  client = new RolloutClient(platform.url, token, NAMES);
}

function running(): number[][] {
  return all.map((argv) => pidsRunning(argv));
}

async function scale(count: number): Promise<void> {
  const r = await client.call('POST', `${client.envPath}/scale`, { workload: 'escaper', settings: { count } });
  expect(r.status, JSON.stringify(r.body)).toBe(202);
  expect(await client.waitOperation(r.body.receipt.operationId)).toMatchObject({ status: 'succeeded' });
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'berth-tree-'));
  home = join(dir, 'home');
  await start();
  await client.createEnv();
  const appDir = join(dir, 'app');
  mkdirSync(appDir);
  writeFileSync(join(appDir, 'README'), 'an app that tries to outlive its instance\n');
  const digest = await client.upload(appDir);
  const receipt = await client.deploy(MANIFEST, digest);
  expect(await client.waitOperation(receipt.operationId)).toMatchObject({ status: 'succeeded' });
}, 60_000);

afterAll(async () => {
  await platform?.stop();
  for (const argv of all) for (const pid of pidsRunning(argv)) process.kill(pid, 'SIGKILL');
  rmSync(dir, { recursive: true, force: true });
});

describe("an instance's process tree", () => {
  it('is gone, setsid and double-forked children included, after scale count 0', async () => {
    await until(() => running().every((pids) => pids.length === 1), 10_000, 'all three sleeps to run');
    await scale(0);
    expect(running()).toEqual([[], [], []]);
  });

  it('is gone when the platform is killed, and the restarted platform cleans up and starts it again', async () => {
    await scale(1);
    await until(() => running().every((pids) => pids.length === 1), 10_000, 'all three sleeps to run');
    const before = running().flat();

    platform.process.kill('SIGKILL');
    await until(() => running().every((pids) => pids.length === 0), 5_000, 'the tree to end with its platform');

    await start();
    expect(platform.output()).toMatch(/cleaned up 1 instance\(s\) of a previous platform process/);
    // The reconcile loop brings the desired count back: a new tree, none of the old pids.
    await until(() => running().every((pids) => pids.length === 1), 15_000, 'the restarted platform to start the instance again');
    for (const pid of running().flat()) expect(before).not.toContain(pid);
  });
});
