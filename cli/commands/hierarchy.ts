// orgs / projects / apps / envs share one shape: create (and select) a named child of the
// current parent, or list the children. The levels differ only in names and paths.
import { defineCommand, type CommandContext, type Precondition } from '../core/command.ts';
import { ago, table } from '../core/output.ts';
import { settle } from '../core/watch-operation.ts';

type Level = 'org' | 'project' | 'app' | 'env';

const PARENTS: Record<Level, Precondition[]> = { org: [], project: ['org'], app: ['org', 'project'], env: ['org', 'project', 'app'] };

function collectionPath(level: Level, t: CommandContext['target']): string {
  switch (level) {
    case 'org':
      return '/v1/orgs';
    case 'project':
      return `/v1/orgs/${t.org}/projects`;
    case 'app':
      return `/v1/orgs/${t.org}/projects/${t.project}/apps`;
    case 'env':
      return `/v1/orgs/${t.org}/projects/${t.project}/apps/${t.app}/envs`;
  }
}

const NEXT_STEP: Record<Level, (name: string) => string> = {
  org: () => 'berth projects create <name>',
  project: () => 'berth apps create <name>',
  app: () => 'berth envs create <name>',
  env: () => 'berth config set KEY=VALUE, then berth deploy',
};

export function createChild(level: Level) {
  return defineCommand({
    positionals: [{ name: 'name', description: 'A DNS label: lowercase letters, digits, dashes', required: true }],
    requires: ['auth', ...PARENTS[level]],
    examples: [`berth ${level}s create ${level === 'env' ? 'prod' : level === 'org' ? 'acme' : level === 'project' ? 'shop' : 'hello'}`],
    async handler(ctx) {
      const name = ctx.positionals[0];
      const created = await ctx.api.post<Record<string, unknown>>(collectionPath(level, ctx.target), { name });
      await ctx.settings.save(selectionAfterCreate(level, name, ctx.target));
      // An env is provisioned by an operation; wait for it so the next command finds it ready.
      if (typeof created.operationId === 'string') await settle({ ...ctx, target: { ...ctx.target, env: name } }, created.operationId);
      for (const warning of Array.isArray(created.warnings) ? created.warnings : []) ctx.out.note(ctx.out.style.yellow(`Warning: ${warning}`));
      ctx.out.result(created[level], () => `Created ${level} ${name} and selected it.\nNext: ${NEXT_STEP[level](name)}`);
    },
  });
}

/** Selecting a parent clears the children below it, so a stale env never points at another app. */
function selectionAfterCreate(level: Level, name: string, t: CommandContext['target']) {
  switch (level) {
    case 'org':
      return { org: name, project: undefined, app: undefined, env: undefined };
    case 'project':
      return { org: t.org, project: name, app: undefined, env: undefined };
    case 'app':
      return { org: t.org, project: t.project, app: name, env: undefined };
    case 'env':
      return { org: t.org, project: t.project, app: t.app, env: name };
  }
}

export function listChildren(level: Level) {
  return defineCommand({
    requires: ['auth', ...PARENTS[level]],
    async handler(ctx) {
      const body = await ctx.api.get<Record<string, { name?: string; env?: string; createdAt: string; createdBy: string; currentReleaseId?: string }[]>>(collectionPath(level, ctx.target));
      const items = body[`${level}s`];
      const selected = ctx.target[level];
      ctx.out.result(items, () => {
        if (!items.length) return `No ${level}s yet. Create one: berth ${level}s create <name>`;
        const rows = items.map((i) => {
          const name = level === 'env' ? i.env! : i.name!;
          const row = [`${name === selected ? '* ' : '  '}${name}`, ago(i.createdAt, ctx.host.now()), i.createdBy];
          return level === 'env' ? [...row, i.currentReleaseId ?? '-'] : row;
        });
        const header = ['  NAME', 'CREATED', 'BY', ...(level === 'env' ? ['RELEASE'] : [])];
        return table([header, ...rows], ctx.out.style);
      });
    },
  });
}
