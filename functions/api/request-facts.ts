// Facts about a request that the audit, the rate limits and the body limits share: where it came
// from and which route template it matched.
import type { Context } from 'hono';
import { matchedRoutes } from 'hono/route';
import { API_VERSION } from '../contract/api.ts';

/**
 * The caller's address as the transport saw it. Lambda behind API Gateway: `requestContext`
 * (hono/aws-lambda passes `{ event, requestContext, lambdaContext }` as bindings; HTTP API puts
 * it in `http.sourceIp`, REST API in `identity.sourceIp`). Embedded: @hono/node-server's
 * `incoming.socket`. X-Forwarded-For is not read: a caller can write anything there, and neither
 * deployment has a proxy in front whose header could be trusted.
 */
export function sourceIp(c: Context): string | undefined {
  const env = c.env as
    | {
        requestContext?: { http?: { sourceIp?: string }; identity?: { sourceIp?: string } };
        incoming?: { socket?: { remoteAddress?: string } };
      }
    | undefined;
  return env?.requestContext?.http?.sourceIp ?? env?.requestContext?.identity?.sourceIp ?? env?.incoming?.socket?.remoteAddress ?? undefined;
}

export function isLoopback(ip: string): boolean {
  return ip === '::1' || /^(::ffff:)?127\./.test(ip);
}

/**
 * The route the request matched, as a template without the version prefix
 * (`/orgs/{org}/projects`), or undefined when no route matched. Middlewares are registered for
 * every method (`ALL`); the last method-specific entry is the route itself. The router matches
 * every handler up front, so this works before `next()` as well as after.
 */
export function routeTemplate(c: Context): string | undefined {
  const route = matchedRoutes(c).findLast((r) => r.method !== 'ALL');
  if (!route) return undefined;
  return stripVersion(route.path).replace(/:([A-Za-z0-9_]+)/g, '{$1}');
}

/** The request path without the `/v1` prefix. */
export function resourcePath(c: Context): string {
  return stripVersion(new URL(c.req.url).pathname);
}

function stripVersion(path: string): string {
  const prefix = `/${API_VERSION}`;
  return path.startsWith(`${prefix}/`) ? path.slice(prefix.length) : path;
}
