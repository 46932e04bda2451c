import { defineCommand } from '../../core/command.ts';

export default defineCommand({
  description: 'Every resource Berth creates carries berth:org, berth:project, berth:app and berth:env. AWS Billing groups costs by a tag only once it is activated; AWS lists a key only after some resource carried it, so run this again after the first deploy if a key is reported as not seen yet.',
  requires: ['auth'],
  async handler(ctx) {
    const r = await ctx.api.post<{ activated: string[]; notYetSeen: string[]; next: string[] }>('/v1/cost-allocation-tags', {});
    ctx.out.result(r, () =>
      [
        `Activated: ${r.activated.join(', ') || 'none'}`,
        ...(r.notYetSeen.length ? [`Not seen by AWS yet: ${r.notYetSeen.join(', ')}`] : []),
        '',
        'Next:',
        ...r.next.map((n) => `  ${n}`),
      ].join('\n'),
    );
  },
});
