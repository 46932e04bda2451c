// KEY=VALUE arguments and dotenv text, the two ways config and secrets come in.
import { cliError } from './errors.ts';

const KEY = /^[A-Za-z_][A-Za-z0-9_]*$/;

export function parsePairs(args: string[], usage: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const arg of args) {
    const eq = arg.indexOf('=');
    const key = eq > 0 ? arg.slice(0, eq) : '';
    if (!KEY.test(key)) {
      // Never echo the argument: it may be a secret value typed in the wrong place.
      throw cliError('invalid-input', 'pair-invalid', `expected KEY=VALUE with KEY like DATABASE_URL; got an argument ${eq > 0 ? `with key "${key}"` : 'without "="'}`, [usage]);
    }
    out[key] = arg.slice(eq + 1);
  }
  return out;
}

/** Parses dotenv text: `KEY=value`, `export KEY=value`, quotes, `#` comments, blank lines. */
export function parseDotenv(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  text.split(/\r?\n/).forEach((raw, index) => {
    const line = raw.trim();
    if (!line || line.startsWith('#')) return;
    const m = /^(?:export\s+)?([A-Za-z_][A-Za-z0-9_]*)\s*=\s*(.*)$/.exec(line);
    if (!m) throw cliError('invalid-input', 'dotenv-invalid', `line ${index + 1} is not KEY=VALUE`, ['use one KEY=VALUE per line; # starts a comment']);
    let value = m[2];
    if (/^"(.*)"$/.test(value)) value = value.slice(1, -1).replace(/\\n/g, '\n').replace(/\\"/g, '"').replace(/\\\\/g, '\\');
    else if (/^'(.*)'$/.test(value)) value = value.slice(1, -1);
    else value = value.replace(/\s+#.*$/, '');
    out[m[1]] = value;
  });
  return out;
}
