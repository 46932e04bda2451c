import { defineCommand } from '../core/command.ts';
import { flag } from '../core/flags.ts';
import { follow } from '../core/follow.ts';
import { formatEvent, type EventItem } from '../core/watch-operation.ts';

export default defineCommand({
  flags: {
    operation: { type: 'string', valueName: 'op-id', description: 'Only this operation\'s events' },
    ...flag('follow', 'Keep streaming new events (Ctrl-C to stop)'),
    ...flag('limit', 'The newest n events (history only)'),
  },
  requires: ['auth', 'org', 'project', 'app', 'env'],
  examples: ['berth events', 'berth events --operation op-01J… --follow'],
  async handler(ctx) {
    const query = new URLSearchParams();
    if (ctx.flags.operation) query.set('operation', ctx.flags.operation);
    if (ctx.flags.limit) query.set('limit', ctx.flags.limit);
    const print = (e: EventItem) => (ctx.out.json ? ctx.out.jsonLine(e) : ctx.out.line(formatEvent(e)));
    if (ctx.flags.follow) {
      await follow<EventItem>(ctx, { path: ctx.api.envPath(ctx.target, '/events'), query, field: 'events', advance: (q, last) => q.set('after', last.id), key: (e) => e.id, print });
      return;
    }
    const { events } = await ctx.api.get<{ events: EventItem[] }>(ctx.api.envPath(ctx.target, `/events?${query}`));
    if (ctx.out.json) ctx.out.result(events, () => '');
    else if (!events.length) ctx.out.line('No events yet.');
    else events.forEach(print);
  },
});
