// The real CLI (command table, argument parsing, API client, rendering) run in this process, with
// stdout going to a counting sink: what `berth …` does minus starting Node, which figure 4 measures.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { COMMANDS } from '../../cli/commands/index.ts';
import { runCli } from '../../cli/core/run.ts';
import { nodeHost } from '../../cli/lib/node-host.ts';
import { FileSettingsStore } from '../../cli/lib/settings.ts';
import type { EnvRef } from '../../functions/core/ports.ts';

export interface CliSink {
  writes: number;
  chars: number;
  /** What was printed, when asked for (`capture`); otherwise only counted. */
  stdout: string;
  stderr: string;
  /** The exit code (0 unless called with `check: false`, since a failure throws otherwise). */
  code: number;
}

/** Returns `berth(argv)`: runs the CLI against `api` as `token`, targeting `ref`, and reports what it printed. */
export function inProcessCli(api: string, token: string, ref: EnvRef): (argv: string[], capture?: boolean, options?: { check?: boolean }) => Promise<CliSink> {
  const cwd = mkdtempSync(join(tmpdir(), 'berth-bench-cli-'));
  const host = nodeHost(cwd);
  const settings = new FileSettingsStore(join(cwd, '.berth-cli'), { BERTH_API: api, BERTH_TOKEN: token, BERTH_ORG: ref.org, BERTH_PROJECT: ref.project, BERTH_APP: ref.app, BERTH_ENV: ref.env });
  return async (argv, capture = false, { check = true } = {}) => {
    const sink: CliSink = { writes: 0, chars: 0, stdout: '', stderr: '', code: 0 };
    const writers = {
      stdout: (t: string) => {
        sink.writes++;
        sink.chars += t.length;
        if (capture) sink.stdout += t;
      },
      stderr: (t: string) => {
        sink.stderr += t;
      },
      stdoutIsTTY: false,
      stderrIsTTY: false,
      noColor: true,
    };
    const code = await runCli(argv, { commands: COMMANDS, version: 'bench', host, settings, writers });
    if (check && code !== 0) throw new Error(`berth ${argv.join(' ')} exited ${code}: ${sink.stderr}`);
    sink.code = code;
    return sink;
  };
}
