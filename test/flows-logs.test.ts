// Flow 3 (logs) through the CLI as a subprocess against `npm start`'s entry: app and system
// sources, filters by workload, instance, level and time (durations and ISO times), `--json`
// lines, -f until Ctrl-C, and the logs of a crashed instance, readable after it restarted and
// after it is gone.
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LogLine } from '../functions/core/ports.ts';
import { BERTH_BIN } from './support/cli-harness.ts';
import { freePort } from './support/free-port.ts';
import { createSelected, deployOrThrow, httpGet, jsonLines, startFlow, until, writeFiles, type Flow } from './support/cli-flow.ts';

// Logs at every level on start, one line per request (not the health probes), and crashes on /crash.
const WEB = `import { createServer } from 'node:http';
console.log('DEBUG config loaded');
console.log('WARN cache is cold');
console.error('disk almost full');
createServer((req, res) => {
  if (req.url === '/health') return res.end('ok');
  if (req.url === '/crash') { console.log('ERROR crashing on purpose'); process.exit(3); }
  console.log('INFO GET ' + req.url);
  res.end(process.env.BERTH_INSTANCE_ID);
}).listen(Number(process.env.PORT), () => console.log('INFO listening'));
`;
// Structured logging: the level comes from the JSON line (pino's numbers or names).
const WORKER = `console.log(JSON.stringify({ level: 30, msg: 'worker ready' }));
console.log(JSON.stringify({ level: 'warn', msg: 'queue is empty' }));
setInterval(() => {}, 60_000);
`;

let flow: Flow;
let port: number;
let webId: string;
let workerId: string;
const logs = async (args: string[]): Promise<LogLine[]> => {
  const r = await flow.berth(['logs', ...args, '--json']);
  expect(r.code, r.stderr).toBe(0);
  return jsonLines(r.stdout);
};
const messages = (lines: LogLine[]) => lines.map((l) => l.message);

beforeAll(async () => {
  flow = await startFlow('logs');
  port = await freePort();
  const app = join(flow.dir, 'app');
  writeFiles(app, {
    'web.mjs': WEB,
    'worker.mjs': WORKER,
    'berth.yaml': stringify({
      app: 'chatty',
      workloads: {
        web: { command: ['node', 'web.mjs'], ports: [8080], healthCheck: { type: 'http', path: '/health', intervalSeconds: 0.2 } },
        worker: { command: ['node', 'worker.mjs'] },
      },
      endpoints: { web: { workload: 'web', port, targetPort: 8080 } },
    }),
  });
  await createSelected(flow, { org: 'acme', project: 'shop', app: 'chatty', env: 'prod' });
  await deployOrThrow(flow);
  expect((await httpGet('::1', port, '/hello')).status).toBe(200);
  const status = JSON.parse((await flow.berth(['status', '--json'])).stdout);
  webId = status.workloads.find((w: { name: string }) => w.name === 'web').instances[0].id;
  workerId = status.workloads.find((w: { name: string }) => w.name === 'worker').instances[0].id;
}, 120_000);

afterAll(async () => {
  await flow?.stop();
});

describe('logs through the CLI', () => {
  it('prints app and system lines together in the stable format, or apart with --source', async () => {
    const [all, app, system, bad] = await Promise.all([flow.berth(['logs']), logs(['--source', 'app']), logs(['--source', 'system']), flow.berth(['logs', '--source', 'db'])]);
    expect(all.code).toBe(0);
    const text = all.stdout.trim().split('\n');
    for (const line of text) expect(line).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z (app   |system) (web|worker)\/i-[0-9a-f]{8} (debug|info |warn |error) \S/);
    expect(all.stdout).toContain(`app    web/${webId} info  INFO GET /hello`);
    expect(all.stdout).toMatch(new RegExp(`system web/${webId} info  started \\(pid \\d+\\): node web\\.mjs`));

    expect(new Set(app.map((l) => l.source))).toEqual(new Set(['app']));
    expect(messages(app)).toEqual(expect.arrayContaining(['INFO listening', 'INFO GET /hello', 'WARN cache is cold']));
    expect(new Set(system.map((l) => l.source))).toEqual(new Set(['system']));
    expect(messages(system)).toEqual(expect.arrayContaining([expect.stringMatching(/^started \(pid \d+\): node web\.mjs$/), expect.stringMatching(/^healthy: http GET :8080\/health passed/)]));
    expect(app.length + system.length).toBe(text.length);

    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('--source "db" is not a source; use app, system or all');
  });

  it('narrows to one workload or one instance', async () => {
    const [worker, web, byInstance] = await Promise.all([logs(['--workload', 'worker']), logs(['--workload', 'web', '--source', 'app']), logs(['--instance', workerId])]);
    expect(new Set(worker.map((l) => `${l.workload}/${l.instance}`))).toEqual(new Set([`worker/${workerId}`]));
    expect(worker.filter((l) => l.source === 'app').map((l) => `${l.level} ${l.message}`)).toEqual(['info {"level":30,"msg":"worker ready"}', 'warn {"level":"warn","msg":"queue is empty"}']);
    expect(new Set(web.map((l) => l.workload))).toEqual(new Set(['web']));
    expect(messages(web)).not.toContain('{"level":30,"msg":"worker ready"}');
    expect(byInstance).toEqual(worker);
  });

  it('keeps lines at or above --level, reading levels from a leading word, JSON, or stderr', async () => {
    const [warn, error, debug, bad] = await Promise.all([logs(['--level', 'warn', '--source', 'app']), logs(['--level', 'error', '--source', 'app']), logs(['--level', 'debug', '--source', 'app']), flow.berth(['logs', '--level', 'loud'])]);
    expect(warn.map((l) => `${l.workload} ${l.level} ${l.message}`).sort()).toEqual(['web error disk almost full', 'web warn WARN cache is cold', 'worker warn {"level":"warn","msg":"queue is empty"}']);
    expect(error.map((l) => l.message)).toEqual(['disk almost full']);
    expect(debug.find((l) => l.message === 'DEBUG config loaded')?.level).toBe('debug');
    expect(debug.length).toBeGreaterThan(warn.length);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('--level "loud" is not a level; use one of debug, info, warn, error');
  });

  it('takes --since and --until as durations (10m, 2h) or ISO times', async () => {
    const app = await logs(['--source', 'app', '--workload', 'web']);
    const listening = app.find((l) => l.message === 'INFO listening')!;
    const hello = app.find((l) => l.message === 'INFO GET /hello')!;
    expect(listening.ts < hello.ts).toBe(true);

    const [sinceHello, untilListening, last10m, until2hAgo, empty, bad] = await Promise.all([
      logs(['--source', 'app', '--workload', 'web', '--since', hello.ts]),
      logs(['--source', 'app', '--workload', 'web', '--until', listening.ts]),
      logs(['--source', 'app', '--workload', 'web', '--since', '10m']),
      logs(['--until', '2h']),
      flow.berth(['logs', '--since', '2h', '--until', '10m']),
      flow.berth(['logs', '--since', 'yesterday']),
    ]);
    expect(messages(sinceHello)).toContain('INFO GET /hello');
    expect(messages(sinceHello)).not.toContain('INFO listening');
    for (const l of sinceHello) expect(l.ts >= hello.ts).toBe(true);
    expect(messages(untilListening)).toContain('INFO listening');
    expect(messages(untilListening)).not.toContain('INFO GET /hello');
    for (const l of untilListening) expect(l.ts <= listening.ts).toBe(true);
    // Everything here was written in the last few minutes: all of it is within 10m, none older.
    expect(last10m).toEqual(app);
    expect(until2hAgo).toEqual([]);
    expect(empty.code).toBe(0);
    expect(empty.stdout).toBe('');
    expect(empty.stderr).toContain('No log lines match.');
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('--since "yesterday" is not a time; use a duration such as 10m, 2h, 1d or an ISO time');
  });

  it('prints one JSON object per line with --json, and -n keeps the newest lines', async () => {
    const r = await flow.berth(['logs', '--json', '-n', '3']);
    expect(r.code).toBe(0);
    expect(r.stderr).toBe('');
    const lines = r.stdout.trim().split('\n');
    expect(lines).toHaveLength(3);
    for (const line of lines) expect(Object.keys(JSON.parse(line)).sort()).toEqual(['instance', 'level', 'message', 'source', 'ts', 'workload']);
    const all = await logs([]);
    expect(lines.map((l) => JSON.parse(l))).toEqual(all.slice(-3));
  });

  it('follows new lines with -f until Ctrl-C, through the same filters', async () => {
    const child = spawn(process.execPath, [BERTH_BIN, 'logs', '-f', '--source', 'app', '--workload', 'web', '--json'], { cwd: join(flow.dir, 'app'), env: { ...process.env, NO_COLOR: '1', BERTH_HOME: flow.home }, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (d) => (out += d));
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    try {
      // First the history (the newest lines), then what happens while it runs.
      await until('the history', async () => out.includes('INFO GET /hello'));
      expect((await httpGet('::1', port, '/while-following')).status).toBe(200);
      await until('the new line', async () => out.includes('INFO GET /while-following'));
      child.kill('SIGINT');
      expect(await exited).toBe(0);
    } finally {
      child.kill('SIGKILL');
    }
    const lines = jsonLines(out);
    expect(new Set(lines.map((l) => `${l.source} ${l.workload}`))).toEqual(new Set(['app web']));
    expect(lines.filter((l) => l.message === 'INFO GET /while-following')).toHaveLength(1);
  });

  it('keeps the logs of a crashed instance readable after it restarted, and after it is gone', async () => {
    await httpGet('::1', port, '/crash').catch(() => undefined); // the process exits before it answers
    // No command waits for a crash restart; the API shows when the same instance is up again.
    await until('the crashed instance to restart', async () => {
      const s = await flow.api('/v1/orgs/acme/projects/shop/apps/chatty/envs/prod/status');
      return s.status.workloads.find((w: { name: string }) => w.name === 'web').instances.find((i: { id: string; restarts: number; state: string }) => i.id === webId && i.restarts === 1 && i.state === 'healthy');
    });
    const crashed = await logs(['--instance', webId]);
    const story = crashed.map((l) => `${l.source} ${l.level} ${l.message}`);
    const at = (pattern: RegExp) => story.findIndex((s) => pattern.test(s));
    expect(at(/^app error ERROR crashing on purpose$/)).toBeGreaterThan(at(/^app info INFO GET \/hello$/));
    expect(at(/^system error crashed: exited with code 3$/)).toBeGreaterThan(at(/^app error ERROR crashing on purpose$/));
    expect(at(/^system warn restarting in \d+ ms \(restart 1\)$/)).toBeGreaterThan(at(/^system error crashed/));
    expect(at(/^system info started \(pid \d+, restart 1\): node web\.mjs$/)).toBeGreaterThan(at(/^system warn restarting/));

    const gone = await flow.berth(['scale', 'count', '0', '--workload', 'web', '--wait']);
    expect(gone.code, gone.stderr).toBe(0);
    const status = JSON.parse((await flow.berth(['status', '--json'])).stdout);
    expect(status.workloads.find((w: { name: string }) => w.name === 'web').instances).toEqual([]);
    const after = await flow.berth(['logs', '--instance', webId]);
    expect(after.code).toBe(0);
    expect(after.stdout).toContain(`app    web/${webId} error ERROR crashing on purpose`);
    expect(after.stdout).toContain(`system web/${webId} error crashed: exited with code 3`);
    expect(after.stdout).toMatch(new RegExp(`system web/${webId} info  stopped \\(SIGTERM\\)`));
  });
});
