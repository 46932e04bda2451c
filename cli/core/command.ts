// What a command is: metadata, declared arguments, preconditions and a handler that does all its
// I/O through the context. Nothing here may import Node-only modules: the web console runs the same
// commands in the browser.
import type { EnvRef } from '../../functions/core/ports.ts';
import type { ApiClient } from './api-client.ts';
import type { Output } from './output.ts';
import type { GlobalFlags } from './global-flags.ts';

/** A switch: `--wait`, `--no-wait`. */
export interface BooleanFlagSpec {
  type: 'boolean';
  short?: string;
  description: string;
}

/** A flag with a value: `--since 10m`, `--since=10m`. */
export interface StringFlagSpec {
  type: 'string';
  short?: string;
  description: string;
  /** Shown in help as the value's name, e.g. `--since <time>`. */
  valueName?: string;
  /** Given several times, it collects every value. */
  multiple?: boolean;
}

export type FlagSpec = BooleanFlagSpec | StringFlagSpec;
export type FlagType = FlagSpec['type'];
export type FlagDefs = Record<string, FlagSpec>;

/** What the parser hands a handler for one flag: absent (undefined) unless given. */
export type FlagValue<S extends FlagSpec> = S extends { type: 'boolean' } ? boolean : S extends { multiple: true } ? string[] : string;

/** The handler's view of its flags, inferred from their definitions (wrangler's `HandlerArgs`). */
export type FlagValues<F extends FlagDefs> = { -readonly [K in keyof F]?: FlagValue<F[K]> };

export interface PositionalSpec {
  name: string;
  description: string;
  required?: boolean;
  /** Takes every remaining positional. */
  variadic?: boolean;
}

export type Precondition = 'auth' | 'org' | 'project' | 'app' | 'env';

/** A command as `berth --help` lists it: all the table holds before the command is loaded. */
export interface CommandSummary {
  /** The full command, as typed: `"deploy"`, `"config set"`. */
  command: string;
  summary: string;
}

/**
 * One row of the command table. The module is imported only to run the command or show its own
 * help, so `berth --help` and `berth deploy` do not load the other commands' dependencies.
 */
export interface CommandEntry extends CommandSummary {
  load(): Promise<{ default: CommandSpec }>;
}

/** What a command's module exports: everything but the name and summary, which the table holds. */
export interface CommandSpec<F extends FlagDefs = FlagDefs> {
  /** Longer help: when to use it, what it prints. */
  description?: string;
  examples?: string[];
  flags?: F;
  positionals?: PositionalSpec[];
  requires?: Precondition[];
  // A method, not a property: a command typed for its own flags still fits the table's CommandSpec.
  handler(ctx: CommandContext<F>): Promise<void>;
}

/**
 * A command module's default export. `const F` keeps each flag's literal `type`, so `ctx.flags.wait`
 * is a boolean and `ctx.flags.since` a string in the handler, with no cast.
 */
export function defineCommand<const F extends FlagDefs = {}>(spec: CommandSpec<F>): CommandSpec<F> {
  return spec;
}

/** A loaded command: its table entry and its module together. */
export type CommandDefinition = CommandSummary & CommandSpec;

export async function loadCommand(entry: CommandEntry): Promise<CommandDefinition> {
  const { default: spec } = await entry.load();
  return { command: entry.command, summary: entry.summary, ...spec };
}

export type ParsedFlags = Record<string, string | boolean | string[] | undefined>;

/** Machine-local facilities a command may need; the Node CLI and the console each provide them. */
export interface Host {
  readFile(path: string): Promise<string>;
  writeFile(path: string, content: string, options?: { mode?: number; exclusive?: boolean }): Promise<void>;
  fileExists(path: string): Promise<boolean>;
  resolvePath(...parts: string[]): string;
  /** Packs a directory as a content-addressed snapshot (the release artifact, embedded). */
  packSnapshot(dir: string): Promise<{ digest: string; bytes: Uint8Array; files: number; size: number }>;
  readStdin(): Promise<string>;
  stdinIsTTY: boolean;
  now(): number;
  sleep(ms: number): Promise<void>;
  /** Stops a long-running command (Ctrl-C); resolves when the user interrupts. */
  interrupted: Promise<void>;
  /** The user's terminal, for a command that hands it to a remote process (`exec`). */
  terminal: Terminal;
  /**
   * Opens a WebSocket with request headers; `events` reports what happens to it. Text frames always;
   * binary frames separately when `events.binary` is given (the Session Manager protocol is binary).
   */
  openSocket(url: string, headers: Record<string, string>, events: SocketEvents): HostSocket;
  /** Ends the CLI with this exit code once output is flushed (`exec` passes on the remote code). */
  exit(code: number): Promise<never>;
  /**
   * Opens `url` in the user's browser (`berth login`); false when there is none to open (a server
   * over SSH, CI). Optional: the console is the browser already.
   */
  openBrowser?(url: string): Promise<boolean>;
  /**
   * Serves an MCP server on stdin/stdout until the client closes stdin (`berth mcp`). Optional:
   * only a process has a stdio to serve on; an MCP client reaches the console's API at /v1/mcp.
   */
  serveMcp?(server: import('@modelcontextprotocol/sdk/server/index.js').Server): Promise<void>;
}

export interface Terminal {
  /** Columns and rows of the terminal stdout is, if it is one. */
  size(): { cols: number; rows: number } | undefined;
  /** Raw mode: keys reach `onInput` one by one, unechoed, Ctrl-C included. No-op unless stdin is a TTY. */
  setRawMode(raw: boolean): void;
  /** Streams stdin; `end` once it is exhausted. Returns the unsubscribe. */
  onInput(data: (bytes: Uint8Array) => void, end: () => void): () => void;
  /** The terminal was resized (SIGWINCH). Returns the unsubscribe. */
  onResize(listener: () => void): () => void;
  /** Ctrl-C outside raw mode (SIGINT), every time. Returns the unsubscribe. */
  onInterrupt(listener: () => void): () => void;
  /** Bytes as they are, no newline added. */
  write(stream: 'stdout' | 'stderr', bytes: Uint8Array): void;
  /** Shows `prompt` on stderr and reads one line of stdin; undefined at end of input. */
  readLine(prompt: string): Promise<string | undefined>;
}

export interface SocketEvents {
  open(): void;
  message(text: string): void;
  /** A binary frame. Without this handler a binary frame reaches `message` as text, as it always did. */
  binary?(bytes: Uint8Array): void;
  /** The server answered the upgrade with a plain HTTP response (401, 404, ...) and this body. */
  refused(status: number, body: string): void;
  /** The connection is gone; `code` and `reason` come from the close frame when there was one. */
  close(code?: number, reason?: string): void;
  error(err: Error): void;
}

export interface HostSocket {
  /** Sends a text frame. */
  send(text: string): void;
  /** Sends a binary frame. */
  sendBytes(bytes: Uint8Array): void;
  close(): void;
}

export interface CliSettings {
  api?: string;
  token?: string;
  org?: string;
  project?: string;
  app?: string;
  env?: string;
}

export interface SettingsStore {
  /** Effective settings: flags > BERTH_* variables > CLI config file > platform credentials. */
  read(): CliSettings;
  /** Only what BERTH_* variables set. */
  variables(): CliSettings;
  /** Persists current selections (org, project, app, env) and credentials for later commands. */
  save(change: Partial<CliSettings>): Promise<void>;
  /** Where settings are kept, for messages. */
  location: string;
}

export interface CommandContext<F extends FlagDefs = {}> {
  flags: FlagValues<GlobalFlags & F>;
  positionals: string[];
  out: Output;
  api: ApiClient;
  settings: SettingsStore;
  host: Host;
  /** The target env, resolved from flags, variables, saved selection and berth.yaml. */
  target: EnvRef;
}
