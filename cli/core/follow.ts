// `--follow` for logs and events: a live NDJSON stream where the API can stream (embedded), and
// polling with a moving cursor where it cannot (API Gateway buffers responses). Same output.
import type { CommandContext } from './command.ts';
import { CliError } from './errors.ts';

// Polling backs off while nothing new comes (each poll is a FilterLogEvents call on AWS, against a
// quota of 5 per second shared by the whole account) and is quick again once lines flow.
const POLL_MS = 1000;
const MAX_POLL_MS = 8000;
/** Waited after a `quota` answer when it names no retryAfterSeconds. */
const THROTTLED_MS = 5000;

export interface FollowSpec<T> {
  /** Path without query string, e.g. the env's `/logs`. */
  path: string;
  query: URLSearchParams;
  /** Response field holding the items when polling (`lines`, `events`). */
  field: string;
  /** Sets the cursor on the query from the last item seen (`since` for logs, `after` for events). */
  advance(query: URLSearchParams, last: T): void;
  /** Identifies an item, so one seen twice across polls (same timestamp) prints once. */
  key(item: T): string;
  print(item: T): void;
  /**
   * Where the API answers a continuation (`next`, with `more` when it stopped early: logs on AWS):
   * sets it on the query, replacing what `advance` set. Items may then come again until `next` has
   * passed them (`before`), so they are remembered until then.
   */
  resume?: {
    set(query: URLSearchParams, next: string): void;
    before(item: T, next: string): boolean;
    /** When the first answer is empty (no item to `advance` from): where the continuation starts. */
    start(query: URLSearchParams): void;
  };
}

export async function follow<T>(ctx: CommandContext, spec: FollowSpec<T>): Promise<void> {
  const { streaming } = await ctx.api.get<{ streaming?: boolean }>('/v1/health');
  if (streaming !== false) {
    const q = new URLSearchParams(spec.query);
    q.set('follow', 'true');
    await ctx.api.stream<T>(`${spec.path}?${q}`, spec.print, ctx.host.interrupted);
    return;
  }
  let stopped = false;
  void ctx.host.interrupted.then(() => (stopped = true));
  const query = new URLSearchParams(spec.query);
  let seen = new Map<string, T>();
  let wait = POLL_MS;
  let throttled = false;
  let first = true;
  while (!stopped) {
    let body: Record<string, T[]> & { next?: unknown; more?: unknown };
    try {
      body = await ctx.api.get<Record<string, T[]>>(`${spec.path}?${query}`);
    } catch (err) {
      const e = err as CliError;
      if (!(e instanceof CliError) || e.body.category !== 'quota') throw err;
      // Throttled: the cursor stays, so nothing is skipped; say so once, wait and ask again.
      const after = Number((e.body.details as { retryAfterSeconds?: number } | undefined)?.retryAfterSeconds);
      const ms = after > 0 ? after * 1000 : THROTTLED_MS;
      if (!throttled) ctx.out.note(`${e.body.message}; still following, retrying every ${ms / 1000} s`);
      throttled = true;
      await Promise.race([ctx.host.sleep(ms), ctx.host.interrupted]);
      continue;
    }
    throttled = false;
    const items = body[spec.field] ?? [];
    const fresh = items.filter((i) => !seen.has(spec.key(i)));
    fresh.forEach(spec.print);
    if (items.length) spec.advance(query, items[items.length - 1]);
    else if (first) spec.resume?.start(query);
    first = false;
    if (spec.resume && typeof body.next === 'string') {
      const next = body.next;
      spec.resume.set(query, next);
      // What the next poll can return again: everything printed from `next` on.
      seen = new Map([...seen, ...items.map((i) => [spec.key(i), i] as const)].filter(([, i]) => !spec.resume!.before(i, next)));
    } else if (items.length) {
      // Only items at the cursor can come back: remember just those.
      seen = new Map(items.map((i) => [spec.key(i), i]));
    }
    // Lines still waiting (the API stopped early) come at the quick pace; a quiet stream backs off.
    wait = fresh.length || body.more === true ? POLL_MS : Math.min(MAX_POLL_MS, wait * 2);
    await Promise.race([ctx.host.sleep(wait), ctx.host.interrupted]);
  }
}
