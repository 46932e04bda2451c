// The adapter from the route table (functions/contract/routes) to hono: `register` serves a route
// with its guard, validators and OpenAPI operation, the handler's input (params, query, body) and
// output (a body per status) typed from the route's schemas; `document` publishes a route that a
// plain hono handler serves (raw bytes, OAuth forms), which the zod validators would get wrong.
import { createRoute, type RouteHandler } from '@hono/zod-openapi';
import type { MiddlewareHandler } from 'hono';
import type { z } from 'zod';
import type { RouteDef } from '../contract/route-def.ts';
import type { Api, ApiEnv } from './app.ts';
import { authorize } from './auth.ts';
import { jsonBody } from './json-body.ts';
import { operationOf } from './openapi-route.ts';
import { declareShownOnce } from './shown-once.ts';

type NoParams = z.ZodObject<{}>;
type Json<S extends z.ZodType> = { description: string; content: { 'application/json': { schema: S } } };

/** What @hono/zod-openapi needs to know of a route to type its handler: only JSON bodies count. */
export type TypedConfig<D extends RouteDef> = {
  method: D['method'];
  path: D['path'];
  request: {
    params: D extends { params: infer P extends z.ZodObject } ? P : NoParams;
    query: D extends { query: infer Q extends z.ZodObject } ? Q : NoParams;
  } & (D extends { body: infer B extends z.ZodType; bodyMediaType?: 'application/json' } ? { body: { content: { 'application/json': { schema: B } }; required: true } } : {});
  responses: { [S in keyof D['responses'] & number]: D['responses'][S] extends { schema: infer X extends z.ZodType } ? Json<X> : { description: string } };
};

export type Handler<D extends RouteDef> = RouteHandler<TypedConfig<D>, ApiEnv>;

function middlewareOf(route: RouteDef): MiddlewareHandler[] {
  // The body is read after the guard (a caller without the role learns nothing from a 400) and
  // before the validators (json-body.ts answers what they would throw as bare HTTPExceptions).
  return [authorize(route.permission), ...(route.shownOnce ? [declareShownOnce(route.shownOnce)] : []), ...(route.body ? [jsonBody()] : [])] as MiddlewareHandler[];
}

export function register<const D extends RouteDef>(api: Api, route: D, handler: Handler<D>): void {
  const { documentedBody: _, ...operation } = operationOf(route);
  const config = createRoute({ ...operation, middleware: middlewareOf(route) } as Parameters<typeof createRoute>[0]);
  // The runtime config carries more than the handler's type (errors, headers, streams): the
  // handler is typed from TypedConfig, the document from the full config.
  api.openapi(config as unknown as TypedConfig<D>, handler);
}

/** Publishes `route` in the document; the caller serves it with a plain handler. */
export function document(api: Api, route: RouteDef): void {
  const { documentedBody, ...operation } = operationOf(route);
  api.openAPIRegistry.registerPath({ ...operation, request: { ...operation.request, ...(documentedBody ? { body: documentedBody } : {}) } } as Parameters<typeof api.openAPIRegistry.registerPath>[0]);
}
