// Help text, generated from the command definitions (so it cannot drift from what is parsed).
import { EXIT_CODES } from '../../functions/core/errors.ts';
import type { CommandDefinition, CommandSummary, FlagSpec } from './command.ts';

/** `firstRun`: nothing is configured (no platform found, no token), so say where to begin. */
export function rootHelp(commands: CommandSummary[], version: string, options: { firstRun?: boolean } = {}): string {
  const width = Math.max(...commands.map((c) => c.command.length));
  const codes = Object.entries(EXIT_CODES).map(([category, code]) => `${code} ${category}`);
  return [
    `berth ${version}: deploy apps onto your own AWS account, or onto this machine.`,
    ...(options.firstRun ? ['', ...FIRST_RUN] : []),
    '',
    'Usage: berth <command> [flags]',
    '',
    'Commands:',
    ...commands.map((c) => `  ${c.command.padEnd(width)}  ${c.summary}`),
    '',
    'Every command takes --help and --json (JSON only on stdout, errors too).',
    `Exit codes: 0 ok, ${codes.join(', ')}.`,
  ].join('\n');
}

const FIRST_RUN = [
  'Nothing is set up here yet (no platform and no token found). To begin:',
  '  npm start                      in the Berth checkout: runs the platform on this machine',
  '  berth login --api <url>        or log in to a platform elsewhere (in a browser; --token in scripts)',
  '  berth init                     then write a berth.yaml (and a starter app) in your app\'s directory',
];

export function groupHelp(noun: string, commands: CommandSummary[]): string {
  const width = Math.max(...commands.map((c) => c.command.length));
  return [`Usage: berth ${noun} <command>`, '', ...commands.map((c) => `  ${c.command.padEnd(width)}  ${c.summary}`)].join('\n');
}

export function commandHelp(c: CommandDefinition, globals: Record<string, FlagSpec>): string {
  const positionals = (c.positionals ?? []).map((p) => (p.required ? `<${p.name}${p.variadic ? '…' : ''}>` : `[${p.name}${p.variadic ? '…' : ''}]`)).join(' ');
  const lines = [`Usage: berth ${c.command}${positionals ? ` ${positionals}` : ''} [flags]`, '', c.summary];
  if (c.description) lines.push('', c.description);
  if (c.positionals?.length) {
    lines.push('', 'Arguments:');
    const w = Math.max(...c.positionals.map((p) => p.name.length));
    for (const p of c.positionals) lines.push(`  ${p.name.padEnd(w)}  ${p.description}`);
  }
  const flagLines = (flags: Record<string, FlagSpec>) => {
    const rendered = Object.entries(flags).map(([name, f]) => [`${f.short ? `-${f.short}, ` : '    '}--${name}${f.type === 'string' ? ` <${f.valueName ?? 'value'}>` : ''}`, f.description]);
    const w = Math.max(...rendered.map((r) => r[0].length));
    return rendered.map(([a, b]) => `  ${a.padEnd(w)}  ${b}`);
  };
  if (c.flags && Object.keys(c.flags).length) lines.push('', 'Flags:', ...flagLines(c.flags));
  lines.push('', 'Global flags:', ...flagLines(globals));
  if (c.examples?.length) lines.push('', 'Examples:', ...c.examples.map((e) => `  ${e}`));
  return lines.join('\n');
}
