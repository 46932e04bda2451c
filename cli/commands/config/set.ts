import { defineCommand } from '../../core/command.ts';
import { parsePairs } from '../../core/pairs.ts';
import { printConfigChange, type ConfigBody } from './render.ts';

export default defineCommand({
  positionals: [{ name: 'KEY=VALUE', description: 'One or more pairs', required: true, variadic: true }],
  requires: ['auth', 'org', 'project', 'app', 'env'],
  examples: ['berth config set GREETING=hello LOG_LEVEL=debug'],
  async handler(ctx) {
    const set = parsePairs(ctx.positionals, 'berth config set KEY=VALUE …');
    const body = await ctx.api.patch<ConfigBody>(ctx.api.envPath(ctx.target, '/config'), { set });
    printConfigChange(ctx, body);
  },
});
