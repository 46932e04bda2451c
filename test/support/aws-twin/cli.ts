// The real `berth` CLI (its command table, runCli, ApiClient) in process against a twin journey's API
// Lambda, on the twin's clock: its polls and backoffs sleep in simulated time, and each command is a
// work unit the clock waits for, so a `logs -f` of five simulated minutes takes well under a second.
import { vi } from 'vitest';
import type { CliSettings, Host, SettingsStore } from '../../../cli/core/command.ts';
import type { Journey } from './journey.ts';

/** Where the CLI thinks the API is (API Gateway's URL); requests to it reach the journey's API Lambda. */
export const TWIN_API_URL = 'https://api.berth.twin';

export interface TwinCli {
  /** Runs `berth <argv>`; `interrupt` ends a long command (Ctrl-C). */
  run(argv: string[], options?: { stdin?: string }): { done: Promise<{ code: number; stdout: string; stderr: string }>; interrupt(): void; output(): { stdout: string; stderr: string } };
  settings: CliSettings;
  /** Every API request the CLI made, `METHOD path?query`, with the simulated ms it took to answer. */
  requests: string[];
  timings: { request: string; ms: number }[];
}

export function twinCli(j: Pick<Journey, 'api' | 'twin'>, initial: CliSettings = {}): TwinCli {
  const settings: CliSettings = { ...initial };
  const requests: string[] = [];
  const timings: { request: string; ms: number }[] = [];
  const store: SettingsStore = {
    read: () => ({ ...settings }),
    variables: () => ({}),
    save: async (change) => void Object.assign(settings, change),
    location: '(twin settings)',
  };
  const fetchTwin = (async (input: string | URL | Request, init?: RequestInit) => {
    const url = new URL(String(input instanceof Request ? input.url : input));
    if (url.origin !== TWIN_API_URL) throw new Error(`the twin CLI reached for ${url.origin}: only ${TWIN_API_URL} is simulated`);
    const request = `${init?.method ?? 'GET'} ${url.pathname}${url.search}`;
    requests.push(request);
    const started = j.twin.clock.now();
    const res = await j.api.request(`${url.pathname}${url.search}`, init);
    timings.push({ request, ms: j.twin.clock.now() - started });
    return res;
  }) as typeof fetch;
  // `berth login` checks the token with an ApiClient of its own (global fetch): route that here too.
  vi.stubGlobal('fetch', fetchTwin);
  return {
    settings,
    requests,
    timings,
    run(argv, options = {}) {
      let stdout = '';
      let stderr = '';
      let interrupt!: () => void;
      const interrupted = new Promise<void>((resolve) => (interrupt = resolve));
      const host = {
        // No berth.yaml in the CLI's directory: the target comes from the saved selection.
        resolvePath: (...parts: string[]) => parts.join('/'),
        fileExists: async () => false,
        readFile: async (path: string) => {
          throw new Error(`the twin CLI has no file ${path}`);
        },
        readStdin: async () => options.stdin ?? '',
        stdinIsTTY: false,
        now: () => j.twin.clock.now(),
        sleep: (ms: number) => j.twin.clock.sleep(ms),
        interrupted,
        exit: async (code: number) => {
          throw new Error(`the CLI exited with ${code}`);
        },
      } as unknown as Host;
      // Imported here, not at the top: the journey's vi.resetModules() (one module graph per Lambda)
      // must not split the CLI between two copies of its modules (CliError instanceof would fail).
      const done = j.twin.clock.run(`berth ${argv.join(' ')}`, async () => {
        const [{ runCli }, { COMMANDS }] = await Promise.all([import('../../../cli/core/run.ts'), import('../../../cli/commands/index.ts')]);
        return runCli(argv, {
          commands: COMMANDS,
          version: 'twin',
          host,
          settings: store,
          fetch: fetchTwin,
          writers: { stdout: (t) => void (stdout += t), stderr: (t) => void (stderr += t), stdoutIsTTY: false, stderrIsTTY: false, noColor: true },
        }).then((code) => ({ code, stdout, stderr }));
      });
      return { done, interrupt, output: () => ({ stdout, stderr }) };
    },
  };
}
