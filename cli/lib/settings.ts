// Where the CLI keeps its state on this machine. The home is BERTH_HOME, else the nearest `.berth/`
// up from the working directory (the embedded platform's data dir, like git finds `.git`), else the
// XDG config dir (`$XDG_CONFIG_HOME/berth`, default ~/.config/berth). `cli.json` holds selections and
// a login; `credentials.json` is the embedded platform's.
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import type { CliSettings, SettingsStore } from '../core/command.ts';

export function findHome(cwd: string, env: NodeJS.ProcessEnv): string {
  if (env.BERTH_HOME) return resolve(cwd, env.BERTH_HOME);
  for (let dir = resolve(cwd); ; dir = dirname(dir)) {
    if (existsSync(join(dir, '.berth'))) return join(dir, '.berth');
    if (dirname(dir) === dir) break;
  }
  return join(env.XDG_CONFIG_HOME || join(homedir(), '.config'), 'berth');
}

export class FileSettingsStore implements SettingsStore {
  readonly location: string;

  constructor(
    private readonly home: string,
    private readonly env: NodeJS.ProcessEnv,
  ) {
    this.location = join(home, 'cli.json');
  }

  variables(): CliSettings {
    const v: CliSettings = {
      api: this.env.BERTH_API,
      token: this.env.BERTH_TOKEN,
      org: this.env.BERTH_ORG,
      project: this.env.BERTH_PROJECT,
      app: this.env.BERTH_APP,
      env: this.env.BERTH_ENV,
    };
    return Object.fromEntries(Object.entries(v).filter(([, value]) => value)) as CliSettings;
  }

  read(): CliSettings {
    const platform = readJson<{ api?: string; token?: string }>(join(this.home, 'credentials.json'));
    const saved = readJson<CliSettings>(this.location);
    return { api: platform.api, token: platform.token, ...saved, ...this.variables() };
  }

  async save(change: Partial<CliSettings>): Promise<void> {
    mkdirSync(this.home, { recursive: true, mode: 0o700 });
    const next = { ...readJson<CliSettings>(this.location), ...change };
    writeFileSync(this.location, `${JSON.stringify(next, null, 2)}\n`, { mode: 0o600 });
  }
}

function readJson<T extends object>(file: string): Partial<T> {
  if (!existsSync(file)) return {};
  try {
    return JSON.parse(readFileSync(file, 'utf8')) as T;
  } catch {
    return {};
  }
}
