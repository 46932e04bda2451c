// What a route of the HTTP API is, as data: the server registers from it (functions/api/route.ts),
// the OpenAPI document is generated from it (functions/api/openapi.ts), clients build paths with it
// (path.ts). No Node-only imports: the console runs this in the browser.
import type { z } from 'zod';
import type { Permission } from '../core/roles.ts';

export type Method = 'get' | 'post' | 'put' | 'patch' | 'delete';
export type SuccessStatus = 200 | 201 | 202;

/** Response headers the document declares (the server sets them; see functions/api). */
export type ResponseHeader = 'x-request-id' | 'idempotent-replayed' | 'x-berth-next';

export interface ResponseDef {
  description: string;
  /** The JSON body; absent for a streamed-only or empty answer. */
  schema?: z.ZodType;
  /** A second media type of the same status: NDJSON lines (`item` is one line) or CSV text. */
  stream?: { mediaType: 'application/x-ndjson' | 'text/csv'; item?: z.ZodType; description: string };
  headers?: readonly ResponseHeader[];
  example?: unknown;
}

export interface RouteDef {
  /** camelCase verb-noun, unique: what generated clients name the call. */
  operationId: string;
  method: Method;
  /** OpenAPI template under /v1, e.g. /orgs/{org}/projects. */
  path: string;
  tag: Tag;
  summary: string;
  description?: string;
  /** Who may call it (core/roles.ts); enforced by the server, published as x-berth-permission. */
  permission: Permission;
  params?: z.ZodObject;
  query?: z.ZodObject;
  body?: z.ZodType;
  /** Default `application/json`; the artifact upload is raw bytes; OAuth endpoints take forms too. */
  bodyMediaType?: 'application/json' | 'application/octet-stream' | 'oauth-form';
  requestExample?: unknown;
  responses: Partial<Record<SuccessStatus, ResponseDef>>;
  /**
   * Error statuses beyond the ones every route of its kind can answer (errorStatuses in
   * openapi-errors.ts derives those: 400 with input, 401 with a token, 403 with a role, …).
   */
  errors?: readonly number[];
  /** Errors in OAuth's shape ({error, error_description}) rather than the Berth envelope. */
  oauthErrors?: boolean;
  /**
   * Dot paths of answer fields that hold a credential shown this once (a token, an invite code):
   * an Idempotency-Key record never stores them, and a replay says they were shown once.
   */
  shownOnce?: readonly string[];
}

/** Keeps the literal types of a route (its schemas, statuses, path) for the server's handler types. */
export const defineRoute = <const D extends RouteDef>(route: D): D => route;

export const TAGS = {
  meta: 'The API itself: health, the OpenAPI document, OAuth metadata.',
  identity: 'Tokens and who they belong to; the device login of `berth login` (RFC 8628).',
  billing: 'Cost allocation tags for Cost Explorer.',
  orgs: 'Orgs: the billing and membership boundary.',
  projects: 'Projects group apps and environments.',
  apps: 'Apps of a project.',
  envs: 'Environments of an app (prod, staging, …): create and destroy.',
  config: 'Plain config (environment variables); takes effect through a release.',
  secrets: 'Secret bundles, delivered to instances as files; values never come back.',
  artifacts: 'Release snapshots, uploaded once per content digest.',
  deploys: 'Deploys and rollbacks: receipts at once, rollouts in the background.',
  scale: 'Count, min/max, cpu and memory per workload.',
  status: 'Desired and current state side by side.',
  releases: 'Immutable releases of an env.',
  operations: 'Operations (rollouts, sagas) and cancelling them.',
  events: 'What happened to an env, step by step; follow as NDJSON.',
  logs: 'App and system logs; follow as NDJSON.',
  endpoints: 'L4 endpoints (IPv6 first) and what is exposed across the org.',
  volumes: 'Persistent volumes, snapshots and restores.',
  exec: 'Command sessions in running instances.',
  members: 'People of an org and their roles.',
  tokens: 'CI tokens of an org.',
  audit: 'Who did what, when, from where; JSON or CSV.',
  mcp: 'The Model Context Protocol endpoint for agents.',
} as const;
export type Tag = keyof typeof TAGS;
