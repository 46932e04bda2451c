import { defineCommand } from '../../core/command.ts';
import { table } from '../../core/output.ts';
import type { ConfigBody } from './render.ts';

export default defineCommand({
  requires: ['auth', 'org', 'project', 'app', 'env'],
  async handler(ctx) {
    const { config } = await ctx.api.get<ConfigBody>(ctx.api.envPath(ctx.target, '/config'));
    ctx.out.result(config, () => {
      const keys = Object.keys(config.values).sort();
      if (!keys.length) return 'No config yet. Set some: berth config set KEY=VALUE';
      return `Config v${config.version}\n${table([['KEY', 'VALUE'], ...keys.map((k) => [k, config.values[k]])], ctx.out.style)}`;
    });
  },
});
