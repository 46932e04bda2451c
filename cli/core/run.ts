// Dispatch: find the command in the flat table, parse its arguments, check its preconditions,
// run it, and map any error to text/JSON and an exit code in one place.
import { EXIT_CODES } from '../../functions/core/errors.ts';
import { ApiClient } from './api-client.ts';
import { loadCommand, type CommandContext, type CommandEntry, type Host, type Precondition, type SettingsStore } from './command.ts';
import { cliError, reportError } from './errors.ts';
import { GLOBAL_FLAGS } from './global-flags.ts';
import { commandHelp, rootHelp, groupHelp } from './help.ts';
import { Output, type Writers } from './output.ts';
import { parseArgs } from './parse-args.ts';

export interface RunDeps {
  commands: CommandEntry[];
  writers: Writers;
  host: Host;
  settings: SettingsStore;
  fetch?: typeof fetch;
  version: string;
}

export async function runCli(argv: string[], deps: RunDeps): Promise<number> {
  const json = argv.includes('--json');
  const out = new Output(deps.writers, json);
  try {
    if (argv[0] === '--version' || argv[0] === '-v' || argv[0] === 'version') {
      out.result({ version: deps.version }, () => `berth ${deps.version}`);
      return 0;
    }
    const { entry, rest } = findCommand(deps.commands, argv);
    if (!entry) {
      const words = argv.filter((a) => !a.startsWith('-'));
      const group = deps.commands.filter((c) => c.command.startsWith(`${words[0]} `));
      if (words.length && group.length && words.length === 1) {
        out.line(groupHelp(words[0], group));
        return argv.includes('--help') || argv.includes('-h') ? 0 : EXIT_CODES['invalid-input'];
      }
      if (words.length) throw cliError('invalid-input', 'unknown-command', `unknown command "${words.join(' ')}"`, ['berth --help']);
      const settings = deps.settings.read();
      out.line(rootHelp(deps.commands, deps.version, { firstRun: !settings.token && !settings.api }));
      return 0;
    }
    const command = await loadCommand(entry);
    const flagSpecs = { ...GLOBAL_FLAGS, ...(command.flags ?? {}) };
    const usage = `see \`berth ${command.command} --help\``;
    if (rest.includes('--help') || rest.includes('-h')) {
      out.line(commandHelp(command, GLOBAL_FLAGS));
      return 0;
    }
    const parsed = parseArgs(rest, flagSpecs, command.positionals ?? [], usage);
    const settings = deps.settings.read();
    const api = new ApiClient(parsed.flags.api ?? settings.api, settings.token, deps.fetch);
    const manifestApp = (command.requires ?? []).includes('app') ? await (await import('./manifest-app.ts')).appFromManifest(deps.host) : undefined;
    const target = {
      org: parsed.flags.org ?? settings.org ?? '',
      project: parsed.flags.project ?? settings.project ?? '',
      // A BERTH_APP variable beats berth.yaml, which beats the saved selection.
      app: parsed.flags.app ?? deps.settings.variables().app ?? manifestApp ?? settings.app ?? '',
      env: parsed.flags.env ?? settings.env ?? '',
    };
    checkPreconditions(command.requires ?? [], target, settings.token, deps.settings.location);
    const ctx: CommandContext = { flags: parsed.flags, positionals: parsed.positionals, out, api, settings: deps.settings, host: deps.host, target };
    await command.handler(ctx);
    return 0;
  } catch (err) {
    return reportError(out, err);
  }
}

/** The table entry `argv` names (the longest match of its leading words) and the arguments after it. */
export function findCommand(commands: CommandEntry[], argv: string[]): { entry?: CommandEntry; rest: string[] } {
  const byName = new Map(commands.map((c) => [c.command, c]));
  const words: string[] = [];
  for (const a of argv) {
    if (a.startsWith('-')) break;
    words.push(a);
  }
  for (let n = Math.min(words.length, 3); n > 0; n--) {
    const found = byName.get(words.slice(0, n).join(' '));
    if (found) return { entry: found, rest: argv.filter((_, i) => i >= n) };
  }
  return { rest: argv };
}

const HOW_TO_SELECT: Record<Exclude<Precondition, 'auth'>, (v: string) => string[]> = {
  org: () => ['berth orgs create <name>  (selects it)', 'berth orgs list, then --org <name> or BERTH_ORG'],
  project: () => ['berth projects create <name>  (selects it)', 'berth projects list, then --project <name> or BERTH_PROJECT'],
  app: () => ['berth apps create <name>  (selects it)', 'run from a directory with berth.yaml, or --app <name> / BERTH_APP'],
  env: () => ['berth envs create <name>  (selects it)', 'berth envs list, then --env <name> / -e <name> or BERTH_ENV'],
};

function checkPreconditions(requires: Precondition[], target: Record<string, string>, token: string | undefined, location: string): void {
  if (requires.includes('auth') && !token) {
    throw cliError('permission', 'not-logged-in', `no API token found (looked in BERTH_TOKEN and ${location})`, [
      'npm start (the embedded platform writes its owner token where the CLI finds it)',
      'berth login --token <token>',
    ]);
  }
  for (const level of ['org', 'project', 'app', 'env'] as const) {
    if (requires.includes(level) && !target[level]) {
      throw cliError('invalid-input', `${level}-not-selected`, `no ${level} selected`, HOW_TO_SELECT[level](''));
    }
  }
}
