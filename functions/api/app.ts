// The one hono app. Embedded it is served by @hono/node-server; on AWS the Lambda entry wraps this
// very app with `handle(app)`. It speaks Web Request/Response only.
import { OpenAPIHono } from '@hono/zod-openapi';
import type { z } from 'zod';
import { API_VERSION } from '../contract/api.ts';
import { formatIssuePath } from '../contract/parse-manifest.ts';
import { BerthError, InvalidInputError } from '../core/errors.ts';
import type { PlatformDeps } from '../core/services/deps.ts';
import { DeviceFlow, type DeviceFlowSettings } from '../core/services/device-flow.ts';
import { auditMutations } from './audit.ts';
import { bearerAuth, type AuthVariables } from './auth.ts';
import { bodyLimits } from './body-limit.ts';
import { toBerthError } from './http-errors.ts';
import { idempotency } from './idempotency.ts';
import type { ShownOnceVariables } from './shown-once.ts';
import { requestIds } from './request-id.ts';
import { wwwAuthenticate } from './www-authenticate.ts';
import { DEFAULT_RATE_LIMITS, limitBySource, limitByToken, TokenBuckets, type RateLimits } from './rate-limit.ts';
import { getHealth } from '../contract/routes/hierarchy.ts';
import { DOCUMENT_PATH, serveDocument } from './openapi.ts';
import { register } from './route.ts';
import { registerArtifactRoutes } from './routes/artifacts.ts';
import { registerAuditRoutes } from './routes/audit.ts';
import { registerConfigRoutes } from './routes/config.ts';
import { registerDeployRoutes } from './routes/deploys.ts';
import { registerDeviceRoutes } from './routes/device.ts';
import { OAUTH_METADATA_PATH, oauthMetadata } from './routes/oauth-metadata.ts';
import { ROUTES } from '../contract/routes/index.ts';
import { consolePages, type ConsoleAssets } from './routes/console-pages.ts';
import { DEVICE_PAGE_PATH, devicePages } from './routes/device-pages.ts';
import { registerExecRoutes } from './routes/exec.ts';
import { registerHierarchyRoutes } from './routes/hierarchy.ts';
import { registerMcpRoutes } from './routes/mcp.ts';
import { registerMemberRoutes } from './routes/members.ts';
import { registerObserveRoutes } from './routes/observe.ts';
import { registerResourceRoutes } from './routes/resources.ts';

export type ApiEnv = { Variables: AuthVariables & ShownOnceVariables };
export type Api = OpenAPIHono<ApiEnv>;

export interface ApiOptions {
  /** Shown in /v1/health and the OpenAPI document. */
  version: string;
  /**
   * Whether responses can stream (`follow=true`). Embedded they can; behind API Gateway they
   * cannot (responses are buffered, integrations end at 29 s), so clients poll instead.
   * @default true
   */
  streaming?: boolean;
  /**
   * Token buckets per API token and per source ip (functions/api/rate-limit.ts); `false` turns
   * them off (a benchmark of the API's own overhead). Tests pass small values.
   * @default DEFAULT_RATE_LIMITS (20/s, bursts of 100, per token; 5/s, bursts of 20, per ip)
   */
  rateLimits?: RateLimits | false;
  /**
   * The device login's timing (RFC 8628): poll interval, code lifetime, slow_down step, clock.
   * Test-only: tests shorten them; deployments keep the defaults.
   * @default 5 s interval, 600 s lifetime, +5 s per slow_down
   */
  deviceFlow?: DeviceFlowSettings;
  /**
   * The web console's files, served at `/` (console/server/assets.ts): built from the sources
   * embedded, shipped beside the bundle on AWS.
   * @default none: `/` answers not-found
   */
  console?: ConsoleAssets;
}

export function createApi(deps: PlatformDeps, options: ApiOptions): OpenAPIHono<ApiEnv> {
  const app = new OpenAPIHono<ApiEnv>({ defaultHook: rejectInvalid });

  app.use('*', requestIds());

  // Before every route, so that everything (routes added later, the unauthenticated device-login
  // endpoints and approval page too) is audited and limited per source. Audit is outermost: it
  // records the outcome of whatever answered, a 429 or a 413 included.
  const limits = options.rateLimits ?? DEFAULT_RATE_LIMITS;
  app.use('*', auditMutations(deps.store));
  if (limits) app.use('*', limitBySource(new TokenBuckets(limits.perSourceIp)));

  app.onError((err, c) => {
    const e = toBerthError(err, c);
    if (e.category === 'internal' && !(err instanceof BerthError)) console.error(`[${c.get('requestId')}]`, err);
    const res = c.json({ error: e.toBody() }, e.httpStatus as 400);
    // A 413 answers before the body was read. The server would drain the rest only briefly, then
    // drop the socket under a client that pooled it ("other side closed" on its next request);
    // closing it is the clean end, and tells the client not to reuse it.
    if (e.httpStatus === 413) res.headers.set('connection', 'close');
    if (e.httpStatus === 401) res.headers.set('www-authenticate', wwwAuthenticate(e));
    return res;
  });

  app.notFound((c) => {
    const e = new BerthError('not-found', 'route-not-found', `no route ${c.req.method} ${new URL(c.req.url).pathname}; the routes are listed in /${API_VERSION}/openapi.json`);
    return c.json({ error: e.toBody() }, 404);
  });

  const streaming = options.streaming ?? true;
  const v1 = new OpenAPIHono<ApiEnv>({ defaultHook: rejectInvalid });
  register(v1, getHealth, (c) => c.json({ ok: true as const, version: options.version, streaming, ...(deps.isolation ? { isolation: deps.isolation } : {}) }, 200));
  serveDocument(app, options.version);

  // No token needed: the document and the public routes of the table (health, the device-login
  // endpoints `berth login` calls before it has a token).
  const open = new Set([DOCUMENT_PATH, ...ROUTES.filter((r) => r.permission === 'public').map((r) => `/${API_VERSION}${r.path}`)]);
  app.use(`/${API_VERSION}/*`, async (c, next) => {
    if (open.has(new URL(c.req.url).pathname)) return next();
    return bearerAuth(deps.store)(c, next);
  });
  if (limits) app.use(`/${API_VERSION}/*`, limitByToken(new TokenBuckets(limits.perToken)));
  // After auth, so a 413 is attributed to its token in the audit log; before anything reads a body.
  app.use('*', bodyLimits());
  app.use(`/${API_VERSION}/*`, idempotency(deps.store));

  registerHierarchyRoutes(v1, deps);
  registerConfigRoutes(v1, deps);
  registerArtifactRoutes(v1, deps);
  registerDeployRoutes(v1, deps);
  registerObserveRoutes(v1, deps, { streaming });
  registerResourceRoutes(v1, deps);
  registerExecRoutes(v1, deps);
  registerMemberRoutes(v1, deps);
  registerAuditRoutes(v1, deps);
  // Tool calls re-enter through `app`, so they pass every middleware above, as a client's request does.
  registerMcpRoutes(v1, { version: options.version, dispatch: (request, env) => app.fetch(request, env) });
  const deviceFlow = new DeviceFlow(deps.store, options.deviceFlow);
  registerDeviceRoutes(v1, deps, deviceFlow);
  app.route(`/${API_VERSION}`, v1);
  app.route(OAUTH_METADATA_PATH, oauthMetadata());
  // The approval page people open from `berth login` (HTML, outside /v1).
  app.route(DEVICE_PAGE_PATH, devicePages(deps.store, deviceFlow));
  // The web console: a static page and its files; it calls /v1 with the token it holds.
  if (options.console) app.route('/', consolePages(options.console));
  return app;
}

/** Validation failures become one invalid-input error naming every field, the value and the rule. */
function rejectInvalid(result: { success: boolean; error?: z.ZodError; target?: string }): void {
  if (result.success || !result.error) return;
  // A bad record key (a reserved name) says why in its own issues; the outer one only says "Invalid key".
  const message = (i: z.core.$ZodIssue) => (i.code === 'invalid_key' && i.issues[0] ? `the name ${i.issues[0].message}` : i.message);
  const details = result.error.issues.map((i) => ({ path: formatIssuePath(i.path), message: message(i), in: result.target }));
  const lines = details.map((d) => `${d.in ?? 'request'} ${d.path || '(root)'}: ${d.message}`);
  throw new InvalidInputError('request-invalid', `the request is not valid: ${lines.join('; ')}`, { details });
}
