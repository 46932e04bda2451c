import type { CommandContext } from '../../core/command.ts';

export interface ConfigBody {
  config: { version: number; values: Record<string, string>; set: string[]; unset: string[]; createdBy: string };
}

export function printConfigChange(ctx: CommandContext, body: ConfigBody): void {
  const c = body.config;
  ctx.out.result(body, () =>
    [
      `Config v${c.version} of ${ctx.target.env}${c.set.length ? `: set ${c.set.join(', ')}` : ''}${c.unset.length ? `${c.set.length ? ';' : ':'} unset ${c.unset.join(', ')}` : ''}`,
      'It takes effect with the next release: berth deploy',
    ].join('\n'),
  );
}
