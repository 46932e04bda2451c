// The console's shell: reads a line at the `berth> ` prompt, splits it into words, and runs it as
// the CLI would run the same argv, with the same command table and `runCli`: same flags, same
// output. Long-running streams (`logs --follow`, `events --follow`, `wait`, `--wait`) and `exec
// -t` run in a side panel instead, so the transcript stays free. A few console words (help, ls,
// cat, edit, rm, clear, history, tour) look after the workspace and the screen.
import { COMMANDS } from '../../cli/commands/index.ts';
import { loadCommand } from '../../cli/core/command.ts';
import { GLOBAL_FLAGS } from '../../cli/core/global-flags.ts';
import { parseArgs } from '../../cli/core/parse-args.ts';
import { findCommand, runCli } from '../../cli/core/run.ts';
import { VERSION } from '../../functions/version.ts';
import { browserHost, RunControl } from './browser-host.ts';
import type { Panels } from './panels.ts';
import type { BrowserSettings } from './settings.ts';
import { joinWords, splitWords, UnterminatedQuote } from './shell-words.ts';
import type { TerminalSession } from './terminal-session.ts';
import type { Workspace } from './workspace.ts';

export const PROMPT = '\x1b[1;36mberth>\x1b[0m ';
/** How long a command that ignores Ctrl-C may take to stop before the prompt comes back anyway. */
const INTERRUPT_GRACE_MS = 1000;

export type Placement = 'inline' | 'stream' | 'exec';

export interface ShellDeps {
  workspace: Workspace;
  settings: BrowserSettings;
  panels: Panels;
  /** After every command: selections or the login may have changed. */
  changed(): void;
  /** The `tour` word. */
  tour(): Promise<void>;
  /** Opens the editor on a workspace file (`edit FILE`). */
  edit(path: string): void;
}

const CONSOLE_WORDS: Record<string, string> = {
  help: 'this list, then `berth --help` (or `help <command>` for one command)',
  ls: 'files in the workspace (what `init` wrote, what `deploy` packs)',
  cat: 'show a workspace file: cat berth.yaml',
  edit: 'edit a workspace file in the editor panel: edit berth.yaml',
  rm: 'remove a workspace file',
  clear: 'clear the transcript (Ctrl-L too)',
  history: 'the commands typed in this console',
  tour: 'the guided first deploy again',
};

export class Shell {
  constructor(
    readonly session: TerminalSession,
    private readonly deps: ShellDeps,
  ) {}

  /** The prompt, for ever. */
  async loop(): Promise<never> {
    for (;;) {
      const result = await this.session.readLine(PROMPT);
      if ('line' in result) await this.runLine(result.line);
    }
  }

  /** Runs one typed line; resolves with its exit code once it ran (or was placed in a panel). */
  async runLine(line: string, options: { inline?: boolean } = {}): Promise<number> {
    let argv: string[];
    try {
      argv = splitWords(line);
    } catch (err) {
      if (!(err instanceof UnterminatedQuote)) throw err;
      this.session.write(`${err.message}\n`);
      return 2;
    }
    if (argv[0] === 'berth') argv = argv.slice(1);
    if (!argv.length) return 0;
    const word = await this.consoleWord(argv);
    if (word !== undefined) return word;
    const placement = options.inline ? 'inline' : await placementOf(argv);
    if (placement === 'inline') return this.run(argv, this.session);
    const panel = this.deps.panels.open(joinWords(['berth', ...argv]), placement);
    this.session.write(`\x1b[2m→ running in panel ${panel.id} (${placement === 'exec' ? 'type there; Ctrl-C and resizes go to the command' : 'close it to stop'})\x1b[22m\n`);
    void this.run(argv, panel.session, { panel }).then((code) => panel.ended(code));
    return 0;
  }

  /** Runs argv with `runCli`, its keys on `session` and its output there too, unless `write` takes it. */
  async run(argv: string[], session: TerminalSession, options: { panel?: { attach(run: RunControl): void }; write?: (text: string) => void } = {}): Promise<number> {
    const run = new RunControl();
    options.panel?.attach(run);
    const host = browserHost(this.deps.workspace, session, run);
    const stopOnCtrlC = host.terminal.onInterrupt(() => run.stop());
    const write = options.write ?? ((text: string) => session.write(text));
    const finished = runCli(argv, {
      commands: COMMANDS,
      version: VERSION,
      host,
      settings: this.deps.settings,
      writers: { stdout: write, stderr: write, stdoutIsTTY: true, stderrIsTTY: true, noColor: false },
    });
    const abandoned = run.interrupted.then(() => new Promise<number>((resolve) => setTimeout(() => resolve(130), INTERRUPT_GRACE_MS)));
    try {
      return await Promise.race([finished, run.exited, abandoned]);
    } finally {
      stopOnCtrlC();
      session.reset();
      this.deps.changed();
    }
  }

  workspaceHasManifest(): boolean {
    return this.deps.workspace.exists('berth.yaml');
  }

  /** Words in the first place completed from the command table and the console's own words. */
  complete(before: string[], word: string): string[] {
    const words = before[0] === 'berth' ? before.slice(1) : before;
    const typed = [...words, word].join(' ');
    const commands = COMMANDS.map((c) => c.command).filter((c) => c.startsWith(typed));
    const next = new Set(commands.map((c) => c.split(' ')[words.length]).filter((w): w is string => Boolean(w)));
    if (!words.length) for (const w of Object.keys(CONSOLE_WORDS)) if (w.startsWith(word)) next.add(w);
    if (next.size === 0 && words.length && word.startsWith('-')) {
      // Flags of the command typed so far.
      const entry = COMMANDS.find((c) => c.command === words.join(' '));
      if (entry) return ['--help', '--json', ...Object.keys(GLOBAL_FLAGS).map((f) => `--${f}`)].filter((f) => f.startsWith(word));
    }
    return [...next].sort();
  }

  private async consoleWord(argv: string[]): Promise<number | undefined> {
    const [word, ...args] = argv;
    const ws = this.deps.workspace;
    const say = (text: string) => this.session.write(text.endsWith('\n') ? text : `${text}\n`);
    try {
      switch (word) {
        case 'help':
          if (args.length) return await this.run([...args, '--help'], this.session);
          say(['Console words:', ...Object.entries(CONSOLE_WORDS).map(([w, d]) => `  ${w.padEnd(8)} ${d}`), '', 'Everything else is a berth command (the word berth is optional). Tab completes.', ''].join('\n'));
          return await this.run(['--help'], this.session);
        case 'clear':
          this.session.view.writeRaw('\x1b[H\x1b[2J\x1b[3J');
          return 0;
        case 'ls': {
          const files = ws.filesUnder(args[0] ?? '.');
          say(files.length ? files.map((f) => `${f.path}  (${new TextEncoder().encode(f.file.text).byteLength} bytes)`).join('\n') : 'The workspace is empty: `berth init` writes a berth.yaml and a starter program here.');
          return 0;
        }
        case 'cat':
          if (!args.length) return say('cat FILE: which file?'), 2;
          for (const f of args) say(ws.read(f));
          return 0;
        case 'rm':
          if (!args.length) return say('rm FILE: which file?'), 2;
          for (const f of args) if (!ws.remove(f)) say(`rm: ${f}: no such file`);
          return 0;
        case 'edit':
          if (args.length !== 1) return say('edit FILE: which file? (edit berth.yaml)'), 2;
          this.deps.edit(args[0]!);
          return 0;
        case 'history':
          say(this.session.editor.history.map((h, i) => `${String(i + 1).padStart(4)}  ${h}`).join('\n'));
          return 0;
        case 'tour':
          await this.deps.tour();
          return 0;
        default:
          return undefined;
      }
    } catch (err) {
      say(`${word}: ${(err as Error).message}`);
      return 1;
    }
  }
}

/** Where a command runs: in the transcript, in a stream panel, or in an exec panel. */
export async function placementOf(argv: string[]): Promise<Placement> {
  const { entry, rest } = findCommand(COMMANDS, argv);
  if (!entry || rest.includes('--help') || rest.includes('-h')) return 'inline';
  const spec = await loadCommand(entry);
  let flags: Record<string, unknown>;
  try {
    flags = parseArgs(rest, { ...GLOBAL_FLAGS, ...(spec.flags ?? {}) }, spec.positionals ?? [], '').flags;
  } catch {
    return 'inline'; // runCli says what is wrong with it, in the transcript
  }
  if (entry.command === 'exec' && flags.tty === true) return 'exec';
  if ((entry.command === 'logs' || entry.command === 'events') && flags.follow === true) return 'stream';
  if (entry.command === 'wait' || flags.wait === true) return 'stream';
  return 'inline';
}
