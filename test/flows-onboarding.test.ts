// Flow 1 (onboarding) through the CLI as a subprocess against `npm start`'s entry, from a machine
// where nothing is configured: the first-run hint, `berth login`, then each `berth init` template
// (node-http, tcp, worker) in an empty directory deploys and runs. The tcp endpoint is checked
// with real connections on [::1] and 127.0.0.1 as IPv4 is switched on and off again.
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { join } from 'node:path';
import { parse } from 'yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runBerth } from './support/cli-harness.ts';
import { freePort } from './support/free-port.ts';
import { connectOutcome, httpGet, jsonLines, startFlow, type Flow } from './support/cli-flow.ts';

let flow: Flow;
let cliHome: string;
let httpPort: number;
let tcpPort: number;
const dirOf = (name: string) => join(flow.dir, name);
// The CLI keeps its own settings (login, selections) apart from the platform's data dir.
const berth = (args: string[], cwd: string, env: NodeJS.ProcessEnv = {}) => runBerth(args, { cwd, env: { BERTH_HOME: cliHome, ...env } });

/** Connects, reads the greeting, sends a line and resolves with everything the server wrote. */
function echo(host: string, port: number, text: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host, port, family: host.includes(':') ? 6 : 4 });
    let got = '';
    socket.setTimeout(5000, () => socket.destroy(new Error(`no echo from ${host}:${port}; got ${JSON.stringify(got)}`)));
    socket.on('data', (d) => {
      got += d;
      if (got.includes('\n') && !got.includes(text)) socket.write(`${text}\n`);
      if (got.includes(`${text}\n`)) socket.end(() => resolve(got));
    });
    socket.on('error', reject);
  });
}

beforeAll(async () => {
  flow = await startFlow('onboarding');
  cliHome = join(flow.dir, 'cli-home');
  [httpPort, tcpPort] = await Promise.all([freePort(), freePort()]);
  for (const name of ['web', 'echo', 'jobs', 'existing']) mkdirSync(dirOf(name), { recursive: true });
}, 60_000);

afterAll(async () => {
  await flow?.stop();
});

describe('onboarding through the CLI', () => {
  it('says where to begin when nothing is configured', async () => {
    const [help, status, json] = await Promise.all([berth([], dirOf('web')), berth(['status'], dirOf('web')), berth(['status', '--json'], dirOf('web'))]);
    expect(help.code).toBe(0);
    expect(help.stdout).toContain('Nothing is set up here yet (no platform and no token found). To begin:');
    expect(help.stdout).toMatch(/^ {2}npm start +in the Berth checkout/m);
    expect(help.stdout).toMatch(/^ {2}berth login --api <url> +or log in to a platform elsewhere/m);
    expect(help.stdout).toMatch(/^ {2}berth init +then write a berth\.yaml/m);
    expect(help.stdout).toContain('Exit codes: 0 ok, 1 internal, 2 invalid-input, 3 config-missing, 4 not-found, 5 conflict, 6 permission');

    expect(status.code).toBe(6);
    expect(status.stderr).toContain('Error (permission): no API token found');
    expect(status.stderr).toContain('berth login --token <token>');
    expect(JSON.parse(json.stdout).error).toMatchObject({ category: 'permission', code: 'not-logged-in' });
  });

  it('logs in with a token, and the hint is gone', async () => {
    const token = JSON.parse(readFileSync(join(flow.home, 'credentials.json'), 'utf8')).token;
    const bad = await berth(['login', '--api', flow.platform.url, '--token', 'berth_wrong'], dirOf('web'));
    expect(bad.code).toBe(6);
    const r = await berth(['login', '--api', flow.platform.url, '--token', token], dirOf('web'));
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain(`Logged in to ${flow.platform.url} as owner`);
    const help = await berth([], dirOf('web'));
    expect(help.stdout).not.toContain('Nothing is set up here yet');
  });

  it('writes a commented berth.yaml and a starter program for each template, and never overwrites code', async () => {
    writeFileSync(join(dirOf('existing'), 'server.js'), '// my own server\n');
    const [web, echoInit, jobs, existing, unknown] = await Promise.all([
      berth(['init', 'web-app'], dirOf('web')),
      berth(['init', 'echo', '--template', 'tcp'], dirOf('echo')),
      berth(['init', 'jobs', '--template', 'worker'], dirOf('jobs')),
      berth(['init', 'mine'], dirOf('existing')),
      berth(['init', '--template', 'rails'], dirOf('existing')),
    ]);
    expect(web.code, web.stderr).toBe(0);
    expect(web.stdout).toContain(`Wrote ${join(dirOf('web'), 'berth.yaml')} (node-http) and server.js, a starter to replace with your app.`);
    // Nothing is selected yet, so the next steps start with an org and a project.
    expect(web.stdout).toContain('Next:\n  berth orgs create <name>\n  berth projects create <name>\n  berth apps create web-app\n  berth envs create prod\n  berth deploy --wait');
    expect(echoInit.stdout).toContain('(tcp) and server.js');
    expect(jobs.stdout).toContain('(worker) and worker.js');
    for (const [name, entry] of [['web', 'server.js'], ['echo', 'server.js'], ['jobs', 'worker.js']]) {
      const text = readFileSync(join(dirOf(name), 'berth.yaml'), 'utf8');
      expect(text).toMatch(/^# berth\.yaml: /);
      expect(parse(text).workloads).toBeDefined();
      expect(readFileSync(join(dirOf(name), entry), 'utf8')).toMatch(/^\/\/ A starter written by `berth init`/);
    }
    expect(parse(readFileSync(join(dirOf('jobs'), 'berth.yaml'), 'utf8')).endpoints).toBeUndefined();

    expect(existing.code).toBe(0);
    expect(existing.stdout).toContain('Kept the existing server.js; the manifest runs it.');
    expect(readFileSync(join(dirOf('existing'), 'server.js'), 'utf8')).toBe('// my own server\n');
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toContain('no template "rails"; use one of node-http, tcp, worker');

    const [again, forced] = await Promise.all([berth(['init'], dirOf('web')), berth(['init', 'mine', '--force', '--json'], dirOf('existing'))]);
    expect(again.code).toBe(5);
    expect(again.stderr).toContain('berth.yaml already exists');
    expect(again.stderr).toContain('berth init --force');
    expect(JSON.parse(forced.stdout)).toMatchObject({ template: 'node-http', app: 'mine', starter: null });
    expect(readFileSync(join(dirOf('existing'), 'server.js'), 'utf8')).toBe('// my own server\n');
    expect(existsSync(join(dirOf('existing'), 'worker.js'))).toBe(false);
  });

  it('creates the org and project, then an app and an env for each template', async () => {
    for (const r of [await berth(['orgs', 'create', 'acme'], dirOf('web')), await berth(['projects', 'create', 'shop'], dirOf('web'))]) expect(r.code, r.stderr).toBe(0);
    for (const name of ['web', 'echo', 'jobs']) {
      const app = parse(readFileSync(join(dirOf(name), 'berth.yaml'), 'utf8')).app;
      for (const args of [['apps', 'create', app], ['envs', 'create', 'prod']]) {
        const r = await berth(args, dirOf(name));
        expect(r.code, r.stderr).toBe(0);
      }
    }
  }, 120_000); // eight CLI runs in a row (or three deploys side by side) on a busy 2-core machine

  it('deploys each template from its directory, and each runs', async () => {
    // The user's edit: public ports this machine has free (the templates say 8080 and 7000).
    const web = join(dirOf('web'), 'berth.yaml');
    writeFileSync(web, readFileSync(web, 'utf8').replace(/(workload: web\n {4})port: 8080(.*)\n/, `$1port: ${httpPort}$2\n    targetPort: 8080\n`));
    const tcp = join(dirOf('echo'), 'berth.yaml');
    writeFileSync(tcp, readFileSync(tcp, 'utf8').replace(/(workload: server\n {4})port: 7000(.*)\n/, `$1port: ${tcpPort}$2\n    targetPort: 7000\n`));

    const deploys = await Promise.all(['web', 'echo', 'jobs'].map((name) => berth(['deploy', '--wait'], dirOf(name))));
    for (const d of deploys) {
      expect(d.code, `${d.stdout}\n${d.stderr}`).toBe(0);
      expect(d.stdout).toMatch(/Release rel-1 accepted for acme\/shop\/\S+\/prod/);
      expect(d.stdout).toMatch(/op-\S+ succeeded: rel-1 is live/);
    }

    const hello = await httpGet('::1', httpPort, '/from-test');
    expect(hello.status).toBe(200);
    expect(hello.body).toMatch(/^hello from web-app \(i-[0-9a-f]{8}, rel-1\)\n$/);
    expect(await echo('::1', tcpPort, 'ping')).toMatch(/^hello from i-[0-9a-f]{8}\nping\n$/);

    const [webLogs, jobsStatus, jobsLogs, jobsEndpoints] = await Promise.all([
      berth(['logs', '--source', 'app', '--json'], dirOf('web')),
      berth(['status'], dirOf('jobs')),
      berth(['logs', '--source', 'app'], dirOf('jobs')),
      berth(['endpoints', 'list', '--json'], dirOf('jobs')),
    ]);
    // The starter logs each request, not the health probes.
    expect(jsonLines(webLogs.stdout).map((l) => l.message)).toEqual([expect.stringMatching(/^INFO listening on \d+$/), 'INFO GET /from-test']);
    expect(jobsStatus.stdout).toMatch(/^worker\s+1\s+1\/1 healthy\s+256\/512\s+rel-1$/m);
    expect(jobsStatus.stdout).toContain('converged');
    expect(jobsLogs.stdout).toMatch(/app +worker\/i-[0-9a-f]{8} info  INFO worker started/);
    expect(JSON.parse(jobsEndpoints.stdout)).toEqual([]);
  }, 120_000); // eight CLI runs in a row (or three deploys side by side) on a busy 2-core machine

  it('serves the tcp endpoint on [::1] only, then on 127.0.0.1 too once ipv4 is on, and not after it is off again', async () => {
    const file = join(dirOf('echo'), 'berth.yaml');
    const original = readFileSync(file, 'utf8');
    expect(await connectOutcome('127.0.0.1', tcpPort)).toBe('ECONNREFUSED');

    writeFileSync(file, original.replace('# ipv4: true ', 'ipv4: true   '));
    const on = await berth(['deploy', '--wait'], dirOf('echo'));
    expect(on.code, on.stderr).toBe(0);
    expect(on.stdout).toMatch(/endpoints +~ server \(ipv4\)/);
    expect(await echo('127.0.0.1', tcpPort, 'over-ipv4')).toMatch(/\nover-ipv4\n$/);
    expect(await echo('::1', tcpPort, 'over-ipv6')).toMatch(/\nover-ipv6\n$/);
    const shown = await berth(['endpoints', 'show', 'server'], dirOf('echo'));
    expect(shown.stdout).toContain(`[::1]:${tcpPort} 127.0.0.1:${tcpPort}`);

    writeFileSync(file, original);
    const off = await berth(['deploy', '--wait'], dirOf('echo'));
    expect(off.code, off.stderr).toBe(0);
    expect(await connectOutcome('127.0.0.1', tcpPort)).toBe('ECONNREFUSED');
    expect(await echo('::1', tcpPort, 'still-ipv6')).toMatch(/\nstill-ipv6\n$/);
  });
});
