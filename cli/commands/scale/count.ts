import { defineCommand } from '../../core/command.ts';
import { flag } from '../../core/flags.ts';
import { cliError } from '../../core/errors.ts';
import { intFlag, submitScale, workloadOf } from './render.ts';

export default defineCommand({
  positionals: [{ name: 'count', description: 'Number of instances' }],
  flags: {
    ...flag('workload', 'Workload (default: the only one)'),
    min: { type: 'string', valueName: 'n', description: 'Autoscaling floor' },
    max: { type: 'string', valueName: 'n', description: 'Autoscaling ceiling' },
    ...flag('wait'),
  },
  requires: ['auth', 'org', 'project', 'app', 'env'],
  examples: ['berth scale count 3', 'berth scale count 2 --min 1 --max 5 --workload web'],
  async handler(ctx) {
    const settings: Record<string, number> = {};
    if (ctx.positionals[0] !== undefined) {
      const count = Number(ctx.positionals[0]);
      if (!Number.isInteger(count) || count < 0) throw cliError('invalid-input', 'count-invalid', `count must be a whole number ≥ 0; got ${JSON.stringify(ctx.positionals[0])}`);
      settings.count = count;
    }
    const min = intFlag('min', ctx.flags.min);
    const max = intFlag('max', ctx.flags.max);
    if (min !== undefined) settings.min = min;
    if (max !== undefined) settings.max = max;
    if (!Object.keys(settings).length) throw cliError('invalid-input', 'nothing-to-scale', 'give a count, --min or --max', ['berth scale count 3']);
    await submitScale(ctx, await workloadOf(ctx), settings);
  },
});
