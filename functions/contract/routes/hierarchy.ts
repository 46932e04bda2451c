// Routes of the hierarchy (orgs → projects → apps → envs), identity and the API itself.
import { z } from 'zod';
import { AppParams, CreateNamed, EnvDestroyQuery, EnvParams, OrgParams, ProjectParams } from '../api.ts';
import { App, Env, Org, Project } from '../records.ts';
import { EnvDestroyReceipt, Isolation } from '../responses.ts';
import { defineRoute } from '../route-def.ts';

const Strings = z.array(z.string());
const NAME_EXAMPLE = { name: 'acme' };

export const getHealth = defineRoute({
  operationId: 'getHealth', method: 'get', path: '/health', tag: 'meta', permission: 'public',
  summary: 'Health: the version, whether responses can stream, and how instances are isolated',
  responses: { 200: { description: 'Up', schema: z.object({ ok: z.literal(true), version: z.string(), streaming: z.boolean(), isolation: Isolation.optional() }), example: { ok: true, version: '0.1.0', streaming: true } } },
});

export const activateCostAllocationTags = defineRoute({
  operationId: 'activateCostAllocationTags', method: 'post', path: '/cost-allocation-tags', tag: 'billing', permission: 'platform',
  summary: 'Activate berth:org/project/app/env as cost allocation tags (AWS Billing), so Cost Explorer groups by them',
  responses: { 200: { description: 'What was activated and what AWS has not seen yet', schema: z.object({ activated: Strings, notYetSeen: Strings, next: Strings }) } },
});

export const getWhoami = defineRoute({
  operationId: 'getWhoami', method: 'get', path: '/whoami', tag: 'identity', permission: 'authenticated',
  summary: 'Who the token belongs to',
  responses: {
    200: {
      description: 'The actor and the token (never its secret)',
      schema: z.object({
        actor: z.object({ id: z.string(), name: z.string() }),
        token: z.object({ id: z.string(), name: z.string(), kind: z.enum(['bootstrap', 'session', 'ci']), principal: z.string(), org: z.string().nullable(), role: z.string().nullable(), expiresAt: z.string().nullable() }),
      }),
    },
  },
});

export const createOrg = defineRoute({
  operationId: 'createOrg', method: 'post', path: '/orgs', tag: 'orgs', permission: 'platform', summary: 'Create an org',
  body: CreateNamed, requestExample: NAME_EXAMPLE, errors: [409],
  responses: { 201: { description: 'The org; a warning when orgs share an unsandboxed machine', schema: z.object({ org: Org, warnings: Strings.optional() }) } },
});
export const listOrgs = defineRoute({
  operationId: 'listOrgs', method: 'get', path: '/orgs', tag: 'orgs', permission: 'authenticated', summary: 'List orgs the token can see',
  responses: { 200: { description: 'Orgs', schema: z.object({ orgs: z.array(Org) }) } },
});

export const createProject = defineRoute({
  operationId: 'createProject', method: 'post', path: '/orgs/{org}/projects', tag: 'projects', permission: 'admin', summary: 'Create a project',
  params: OrgParams, body: CreateNamed, requestExample: { name: 'shop' }, errors: [409],
  responses: { 201: { description: 'The project', schema: z.object({ project: Project }) } },
});
export const listProjects = defineRoute({
  operationId: 'listProjects', method: 'get', path: '/orgs/{org}/projects', tag: 'projects', permission: 'read', summary: 'List projects',
  params: OrgParams,
  responses: { 200: { description: 'Projects', schema: z.object({ projects: z.array(Project) }) } },
});

export const createApp = defineRoute({
  operationId: 'createApp', method: 'post', path: '/orgs/{org}/projects/{project}/apps', tag: 'apps', permission: 'admin', summary: 'Create an app',
  params: ProjectParams, body: CreateNamed, requestExample: { name: 'web' }, errors: [409],
  responses: { 201: { description: 'The app', schema: z.object({ app: App }) } },
});
export const listApps = defineRoute({
  operationId: 'listApps', method: 'get', path: '/orgs/{org}/projects/{project}/apps', tag: 'apps', permission: 'read', summary: 'List apps',
  params: ProjectParams,
  responses: { 200: { description: 'Apps', schema: z.object({ apps: z.array(App) }) } },
});

export const createEnv = defineRoute({
  operationId: 'createEnv', method: 'post', path: '/orgs/{org}/projects/{project}/apps/{app}/envs', tag: 'envs', permission: 'admin', summary: 'Create an env (its network resources are created by an operation)',
  params: AppParams, body: CreateNamed, requestExample: { name: 'prod' }, errors: [409],
  responses: { 201: { description: 'The env and the operation that provisions it', schema: z.object({ env: Env, operationId: z.string() }) } },
});
export const listEnvs = defineRoute({
  operationId: 'listEnvs', method: 'get', path: '/orgs/{org}/projects/{project}/apps/{app}/envs', tag: 'envs', permission: 'read', summary: 'List envs',
  params: AppParams,
  responses: { 200: { description: 'Envs', schema: z.object({ envs: z.array(Env) }) } },
});
export const destroyEnv = defineRoute({
  operationId: 'destroyEnv', method: 'delete', path: '/orgs/{org}/projects/{project}/apps/{app}/envs/{env}', tag: 'envs', permission: 'admin',
  summary: 'Destroy an env: stop its instances, delete its endpoints, secrets and network resources; volumes are kept unless purge-volumes=true; history is kept',
  params: EnvParams, query: EnvDestroyQuery, errors: [409],
  responses: { 202: { description: 'The receipt; the destroy runs as an operation', schema: z.object({ receipt: EnvDestroyReceipt }) } },
});

export const HIERARCHY_ROUTES = [getHealth, activateCostAllocationTags, getWhoami, createOrg, listOrgs, createProject, listProjects, createApp, listApps, createEnv, listEnvs, destroyEnv] as const;
