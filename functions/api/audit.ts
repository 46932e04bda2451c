// Every mutation through the API (the CLI, the console and MCP all come this way) leaves one
// audit record, whatever its outcome: denied and failed attempts matter most. App-wide, so a
// route added later is covered without doing anything.
//
// Which org's log a record goes to (only members of an org read its log):
// - the org in the path (`/orgs/{org}/…`), or the org `POST /orgs` created, when the caller has
//   a role there;
// - otherwise the caller's own org (a token of org B poking at org A is B's business, and must not
//   be able to write into A's log; the record keeps the concrete resource and says `denied`);
// - no org at all (a request without a valid API token, or the installer's bootstrap token outside
//   any org it is a member of): a structured `audit` line in the server log (CloudWatch Logs on
//   AWS) instead, with the action, resource, request id, source ip and outcome. Callers without a
//   token (none, a bad one, the device-login endpoints and the approval page under /device, whose
//   forms use a cookie session rather than a token) are nobody in any org as far as this
//   middleware can tell; storing their attempts under an org they name would let anyone fill any
//   org's log. The approval page is the exception: it names the member and the org a login was
//   approved for (`auditSubject`), so approvals land in that org's log.
//
// Never recorded: request bodies (they carry secret values) and query strings. The resource is the
// path with its parameters; a parameter whose name says it is a credential stays `{name}`.
//
// If the record cannot be stored, the request fails loudly with 500 `audit-write-failed`, and the
// record is written to the server log at error level so it is not lost. The change may already
// have happened (the record is written once the outcome is known, so it can say how it ended);
// the error says so, and a retry with the same Idempotency-Key (the CLI always sends one) replays
// the original answer and records it. An unaudited change must never look like a normal success.
import type { Context, MiddlewareHandler } from 'hono';
import { API_VERSION } from '../contract/api.ts';
import type { AuditRecord } from '../contract/audit.ts';
import { Name } from '../contract/manifest.ts';
import { BerthError, isErrorCategory, type ErrorCategory } from '../core/errors.ts';
import { ulid } from '../core/ids.ts';
import type { TokenRecord } from '../core/model.ts';
import type { StateStore } from '../core/state-store.ts';
import { roleIn, type AuthVariables } from './auth.ts';
import { resourcePath, routeTemplate, sourceIp } from './request-facts.ts';

/** Not mutations: reads, and CORS preflights. Everything else is audited. */
const READS = new Set(['GET', 'HEAD', 'OPTIONS']);

/**
 * POSTs that only carry other requests: MCP's JSON-RPC envelopes (initialize, tools/list,
 * tools/call). A tool call is an API request of its own, audited with the same token, so an
 * envelope that got through is not recorded again (it would log every read an agent makes as a
 * mutation); one that was refused (401, 429, 413…) is, like any refused request.
 */
const ENVELOPES = new Set([`/${API_VERSION}/mcp`]);

/** Path parameters that must not appear in a record (one-time codes in a path). */
const CREDENTIAL_PARAM = /token|code|secret|password|ticket/i;

type AuditContext = Context<{ Variables: AuthVariables }>;

export function auditMutations(store: StateStore): MiddlewareHandler<{ Variables: AuthVariables }> {
  return async (c, next) => {
    if (READS.has(c.req.method)) return next();
    const arrived = Date.now();
    await next();
    if (c.res.status < 400 && ENVELOPES.has(new URL(c.req.url).pathname)) return;
    const token = c.get('token') as TokenRecord | undefined;
    const facts = { id: `aud-${ulid(arrived)}`, time: new Date(arrived).toISOString(), ...describeRequest(c), ...(await outcomeOf(c)) };
    const subject = token ? undefined : c.get('auditSubject');
    if (subject) {
      // A member acting through a signed-in page (approving a device login) rather than a token.
      return append(store, { ...facts, ...subject, outcome: facts.status < 400 ? 'success' : 'failed' });
    }
    const { org, outsider } = token ? await auditOrg(c, store, token) : { org: undefined, outsider: false };
    const outcome: AuditRecord['outcome'] = facts.status < 400 ? 'success' : outsider || facts.errorCategory === 'permission' || facts.errorCategory === 'quota' ? 'denied' : 'failed';
    if (!token || !org) {
      console.info(JSON.stringify({ level: 'info', msg: 'audit', ...facts, outcome, actor: token?.principal ?? 'anonymous', tokenId: token?.id, tokenKind: token?.kind }));
      return;
    }
    await append(store, { ...facts, org, actor: token.principal, tokenId: token.id, tokenKind: token.kind, outcome });
  };
}

async function append(store: StateStore, record: AuditRecord): Promise<void> {
  try {
    await store.appendAudit(record);
  } catch (err) {
    console.error(JSON.stringify({ level: 'error', msg: 'audit-write-failed', record, error: String(err) }));
    throw auditWriteFailed(record, err);
  }
}

function describeRequest(c: AuditContext) {
  const template = routeTemplate(c);
  const resource = resourcePath(c);
  return {
    action: `${c.req.method} ${template ?? '(no such route)'}`,
    resource: template ? fillTemplate(template, resource) : resource,
    requestId: c.get('requestId'),
    clientRequestId: c.get('clientRequestId'),
    sourceIp: sourceIp(c),
    replayed: c.res.headers.get('idempotent-replayed') === 'true' ? true : undefined,
  };
}

/** The template with the request's values, except credential-like parameters. */
function fillTemplate(template: string, path: string): string {
  const names = template.split('/');
  const values = path.split('/');
  if (names.length !== values.length) return path;
  return names.map((part, i) => (/^\{.+\}$/.test(part) && !CREDENTIAL_PARAM.test(part) ? values[i] : part)).join('/');
}

async function outcomeOf(c: AuditContext): Promise<{ status: number; errorCategory?: ErrorCategory; errorCode?: string }> {
  const status = c.res.status;
  if (status < 400) return { status };
  if (c.error instanceof BerthError) return { status, errorCategory: c.error.category, errorCode: c.error.code };
  // A replayed or directly returned error: read the category and code from the envelope only.
  try {
    const body = (await c.res.clone().json()) as { error?: { category?: unknown; code?: unknown } };
    const category = body.error?.category;
    return { status, errorCategory: isErrorCategory(category) ? category : undefined, errorCode: typeof body.error?.code === 'string' ? body.error.code : undefined };
  } catch {
    return { status };
  }
}

async function auditOrg(c: AuditContext, store: StateStore, token: TokenRecord): Promise<{ org?: string; outsider: boolean }> {
  const target = orgInPath(resourcePath(c)) ?? (await createdOrg(c));
  if (!target) return { org: token.org, outsider: false };
  // `authorize` sets the role when it let the request through; otherwise ask (a 403, a 429…).
  if (c.get('role') ?? (await roleIn(store, token, target))) return { org: target, outsider: false };
  return { org: token.org, outsider: true };
}

function orgInPath(resource: string): string | undefined {
  const m = /^\/orgs\/([^/]+)(\/|$)/.exec(resource);
  if (!m) return undefined;
  const name = Name.safeParse(decodePathSegment(m[1]));
  return name.success ? name.data : undefined;
}

/** A raw path segment, decoded; a bad `%` escape is kept as sent (it names no org anyway). */
function decodePathSegment(segment: string): string {
  try {
    return decodeURIComponent(segment);
  } catch {
    return segment;
  }
}

/** `POST /orgs` names its org in the body; the answer repeats it, so read it from there. */
async function createdOrg(c: AuditContext): Promise<string | undefined> {
  if (routeTemplate(c) !== '/orgs' || c.res.status >= 400) return undefined;
  const body = (await c.res.clone().json()) as { org?: { name?: unknown } };
  const name = Name.safeParse(body.org?.name);
  return name.success ? name.data : undefined;
}

function auditWriteFailed(record: AuditRecord, cause: unknown): BerthError {
  const what = `${record.action} (${record.resource}, request ${record.requestId})`;
  const effect =
    record.status < 400
      ? `it was carried out (status ${record.status}), so the change has taken effect`
      : `it had already failed (status ${record.status} ${record.errorCategory ?? ''}/${record.errorCode ?? ''}), so nothing changed`;
  return new BerthError(
    'internal',
    'audit-write-failed',
    `${what}: ${effect}, but its audit record could not be stored; Berth does not answer an unaudited request as if all were well. The record is in the server log. Retrying with the same Idempotency-Key returns the original answer and records it`,
    { details: { status: record.status, requestId: record.requestId }, next: ['berth status (did the change take effect?)', 'berth audit --since 10m'], cause },
  );
}
