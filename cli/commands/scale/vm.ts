import { defineCommand } from '../../core/command.ts';
import { flag } from '../../core/flags.ts';
import { cliError } from '../../core/errors.ts';
import { intFlag, submitScale, workloadOf } from './render.ts';

export default defineCommand({
  flags: {
    ...flag('workload', 'Workload (default: the only one)'),
    cpu: { type: 'string', valueName: 'units', description: 'CPU units: 256, 512, 1024 (1 vCPU), 2048, 4096, 8192, 16384' },
    memory: { type: 'string', valueName: 'MiB', description: 'Memory in MiB, valid for the cpu' },
    ...flag('wait'),
  },
  requires: ['auth', 'org', 'project', 'app', 'env'],
  examples: ['berth scale vm --cpu 512 --memory 1024'],
  async handler(ctx) {
    const settings: Record<string, number> = {};
    const cpu = intFlag('cpu', ctx.flags.cpu);
    const memory = intFlag('memory', ctx.flags.memory);
    if (cpu !== undefined) settings.cpu = cpu;
    if (memory !== undefined) settings.memory = memory;
    if (!Object.keys(settings).length) throw cliError('invalid-input', 'nothing-to-scale', 'give --cpu and/or --memory', ['berth scale vm --cpu 512 --memory 1024']);
    await submitScale(ctx, await workloadOf(ctx), settings);
  },
});
