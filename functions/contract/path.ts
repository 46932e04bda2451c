// The one path builder: every client (CLI, console, MCP, tests) turns a route of the table and its
// parameters into a URL path here, each segment URL-encoded, instead of writing templates by hand.
import { API_VERSION } from './api.ts';
import type { RouteDef } from './route-def.ts';

/** `{org}` … of a path template, as a type: pathFor asks for exactly these. */
export type PathParams<P extends string> = P extends `${string}{${infer K}}${infer Rest}` ? { [key in K]: string } & PathParams<Rest> : unknown;

/** `/v1/…` of `route` with its `{name}` segments filled in (encodeURIComponent); extra keys are ignored. */
export function pathFor<R extends Pick<RouteDef, 'path' | 'operationId'>>(route: R, params: PathParams<R['path']>, query?: Record<string, string | number | boolean | undefined>): string {
  const values = params as Record<string, string>;
  const path = route.path.replace(/\{([^}]+)\}/g, (_, key: string) => {
    const value = values[key];
    if (value === undefined) throw new Error(`pathFor(${route.operationId}): parameter ${key} is missing`);
    return encodeURIComponent(value);
  });
  const search = new URLSearchParams();
  for (const [k, v] of Object.entries(query ?? {})) if (v !== undefined) search.set(k, String(v));
  const qs = search.toString();
  return `/${API_VERSION}${path}${qs ? `?${qs}` : ''}`;
}
