import { defineCommand } from '../../core/command.ts';
import { printConfigChange, type ConfigBody } from './render.ts';

export default defineCommand({
  positionals: [{ name: 'KEY', description: 'One or more keys', required: true, variadic: true }],
  requires: ['auth', 'org', 'project', 'app', 'env'],
  async handler(ctx) {
    const body = await ctx.api.patch<ConfigBody>(ctx.api.envPath(ctx.target, '/config'), { unset: ctx.positionals });
    printConfigChange(ctx, body);
  },
});
