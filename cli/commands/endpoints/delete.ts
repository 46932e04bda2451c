import { defineCommand } from '../../core/command.ts';
import { flag } from '../../core/flags.ts';
import { reportEndpointChange, type EndpointReceipt } from './render.ts';

export default defineCommand({
  positionals: [{ name: 'name', description: 'Endpoint name', required: true }],
  flags: { ...flag('wait', 'Follow the operation until the port is closed') },
  requires: ['auth', 'org', 'project', 'app', 'env'],
  examples: ['berth endpoints delete admin --wait'],
  async handler(ctx) {
    const { receipt } = await ctx.api.delete<{ receipt: EndpointReceipt }>(ctx.api.envPath(ctx.target, `/endpoints/${encodeURIComponent(ctx.positionals[0])}`));
    await reportEndpointChange(ctx, receipt);
  },
});
