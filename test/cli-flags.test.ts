// Flags come from shared definitions: a short letter means one flag in every command, and a
// handler reads each flag with the type its definition gives (checked by `tsc`, below).
import { describe, expect, expectTypeOf, it } from 'vitest';
import { COMMANDS } from '../cli/commands/index.ts';
import { defineCommand, loadCommand, type FlagDefs } from '../cli/core/command.ts';
import { flag, SHARED_FLAGS } from '../cli/core/flags.ts';
import { GLOBAL_FLAGS } from '../cli/core/global-flags.ts';
import { parseArgs } from '../cli/core/parse-args.ts';

interface Declared {
  command: string;
  flags: FlagDefs;
}

/** Every short letter given two meanings: `-w: deploy --wait, logs --workload`. */
function shortFlagConflicts(commands: Declared[]): string[] {
  const meanings = new Map<string, Map<string, string[]>>();
  for (const c of commands) {
    const all: FlagDefs = { ...GLOBAL_FLAGS, ...c.flags };
    for (const [name, spec] of Object.entries(all)) {
      if (!spec.short) continue;
      const byName = meanings.get(spec.short) ?? new Map<string, string[]>();
      byName.set(name, [...(byName.get(name) ?? []), c.command]);
      meanings.set(spec.short, byName);
    }
  }
  return [...meanings]
    .filter(([, byName]) => byName.size > 1)
    .map(([short, byName]) => `-${short}: ${[...byName].map(([name, commands]) => `${commands.join(', ')} --${name}`).join('; ')}`);
}

/** A flag that has a short letter or a shared name, but not the shared definition's letter and type. */
function offDefinition(commands: Declared[]): string[] {
  const shared: FlagDefs = { ...GLOBAL_FLAGS, ...SHARED_FLAGS };
  return commands.flatMap((c) =>
    Object.entries(c.flags)
      .filter(([name, spec]) => (spec.short || name in shared) && (shared[name]?.short !== spec.short || shared[name]?.type !== spec.type))
      .map(([name, spec]) => `${c.command} --${name}${spec.short ? ` (-${spec.short})` : ''}`),
  );
}

const declared = async (): Promise<Declared[]> => Promise.all(COMMANDS.map(async (e) => ({ command: e.command, flags: (await loadCommand(e)).flags ?? {} })));

describe('short flags', () => {
  it('no two commands give one short flag two meanings', async () => {
    expect(shortFlagConflicts(await declared())).toEqual([]);
  });

  it('the check catches -w meaning --wait in one command and --workload in another', () => {
    const before: Declared[] = [
      { command: 'deploy', flags: { wait: { type: 'boolean', short: 'w', description: 'Follow the rollout' } } },
      { command: 'logs', flags: { workload: { type: 'string', short: 'w', description: 'Only this workload' } } },
    ];
    expect(shortFlagConflicts(before)).toEqual(['-w: deploy --wait; logs --workload']);
  });

  it('a command flag with a short letter, or a shared name, is the shared definition', async () => {
    expect(offDefinition(await declared())).toEqual([]);
    expect(offDefinition([{ command: 'init', flags: { template: { type: 'string', short: 't', description: 'Template' } } }])).toEqual(['init --template (-t)']);
  });

  it('-w is --workload and --wait is long only, in every command that takes them', async () => {
    const all = await declared();
    const users = (name: string) => all.filter((c) => name in c.flags).map((c) => c.command);
    expect(users('workload')).toEqual(expect.arrayContaining(['logs', 'exec', 'scale count', 'scale vm', 'endpoints create']));
    expect(users('wait')).toEqual(expect.arrayContaining(['deploy', 'rollback']));
    for (const c of all) {
      if (c.flags.workload) expect(c.flags.workload.short, c.command).toBe('w');
      if (c.flags.wait) expect(c.flags.wait.short, c.command).toBeUndefined();
    }
  });
});

describe('typed flag values', () => {
  it('a handler sees each flag with the type its definition gives, without a cast', () => {
    const flags = { ...flag('wait'), ...flag('workload', 'Workload to scale'), tag: { type: 'string', multiple: true, description: 'Tags' } } as const;
    defineCommand({
      flags,
      async handler(ctx) {
        // Checked by tsc (`npx tsc --noEmit -p .`): a wrong type here fails the typecheck.
        expectTypeOf(ctx.flags.wait).toEqualTypeOf<boolean | undefined>();
        expectTypeOf(ctx.flags.workload).toEqualTypeOf<string | undefined>();
        expectTypeOf(ctx.flags.tag).toEqualTypeOf<string[] | undefined>();
        expectTypeOf(ctx.flags.env).toEqualTypeOf<string | undefined>();
        expectTypeOf(ctx.flags.json).toEqualTypeOf<boolean | undefined>();
      },
    });
    const parsed = parseArgs(['-w', 'web', '--wait', '--tag', 'a', '--tag', 'b'], { ...GLOBAL_FLAGS, ...flags }, [], '');
    expect(parsed.flags).toEqual({ workload: 'web', wait: true, tag: ['a', 'b'] });
    expectTypeOf(parsed.flags.wait).toEqualTypeOf<boolean | undefined>();
  });

  it('flag() keeps the shared letter and type and takes the command\'s own wording', () => {
    expect(flag('workload', 'Workload that receives the traffic')).toEqual({ workload: { ...SHARED_FLAGS.workload, description: 'Workload that receives the traffic' } });
    expect(flag('wait')).toEqual({ wait: SHARED_FLAGS.wait });
  });
});
