// Orgs → projects → apps → envs. Each create checks its parent, then writes one conditional item.
import { ConflictError, NotFoundError } from '../errors.ts';
import type { App, Env, Org, Project, TokenRecord } from '../model.ts';
import type { EnvRef } from '../ports.ts';
import type { AppRef, StateStore } from '../state-store.ts';
import type { Actor } from './deps.ts';

/**
 * Creates the org with its creator as owner. No transactions in the store: the org goes first and
 * the membership second, and the creator repeating the call finishes a create a crash interrupted.
 */
export async function createOrg(store: StateStore, name: string, actor: Actor): Promise<Org> {
  const org: Org = { name, createdAt: new Date().toISOString(), createdBy: actor.name };
  try {
    await store.createOrg(org);
  } catch (err) {
    const existing = err instanceof ConflictError ? await store.getOrg(name) : undefined;
    if (existing?.createdBy !== actor.name || (await store.getMember(name, actor.name))) throw err;
    await ensureOwner(store, existing, actor);
    return existing;
  }
  await ensureOwner(store, org, actor);
  return org;
}

async function ensureOwner(store: StateStore, org: Org, actor: Actor): Promise<void> {
  await store.createMember({ org: org.name, email: actor.name, role: 'owner', status: 'active', invitedBy: actor.name, createdAt: org.createdAt }).catch((err: unknown) => {
    if (!(err instanceof ConflictError)) throw err;
  });
}

/** The orgs the caller may see: its token's org, or every org the installer is a member of. */
export async function visibleOrgs(store: StateStore, token: TokenRecord): Promise<Org[]> {
  const names = token.kind === 'bootstrap' ? (await store.listMemberships(token.principal)).map((m) => m.org) : token.org ? [token.org] : [];
  const orgs = await Promise.all(names.map((n) => store.getOrg(n)));
  return orgs.filter((o): o is Org => Boolean(o));
}

export async function createProject(store: StateStore, org: string, name: string, actor: Actor): Promise<Project> {
  await requireOrg(store, org);
  const project: Project = { org, name, createdAt: new Date().toISOString(), createdBy: actor.name };
  await store.createProject(project);
  return project;
}

export async function createApp(store: StateStore, org: string, project: string, name: string, actor: Actor): Promise<App> {
  await requireProject(store, org, project);
  const app: App = { org, project, name, createdAt: new Date().toISOString(), createdBy: actor.name };
  await store.createApp(app);
  return app;
}

/** Writes the env record; `createEnvWithResources` then provisions it through the env machine. */
export async function createEnv(store: StateStore, ref: EnvRef, actor: Actor): Promise<Env> {
  await requireApp(store, ref);
  const now = new Date().toISOString();
  const env: Env = { ...ref, version: 0, createdAt: now, updatedAt: now, createdBy: actor.name };
  await store.createEnv(env);
  return env;
}

/** One answer for "no such org" and "not yours": callers must not learn which orgs exist. */
export function orgNotFound(org: string): NotFoundError {
  return new NotFoundError('org-not-found', `org "${org}" does not exist or your token has no access to it`, { next: ['berth orgs list', 'berth whoami'] });
}

export async function requireOrg(store: StateStore, org: string): Promise<Org> {
  const found = await store.getOrg(org);
  if (!found) throw orgNotFound(org);
  return found;
}

export async function requireProject(store: StateStore, org: string, project: string): Promise<Project> {
  await requireOrg(store, org);
  const found = await store.getProject(org, project);
  if (!found) throw new NotFoundError('project-not-found', `project "${project}" does not exist in org "${org}"`, { next: [`berth projects create ${project}`, 'berth projects list'] });
  return found;
}

export async function requireApp(store: StateStore, ref: AppRef): Promise<App> {
  await requireProject(store, ref.org, ref.project);
  const found = await store.getApp(ref);
  if (!found) throw new NotFoundError('app-not-found', `app "${ref.app}" does not exist in ${ref.org}/${ref.project}`, { next: [`berth apps create ${ref.app}`, 'berth apps list'] });
  return found;
}

export async function requireEnv(store: StateStore, ref: EnvRef): Promise<Env> {
  const found = await store.getEnv(ref);
  if (found) return found;
  await requireApp(store, ref);
  throw new NotFoundError('env-not-found', `env "${ref.env}" does not exist in ${ref.org}/${ref.project}/${ref.app}`, { next: [`berth envs create ${ref.env}`, 'berth envs list'] });
}
