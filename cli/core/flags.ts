// The flags more than one command takes, defined once (flyctl's `flag.Add(cmd, flag.App(), …)`):
// the same name has the same short letter, type and value everywhere. A command adds one with
// `...flag('workload')` (optionally with its own wording of the description).
//
// One meaning per short letter, across every command (test/cli-flags.test.ts keeps it so):
//   -w is --workload (logs, exec, scale, endpoints create): a selector, like -e for the env and
//      -i for the instance, typed often and in the middle of a line. --wait has no short: it is a
//      switch at the end of a scripted line, where the long name reads better.
//   -f is --follow (logs, events), as in `tail -f`; --file has no short.
//   -t is --tty (exec), as in `docker exec -t`; --template has no short.
// Only flags defined here (and the global ones) may have a short letter.
import type { FlagDefs } from './command.ts';

export const SHARED_FLAGS = {
  workload: { type: 'string', short: 'w', valueName: 'name', description: 'Only this workload' },
  instance: { type: 'string', short: 'i', valueName: 'id', description: 'Only this instance (see `berth status`)' },
  follow: { type: 'boolean', short: 'f', description: 'Keep streaming until the stream ends (Ctrl-C to stop)' },
  wait: { type: 'boolean', description: 'Follow the operation until it converges or fails' },
  since: { type: 'string', valueName: 'time', description: 'From this time: 10m, 2h, 1d or an ISO time' },
  until: { type: 'string', valueName: 'time', description: 'Up to this time: same forms as --since' },
  limit: { type: 'string', short: 'n', valueName: 'n', description: 'At most n items, newest first' },
  level: { type: 'string', short: 'l', valueName: 'level', description: 'Minimum level: debug, info, warn, error' },
  yes: { type: 'boolean', short: 'y', description: 'Confirm without asking' },
  timeout: { type: 'string', valueName: 'seconds', description: 'Give up after this many seconds (exit code of `timeout`)' },
  tty: { type: 'boolean', short: 't', description: 'Interactive terminal: raw keys, resize and Ctrl-C go to the command' },
  role: { type: 'string', short: 'r', valueName: 'role', description: 'viewer | deployer | admin | owner' },
  file: { type: 'string', valueName: 'path', description: 'Read this file' },
} as const satisfies FlagDefs;

export type SharedFlags = typeof SHARED_FLAGS;
export type SharedFlagName = keyof SharedFlags;

/** `{ [name]: definition }` to spread into a command's flags; `description` words it for that command. */
export function flag<N extends SharedFlagName>(name: N, description?: string): { [K in N]: SharedFlags[N] } {
  const spec = { ...SHARED_FLAGS[name], ...(description ? { description } : {}) };
  // A computed key widens to `{ [x: string]: … }`; the one key is `name`, so this is exact.
  return { [name]: spec } as { [K in N]: SharedFlags[N] };
}
