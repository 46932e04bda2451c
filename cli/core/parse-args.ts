// Parses argv against a command's declared flags and positionals. `--` ends flags (exec later).
import type { FlagDefs, FlagValues, ParsedFlags, PositionalSpec } from './command.ts';
import { cliError } from './errors.ts';

export function parseArgs<F extends FlagDefs>(argv: string[], flags: F, positionals: PositionalSpec[], usage: string): { flags: FlagValues<F>; positionals: string[] } {
  const parsed: ParsedFlags = {};
  const rest: string[] = [];
  const byShort = new Map(Object.entries(flags).filter(([, f]) => f.short).map(([name, f]) => [f.short!, name]));
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (arg === '--') {
      rest.push(...argv.slice(i + 1));
      break;
    }
    let name: string | undefined;
    let inline: string | undefined;
    if (arg.startsWith('--')) {
      const eq = arg.indexOf('=');
      name = eq > 0 ? arg.slice(2, eq) : arg.slice(2);
      inline = eq > 0 ? arg.slice(eq + 1) : undefined;
      if (name.startsWith('no-') && flags[name.slice(3)]?.type === 'boolean') {
        parsed[name.slice(3)] = false;
        continue;
      }
    } else if (/^-[A-Za-z]$/.test(arg)) {
      name = byShort.get(arg.slice(1));
      if (!name) throw cliError('invalid-input', 'unknown-flag', `unknown flag ${arg}; ${usage}`);
    } else {
      rest.push(arg);
      continue;
    }
    const spec = flags[name];
    if (!spec) {
      const known = Object.keys(flags).map((f) => `--${f}`).join(', ');
      throw cliError('invalid-input', 'unknown-flag', `unknown flag --${name}; this command accepts ${known}`, [usage]);
    }
    if (spec.type === 'boolean') {
      parsed[name] = inline === undefined ? true : inline !== 'false';
      continue;
    }
    const value = inline ?? argv[++i];
    if (value === undefined) throw cliError('invalid-input', 'flag-value-missing', `--${name} needs a value (${spec.valueName ?? 'value'})`, [usage]);
    if (spec.type === 'string' && spec.multiple) parsed[name] = [...((parsed[name] as string[] | undefined) ?? []), value];
    else parsed[name] = value;
  }
  const required = positionals.filter((p) => p.required);
  if (rest.length < required.length) {
    const missing = required.slice(rest.length).map((p) => `<${p.name}>`).join(' ');
    throw cliError('invalid-input', 'argument-missing', `missing ${missing}`, [usage]);
  }
  const variadic = positionals.some((p) => p.variadic);
  if (!variadic && rest.length > positionals.length) {
    throw cliError('invalid-input', 'argument-unexpected', `unexpected argument ${JSON.stringify(rest[positionals.length])}`, [usage]);
  }
  // Each value was stored under its flag's name with its flag's type, which is what FlagValues<F> says.
  return { flags: parsed as FlagValues<F>, positionals: rest };
}
