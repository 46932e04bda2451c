import type { CommandSpec } from '../../core/command.ts';
import { reportEndpointChange, type EndpointReceipt } from './render.ts';

export default {
  positionals: [{ name: 'name', description: 'Endpoint name', required: true }],
  flags: { wait: { type: 'boolean', description: 'Follow the operation until the port is closed' } },
  requires: ['auth', 'org', 'project', 'app', 'env'],
  examples: ['berth endpoints delete admin --wait'],
  async handler(ctx) {
    const { receipt } = await ctx.api.delete<{ receipt: EndpointReceipt }>(ctx.api.envPath(ctx.target, `/endpoints/${encodeURIComponent(ctx.positionals[0])}`));
    await reportEndpointChange(ctx, receipt);
  },
} satisfies CommandSpec;
