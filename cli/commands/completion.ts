import { defineCommand, loadCommand, type CommandDefinition } from '../core/command.ts';
import { cliError } from '../core/errors.ts';
import { GLOBAL_FLAGS } from '../core/global-flags.ts';
import { COMMANDS } from './index.ts';

const SHELLS = ['bash', 'zsh', 'fish'] as const;

/** Shell completion, generated from the same command table the CLI dispatches on. */
export function completionScript(shell: (typeof SHELLS)[number], commands: CommandDefinition[]): string {
  const words = [...new Set(commands.map((c) => c.command.split(' ')[0]))].sort();
  const subs = (noun: string) => commands.filter((c) => c.command.startsWith(`${noun} `)).map((c) => c.command.split(' ')[1]);
  const flags = (noun: string, verb?: string) => {
    const c = commands.find((x) => x.command === (verb ? `${noun} ${verb}` : noun));
    return Object.keys({ ...GLOBAL_FLAGS, ...(c?.flags ?? {}) }).map((f) => `--${f}`);
  };
  if (shell === 'fish') {
    const lines = ['complete -c berth -f'];
    for (const w of words) lines.push(`complete -c berth -n '__fish_use_subcommand' -a ${w}`);
    for (const w of words) for (const s of subs(w)) lines.push(`complete -c berth -n '__fish_seen_subcommand_from ${w}' -a ${s}`);
    for (const f of Object.keys(GLOBAL_FLAGS)) lines.push(`complete -c berth -l ${f}`);
    return `${lines.join('\n')}\n`;
  }
  const cases = words
    .map((w) => {
      const s = subs(w);
      return `    ${w}) if [ "$COMP_CWORD" -eq 2 ] && [ -n "${s.join(' ')}" ]; then opts="${s.join(' ')}"; else opts="${[...new Set([...flags(w), ...s.flatMap((v) => flags(w, v))])].join(' ')}"; fi ;;`;
    })
    .join('\n');
  const bash = `_berth() {
  local cur="\${COMP_WORDS[COMP_CWORD]}" opts
  if [ "$COMP_CWORD" -eq 1 ]; then opts="${words.join(' ')}"; else
  case "\${COMP_WORDS[1]}" in
${cases}
    *) opts="" ;;
  esac; fi
  COMPREPLY=( $(compgen -W "$opts" -- "$cur") )
}
complete -F _berth berth
`;
  // zsh runs bash completion functions through bashcompinit.
  return shell === 'zsh' ? `autoload -U +X bashcompinit && bashcompinit\n${bash}` : bash;
}

export default defineCommand({
  positionals: [{ name: 'shell', description: 'bash, zsh or fish', required: true }],
  examples: ['berth completion bash >> ~/.bashrc', 'berth completion zsh >> ~/.zshrc', 'berth completion fish > ~/.config/fish/completions/berth.fish'],
  async handler(ctx) {
    const shell = ctx.positionals[0] as (typeof SHELLS)[number];
    if (!SHELLS.includes(shell)) throw cliError('invalid-input', 'shell-unknown', `no completion for ${JSON.stringify(shell)}; use one of ${SHELLS.join(', ')}`);
    // Every command's flags are needed, so this is the one command that loads them all.
    const script = completionScript(shell, await Promise.all(COMMANDS.map(loadCommand)));
    ctx.out.result({ shell, script }, () => script.trimEnd());
  },
});
