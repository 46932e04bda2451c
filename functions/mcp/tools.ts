// The MCP tools: one table, served by `berth mcp` (stdio) and `POST /v1/mcp` (streamable HTTP).
// A tool is an HTTP API call and nothing more: its arguments are the route's path parameters plus
// its body or query schema, taken from the contract (functions/contract/api.ts), and the call goes
// through the API's door (token, role, audit, rate limits, validation) like any other client's.
// Only the contract and zod are imported here, so the CLI can serve these tools too (SPEC §6: a
// client shares the contract, never server internals), and nothing here needs Node.
import type { ToolAnnotations } from '@modelcontextprotocol/sdk/types.js';
import { z } from 'zod';
import { DeployBody, EnvParams, EventsQuery, LogsQuery, OperationId, ReleasesQuery, RollbackBody, ScaleBody, ScaleSettings } from '../contract/api.ts';
import { FARGATE_MEMORY } from '../contract/manifest.ts';
import type { DeployReceipt, ScaleReceipt } from '../contract/responses.ts';
import type { EnvRef, LogLine } from '../core/ports.ts';

/** Most log lines one call returns: an agent's context is small, and `logs` has no follow here. */
export const MAX_LOG_LINES = 500;
/** Most events one call returns; page on with `after`. */
export const MAX_EVENTS = 200;

export interface ApiRequest {
  method: 'GET' | 'POST';
  path: string;
  query?: Record<string, string | number | boolean | undefined>;
  body?: unknown;
  idempotencyKey?: string;
}

export interface McpTool {
  name: string;
  title: string;
  description: string;
  /** The arguments; their JSON Schema is what `tools/list` shows. */
  input: z.ZodObject;
  annotations: ToolAnnotations;
  /** The API call the (validated) arguments make. */
  request(args: Record<string, unknown>): ApiRequest;
  /** A short text for the answer (a receipt's gist); the answer's JSON follows it. */
  summary?(body: Record<string, unknown>): string;
  /** Text that stands in for the JSON (log lines in their stable format); structured content still has it all. */
  render?(body: Record<string, unknown>): string;
}

const READ: ToolAnnotations = { readOnlyHint: true, openWorldHint: false };

// The Idempotency-Key header the API honours for every mutation (functions/api/idempotency.ts).
const IdempotencyKey = z
  .string()
  .min(1)
  .max(255)
  .optional()
  .describe('Any unique string (a UUID). A retry with the same key answers with the first receipt instead of acting twice.');

/**
 * The env a tool acts on: EnvParams' fields, each defaulting to the caller's selection when there is
 * one (`berth mcp`: the CLI's org/project/app/env; `/v1/mcp`: the token's org).
 */
function envFields(defaults: Partial<EnvRef>, optional = false) {
  const field = (key: keyof EnvRef) => {
    const base = EnvParams.shape[key];
    const value = defaults[key];
    return value ? base.default(value) : optional ? base.optional() : base;
  };
  return { org: field('org'), project: field('project'), app: field('app'), env: field('env') };
}

/**
 * The shape with a description on every field an agent sees: the contract's own where it has one,
 * else the wording here (an undescribed property leaves an agent guessing).
 */
function described<S extends Record<string, z.ZodType>>(shape: S, descriptions: Partial<Record<keyof S, string>>): S {
  const out: Record<string, z.ZodType> = { ...shape };
  for (const [key, text] of Object.entries(descriptions)) {
    const field = shape[key];
    if (field && text && !field.description) out[key] = field.describe(text);
  }
  // Same keys, same types: only descriptions were added.
  return out as S;
}

/** Only the cpu sizes Fargate runs (the manifest's table), so an agent cannot send 300. */
const FargateCpu = z.literal(Object.keys(FARGATE_MEMORY).map(Number) as [number, ...number[]]).describe(`CPU units: one of ${Object.keys(FARGATE_MEMORY).join(', ')} (1024 = 1 vCPU); memory must fit it.`);

const ScaleInput = z
  .object({
    workload: ScaleBody.shape.workload.describe('The workload to scale (see status.workloads[].name).'),
    settings: z
      .object(
        described(
          { ...ScaleSettings.shape, cpu: FargateCpu.optional() },
          { count: 'Instances to run (0–100); with min/max, where the count starts.', memory: 'Memory in MiB, one of the sizes valid for the cpu (256 cpu: 512, 1024, 2048).' },
        ),
      )
      .strict()
      .describe('What to change; settings left out keep their value.'),
  })
  .strict();

const seg = encodeURIComponent;
const envPath = (a: Record<string, unknown>, suffix: string) => `/v1/orgs/${seg(String(a.org))}/projects/${seg(String(a.project))}/apps/${seg(String(a.app))}/envs/${seg(String(a.env))}${suffix}`;

/** The arguments minus the env's names and the idempotency key: the body or query of the call. */
function rest(a: Record<string, unknown>): Record<string, unknown> {
  const { org: _o, project: _p, app: _a, env: _e, idempotencyKey: _k, all: _all, ...others } = a;
  return others;
}

function deploySummary(r: DeployReceipt, verb: string): string {
  if (r.dryRun) return `Dry run: ${r.releaseId} would be created for ${r.env}; nothing was applied.`;
  return `${verb} ${r.releaseId} accepted for ${r.env}; rolling out as ${r.operationId}. It continues in the background: call events with operation ${r.operationId}, then status.`;
}

export function mcpTools(defaults: Partial<EnvRef> = {}): McpTool[] {
  const env = envFields(defaults);
  return [
    {
      name: 'deploy',
      title: 'Deploy a release',
      description:
        'Create a release from a berth.yaml manifest and an uploaded snapshot (artifactDigest, embedded) or an image pinned by digest (AWS), and roll it out. ' +
        'Answers at once with the receipt (release id, operation id, diff, next steps); refused with config-missing when the env lacks config keys or secret bundles the manifest requires. ' +
        'dryRun shows the diff without applying it. Not idempotent: each call makes a new release (pass idempotencyKey to retry safely).',
      input: z.object({ ...env, ...described(DeployBody.shape, { dryRun: 'Validate and show the receipt (the diff) without creating a release. Default false.' }), idempotencyKey: IdempotencyKey }).strict(),
      annotations: { readOnlyHint: false, destructiveHint: true, idempotentHint: false, openWorldHint: false },
      request: (a) => ({ method: 'POST', path: envPath(a, '/deploys'), body: rest(a), idempotencyKey: a.idempotencyKey as string | undefined }),
      summary: (body) => deploySummary(body.receipt as DeployReceipt, 'Release'),
    },
    {
      name: 'status',
      title: 'Env status',
      description: 'Desired and current state of an env side by side: release, per-workload counts and health, instances, endpoints, the active and last operation.',
      input: z.object(env).strict(),
      annotations: READ,
      request: (a) => ({ method: 'GET', path: envPath(a, '/status') }),
    },
    {
      name: 'releases',
      title: 'List releases',
      description: 'Releases of an env, newest first: id, status, when, who, artifact digest, config and secret versions; and which release is current and desired.',
      input: z.object({ ...env, ...described(ReleasesQuery.shape, { limit: 'How many releases, newest first (1–100, default 20).' }) }).strict(),
      annotations: READ,
      request: (a) => ({ method: 'GET', path: envPath(a, '/releases'), query: rest(a) as ApiRequest['query'] }),
    },
    {
      name: 'rollback',
      title: 'Roll back',
      description:
        'Point the env at an earlier release (its snapshot, config and secret versions as they were; nothing is rebuilt) and roll it out; answers with the receipt. ' +
        'Without releaseId: the release before the current one that went live, so a second call goes further back (not idempotent); with releaseId a repeat is refused as already-current.',
      input: z.object({ ...env, ...RollbackBody.shape, idempotencyKey: IdempotencyKey }).strict(),
      annotations: { readOnlyHint: false, destructiveHint: true, idempotentHint: false, openWorldHint: false },
      request: (a) => ({ method: 'POST', path: envPath(a, '/rollbacks'), body: rest(a), idempotencyKey: a.idempotencyKey as string | undefined }),
      summary: (body) => deploySummary(body.receipt as DeployReceipt, 'Rollback to'),
    },
    {
      name: 'scale',
      title: 'Scale a workload',
      description:
        "Set a workload's count (and autoscaling min/max) or cpu/memory; kept across releases and reversible. Answers with the receipt (previous and desired scale). " +
        'Idempotent: the same settings again change nothing. A lower count stops instances.',
      input: z.object({ ...env, ...ScaleInput.shape, idempotencyKey: IdempotencyKey }).strict(),
      annotations: { readOnlyHint: false, destructiveHint: true, idempotentHint: true, openWorldHint: false },
      request: (a) => ({ method: 'POST', path: envPath(a, '/scale'), body: rest(a), idempotencyKey: a.idempotencyKey as string | undefined }),
      summary: (body) => {
        const r = body.receipt as ScaleReceipt;
        return `Scale of ${r.workload} in ${r.env} accepted as ${r.operationId}: count ${r.previous.count} → ${r.desired.count}, cpu ${r.desired.cpu}, memory ${r.desired.memory}. Call events with operation ${r.operationId}, then status.`;
      },
    },
    {
      name: 'cancel',
      title: 'Cancel an operation',
      description:
        'Ask a running operation (a deploy stuck waiting for health, a slow scale) to stop: it ends through its compensation, as any failure would (a deploy leaves the previous release serving), with status cancelled. ' +
        'Answers at once with the operation (cancelRequested set); call events with that operation, then status. Idempotent; an operation that already finished is refused as conflict (operation-finished). ' +
        'The status tool shows the running one as activeOperation.',
      input: z.object({ ...env, operation: OperationId.describe('The running operation (op-…), e.g. status.activeOperation.id') }).strict(),
      annotations: { readOnlyHint: false, destructiveHint: true, idempotentHint: true, openWorldHint: false },
      request: (a) => ({ method: 'POST', path: envPath(a, `/operations/${seg(String(a.operation))}/cancel`), body: {} }),
      summary: (body) => {
        const op = body.operation as { id: string; kind: string; status: string };
        return op.status === 'running' ? `Cancelling ${op.kind} ${op.id}: it undoes its changes at its next step. Call events with operation ${op.id}, then status.` : `${op.kind} ${op.id} is ${op.status}.`;
      },
    },
    {
      name: 'logs',
      title: 'Read logs',
      description: `The latest log lines of an env (app and system; at most ${MAX_LOG_LINES}, no follow), oldest first, as \`timestamp source workload/instance level message\`. Filters: workload, instance, minimum level, source, since/until (ISO-8601). Logs of crashed instances stay readable.`,
      input: z
        .object({
          ...env,
          ...described(LogsQuery.omit({ follow: true, limit: true }).shape, {
            instance: 'Only this instance (i-…, see status).',
            level: 'Minimum level: debug, info, warn or error.',
            source: 'app (the instances\' output), system (the platform\'s lines) or both when left out.',
            since: 'From this time (ISO-8601).',
            until: 'Up to this time (ISO-8601).',
          }),
          limit: LogsQuery.shape.limit.unwrap().max(MAX_LOG_LINES).default(100).describe(`How many of the latest lines (1–${MAX_LOG_LINES}, default 100).`) })
        .strict(),
      annotations: READ,
      request: (a) => ({ method: 'GET', path: envPath(a, '/logs'), query: rest(a) as ApiRequest['query'] }),
      render: (body) => {
        const lines = body.lines as LogLine[];
        return lines.length ? lines.map((l) => `${l.ts} ${l.source} ${l.workload}/${l.instance} ${l.level} ${l.message}`).join('\n') : 'No log lines match.';
      },
    },
    {
      name: 'events',
      title: 'Read events',
      description: `What happened to an env (operations, steps, instances, endpoints), oldest first: the latest ${MAX_EVENTS} at most, or the ones after an event id (after), optionally of one operation. No follow: call again with after set to the last id to see new ones.`,
      input: z
        .object({
          ...env,
          ...described(EventsQuery.omit({ follow: true, limit: true, operation: true }).shape, { after: 'Only events after this event id (the last id of the previous call).' }),
          operation: OperationId.optional().describe('Only the events of this operation (op-…, from a receipt or status).'),
          limit: EventsQuery.shape.limit.unwrap().max(MAX_EVENTS).default(50).describe(`How many events (1–${MAX_EVENTS}, default 50).`) })
        .strict(),
      annotations: READ,
      request: (a) => ({ method: 'GET', path: envPath(a, '/events'), query: rest(a) as ApiRequest['query'] }),
    },
    {
      name: 'endpoints',
      title: 'List endpoints',
      description:
        "Endpoints of an env with their IPv6 (and IPv4 when enabled) addresses, ports, targets and notes (PROXY protocol; TLS is the app's job). " +
        'all: every endpoint of every env of the org, which answers "what is exposed to the internet?" (project, app and env are then not needed).',
      input: z
        .object({ ...envFields(defaults, true), all: z.boolean().default(false).describe('Every env of the org instead of one env.') })
        .strict()
        .superRefine((a, ctx) => {
          if (a.all) return;
          for (const key of ['project', 'app', 'env'] as const) {
            if (!a[key]) ctx.addIssue({ code: 'custom', path: [key], message: `is needed unless all is true (the endpoints of one env)` });
          }
        }),
      annotations: READ,
      request: (a) => ({ method: 'GET', path: a.all ? `/v1/orgs/${seg(String(a.org))}/endpoints` : envPath(a, '/endpoints') }),
    },
    {
      name: 'volumes',
      title: 'List volumes',
      description: 'Volumes of an env: size, zone, where they are mounted, placement constraints, snapshots, and the operations (resize, snapshot) available.',
      input: z.object(env).strict(),
      annotations: READ,
      request: (a) => ({ method: 'GET', path: envPath(a, '/volumes') }),
    },
  ];
}
