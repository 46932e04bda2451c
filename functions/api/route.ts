// A compact way to declare an OpenAPI route from the contract's zod schemas.
import { createRoute } from '@hono/zod-openapi';
import { z } from 'zod';
import { ErrorEnvelope } from '../contract/api.ts';
import { MINIMUM_ROLE, type Permission } from '../core/roles.ts';
import { authorize } from './auth.ts';
import { declareShownOnce } from './shown-once.ts';
import { jsonBody } from './json-body.ts';

type Obj = z.ZodObject;
const NoParams = z.object({});

interface RouteSpec<P extends Obj, Q extends Obj, B extends z.ZodType> {
  method: 'get' | 'post' | 'put' | 'patch' | 'delete';
  path: string;
  summary: string;
  tag: string;
  /** Who may call it (core/roles.ts); enforced by `authorize`, published as x-berth-permission. */
  permission: Permission;
  params?: P;
  query?: Q;
  body?: B;
  /** Success status: 200 by default, 202 for mutations that start an operation. */
  status?: 200 | 201 | 202;
  /** Description of the success response. */
  returns?: string;
  /**
   * Dot paths of answer fields that hold a credential shown this once (a token, an invite code):
   * an Idempotency-Key record never stores them, and a replay says they were shown once.
   */
  shownOnce?: readonly string[];
}

export function route<P extends Obj = typeof NoParams, Q extends Obj = typeof NoParams, B extends z.ZodType = z.ZodUnknown>(spec: RouteSpec<P, Q, B>) {
  const status = spec.status ?? 200;
  return createRoute({
    method: spec.method,
    path: spec.path,
    summary: spec.summary,
    description: `Needs: ${spec.permission in MINIMUM_ROLE ? `role ${MINIMUM_ROLE[spec.permission as keyof typeof MINIMUM_ROLE]} or higher in the org` : spec.permission === 'platform' ? 'the bootstrap token' : 'any valid token'}.`,
    'x-berth-permission': spec.permission,
    // The body is read after the guard (a caller without the role learns nothing from a 400) and
    // before the validators (json-body.ts answers what they would throw as bare HTTPExceptions).
    middleware: [authorize(spec.permission), ...(spec.shownOnce ? [declareShownOnce(spec.shownOnce)] : []), ...(spec.body ? [jsonBody()] : [])] as unknown as [ReturnType<typeof authorize>],
    tags: [spec.tag],
    security: [{ bearer: [] }],
    request: {
      params: (spec.params ?? NoParams) as P,
      query: (spec.query ?? NoParams) as Q,
      // Typed as always present so handlers can read it; only routes that declare a body get one.
      ...((spec.body ? { body: { content: { 'application/json': { schema: spec.body } }, required: true } } : {}) as { body: { content: { 'application/json': { schema: B } }; required: true } }),
    },
    responses: {
      [status]: { description: spec.returns ?? 'OK', content: { 'application/json': { schema: z.looseObject({}) } } },
      default: { description: "An error: see the envelope's category, code and next commands.", content: { 'application/json': { schema: ErrorEnvelope } } },
    },
  });
}
