import type { LogLine } from '../../functions/core/ports.ts';
import { defineCommand } from '../core/command.ts';
import { flag } from '../core/flags.ts';
import { cliError } from '../core/errors.ts';
import type { Style } from '../core/output.ts';
import { follow } from '../core/follow.ts';
import { parseTimeArg } from '../core/time-arg.ts';
import { visible } from '../core/terminal-safe.ts';


const LEVELS = ['debug', 'info', 'warn', 'error'];

/**
 * The stable format: `timestamp source workload/instance level message`. The message is the app's
 * own text: its control characters are shown (`␛[2J`), not obeyed, unless `raw` (`--raw`).
 */
export function formatLogLine(l: LogLine, style: Style, raw = false): string {
  const level = l.level === 'error' ? style.red(l.level.padEnd(5)) : l.level === 'warn' ? style.yellow(l.level.padEnd(5)) : l.level.padEnd(5);
  return `${l.ts} ${l.source.padEnd(6)} ${l.workload}/${l.instance} ${level} ${raw ? l.message : visible(l.message)}`;
}

export default defineCommand({
  description: 'Lines read: timestamp source workload/instance level message. Logs of crashed or stopped instances stay readable.',
  flags: {
    ...flag('follow', 'Keep streaming new lines (Ctrl-C to stop)'),
    ...flag('workload', 'Only this workload'),
    ...flag('instance', 'Only this instance'),
    ...flag('level'),
    source: { type: 'string', valueName: 'app|system|all', description: 'App output, platform lines, or both (default all)' },
    ...flag('since'),
    ...flag('until'),
    ...flag('limit', 'The newest n lines (default 1000; 100 with --follow)'),
    raw: { type: 'boolean', description: 'Messages byte for byte, control characters included (by default they are shown, e.g. ESC as ␛)' },
  },
  requires: ['auth', 'org', 'project', 'app', 'env'],
  examples: ['berth logs --since 10m --level warn', 'berth logs -f --workload web', 'berth logs --instance i-3f2a1b9c --json', 'berth logs --raw > app.log'],
  async handler(ctx) {
    const f = ctx.flags;
    const q = new URLSearchParams();
    for (const k of ['workload', 'instance', 'limit'] as const) {
      const value = f[k];
      if (value) q.set(k, value);
    }
    if (f.level) {
      if (!LEVELS.includes(f.level)) throw cliError('invalid-input', 'level-invalid', `--level ${JSON.stringify(f.level)} is not a level; use one of ${LEVELS.join(', ')}`);
      q.set('level', f.level);
    }
    if (f.source && f.source !== 'all') {
      if (f.source !== 'app' && f.source !== 'system') throw cliError('invalid-input', 'source-invalid', `--source ${JSON.stringify(f.source)} is not a source; use app, system or all`);
      q.set('source', f.source);
    }
    if (f.since) q.set('since', parseTimeArg('since', f.since, ctx.host.now()));
    if (f.until) q.set('until', parseTimeArg('until', f.until, ctx.host.now()));
    const print = (l: LogLine) => (ctx.out.json ? ctx.out.jsonLine(l) : f.raw ? ctx.out.rawLine(formatLogLine(l, ctx.out.style, true)) : ctx.out.line(formatLogLine(l, ctx.out.style)));
    if (f.follow) {
      const started = ctx.host.now();
      if (!f.limit) q.set('limit', '100');
      await follow<LogLine>(ctx, {
        path: ctx.api.envPath(ctx.target, '/logs'),
        query: q,
        field: 'lines',
        // From the second poll on, a continuation (`after`): the API answers where to go on (`next`).
        advance: (query, last) => {
          query.set('after', last.ts);
          query.delete('since');
          query.delete('limit');
        },
        key: (l) => `${l.ts} ${l.instance} ${l.message}`,
        resume: {
          set: (query, next) => {
            query.set('after', next);
            query.delete('since');
            query.delete('limit');
          },
          before: (l, next) => l.ts < next,
          // No history: go on from a minute before following began (or --since), so a line
          // written just before and searchable only now is not skipped.
          start: (query) => {
            query.set('after', query.get('since') ?? new Date(started - 60_000).toISOString());
            query.delete('since');
            query.delete('limit');
          },
        },
        print,
      });
      return;
    }
    const { lines } = await ctx.api.get<{ lines: LogLine[] }>(ctx.api.envPath(ctx.target, `/logs?${q}`));
    if (!lines.length && !ctx.out.json) ctx.out.note('No log lines match.');
    lines.forEach(print);
  },
});
