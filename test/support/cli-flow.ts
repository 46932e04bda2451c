// One embedded platform (`npm start`'s entry) per flow test file, driven by the real CLI as a
// subprocess; plus the plain sockets a user would use to reach what it exposes.
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runBerth, startPlatformProcess, type CliResult, type RunningPlatform } from './cli-harness.ts';
import { httpGet as portFirstHttpGet } from './ops-harness.ts';

export interface Flow {
  dir: string;
  home: string;
  platform: RunningPlatform;
  /** Runs `berth …` in `cwd` (default: the app dir) against this file's platform. */
  berth(args: string[], cwd?: string): Promise<CliResult>;
  /** The API answer as JSON, for waiting on things no CLI command waits for (a crash restart). */
  api(path: string): Promise<any>;
  stop(): Promise<void>;
}

export async function startFlow(prefix: string, appDir = 'app'): Promise<Flow> {
  const dir = mkdtempSync(join(tmpdir(), `berth-${prefix}-`));
  const home = join(dir, 'home');
  mkdirSync(join(dir, appDir), { recursive: true });
  const platform = await startPlatformProcess(home);
  const token = JSON.parse(readFileSync(join(home, 'credentials.json'), 'utf8')).token as string;
  return {
    dir,
    home,
    platform,
    berth: (args, cwd = join(dir, appDir)) => runBerth(args, { cwd, env: { BERTH_HOME: home } }),
    api: async (path) => (await fetch(`${platform.url}${path}`, { headers: { authorization: `Bearer ${token}` } })).json(),
    async stop() {
      await platform.stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Creates (and so selects) each of org, project, app and env, in order; throws on the first failure. */
export async function createSelected(flow: Flow, names: { org: string; project: string; app: string; env: string }, cwd?: string): Promise<void> {
  for (const [noun, name] of [['orgs', names.org], ['projects', names.project], ['apps', names.app], ['envs', names.env]]) {
    const r = await flow.berth([noun, 'create', name], cwd);
    if (r.code !== 0) throw new Error(`berth ${noun} create ${name} failed (${r.code}):\n${r.stderr}`);
  }
}

/** `berth deploy --wait`, throwing with everything a reader needs when it does not succeed. */
export async function deployOrThrow(flow: Flow, cwd?: string): Promise<CliResult> {
  const r = await flow.berth(['deploy', '--wait'], cwd);
  if (r.code !== 0) throw new Error(`deploy failed (${r.code}):\n${r.stdout}\n${r.stderr}\n${flow.platform.output()}`);
  return r;
}

export function writeFiles(dir: string, files: Record<string, string>): void {
  mkdirSync(dir, { recursive: true });
  for (const [name, text] of Object.entries(files)) writeFileSync(join(dir, name), text);
}

/** GET host:port/path, host first (the ops harness's httpGet takes the port first). */
export function httpGet(host: string, port: number, path = '/'): Promise<{ status: number; body: string }> {
  return portFirstHttpGet(port, path, host);
}

/** 'connected', or the error code of the attempt ('ECONNREFUSED' when nothing listens there). */
export function connectOutcome(host: string, port: number): Promise<string> {
  return new Promise((resolve) => {
    const socket = connect({ host, port, family: host.includes(':') ? 6 : 4 });
    socket.once('connect', () => {
      socket.destroy();
      resolve('connected');
    });
    socket.once('error', (err: NodeJS.ErrnoException) => resolve(err.code ?? err.message));
  });
}

/** Whether a process with this pid exists (signal 0 checks without sending anything). */
export function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** Polls `check` until it returns something truthy; for waits no command offers. */
export async function until<T>(what: string, check: () => Promise<T | undefined | false>, attempts = 100, everyMs = 200): Promise<T> {
  for (let i = 0; i < attempts; i++) {
    const v = await check();
    if (v) return v;
    await new Promise((r) => setTimeout(r, everyMs));
  }
  throw new Error(`gave up waiting for ${what}`);
}

/** Lines of `--json` output, each parsed. */
export const jsonLines = (stdout: string): any[] =>
  stdout
    .split('\n')
    .filter((l) => l.trim())
    .map((l) => JSON.parse(l));
