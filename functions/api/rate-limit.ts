// Token buckets per API token, and per source ip for callers without a valid token (the device-
// login routes, and whoever keeps sending bad tokens). In memory: embedded there is one process;
// on AWS every Lambda container keeps its own buckets, so the effective limit is this times the
// number of warm containers, and the HTTP API stage's throttling (infra/berth-stack.ts) is the
// account-wide guard.
import type { MiddlewareHandler } from 'hono';
import { BerthError } from '../core/errors.ts';
import type { TokenRecord } from '../core/model.ts';
import type { AuthVariables } from './auth.ts';
import { isLoopback, sourceIp } from './request-facts.ts';

export interface RateLimit {
  /** Sustained requests per second (fractions allowed: 0.1 is one every ten seconds). */
  ratePerSecond: number;
  /** How many requests may come at once before the sustained rate applies. */
  burst: number;
}

export interface RateLimits {
  /** Per API token. */
  perToken: RateLimit;
  /** Per source ip, for requests that carry no valid token. Loopback is not limited (see below). */
  perSourceIp: RateLimit;
}

/**
 * 20/s sustained with bursts of 100 per token: far above a person at a terminal or a CI job (a
 * deploy is a handful of requests, `wait` and `--follow` poll about once a second), low enough
 * that a runaway script cannot monopolise the API. 5/s with bursts of 20 per ip without a token:
 * the device flow polls every 5 s (RFC 8628), so only guessing and floods reach it.
 */
export const DEFAULT_RATE_LIMITS: RateLimits = {
  perToken: { ratePerSecond: 20, burst: 100 },
  perSourceIp: { ratePerSecond: 5, burst: 20 },
};

/** Buckets of `limit`, by key. Least recently used keys are forgotten beyond `maxKeys` (a full bucket is what a new key gets anyway). */
export class TokenBuckets {
  private readonly buckets = new Map<string, { tokens: number; at: number }>();

  constructor(
    readonly limit: RateLimit,
    private readonly now: () => number = Date.now,
    private readonly maxKeys = 10_000,
  ) {}

  /** Takes one request's worth; 0 when allowed, otherwise the whole seconds until one is available. */
  take(key: string): number {
    const wait = this.peek(key);
    if (wait) return wait;
    const bucket = this.refill(key);
    bucket.tokens -= 1;
    return 0;
  }

  /** Like `take`, without taking. */
  peek(key: string): number {
    const bucket = this.refill(key);
    return bucket.tokens >= 1 ? 0 : Math.max(1, Math.ceil((1 - bucket.tokens) / this.limit.ratePerSecond));
  }

  private refill(key: string): { tokens: number; at: number } {
    const now = this.now();
    const old = this.buckets.get(key);
    const bucket = old ? { tokens: Math.min(this.limit.burst, old.tokens + ((now - old.at) / 1000) * this.limit.ratePerSecond), at: now } : { tokens: this.limit.burst, at: now };
    // Re-inserting keeps the Map in least-recently-used order.
    this.buckets.delete(key);
    this.buckets.set(key, bucket);
    if (this.buckets.size > this.maxKeys) this.buckets.delete(this.buckets.keys().next().value!);
    return bucket;
  }
}

/**
 * Before authentication. Requests that end without a valid token spend their source ip's bucket;
 * once it is empty, that ip gets 429 whatever it sends, so guessing tokens or device codes is slow.
 * Loopback (and an unknown address: an in-process call) is not limited per ip: there the caller
 * is the machine's own user, who holds the data dir anyway; the per-token limit still applies.
 */
export function limitBySource(buckets: TokenBuckets): MiddlewareHandler<{ Variables: AuthVariables }> {
  return async (c, next) => {
    const ip = sourceIp(c);
    const key = ip && !isLoopback(ip) ? `ip:${ip}` : undefined;
    if (key) {
      const wait = buckets.peek(key);
      if (wait) throw rateLimited(c, wait, buckets.limit, `source address ${ip}`);
    }
    await next();
    if (key && !(c.get('token') as TokenRecord | undefined)) buckets.take(key);
  };
}

/** After authentication: one bucket per token id. */
export function limitByToken(buckets: TokenBuckets): MiddlewareHandler<{ Variables: AuthVariables }> {
  return async (c, next) => {
    const token = c.get('token') as TokenRecord | undefined;
    if (token) {
      const wait = buckets.take(`token:${token.id}`);
      if (wait) throw rateLimited(c, wait, buckets.limit, `token ${token.id} ("${token.name}")`);
    }
    await next();
  };
}

function rateLimited(c: { header(name: string, value: string): void }, seconds: number, limit: RateLimit, who: string): BerthError {
  // onError builds the envelope with c.json, which keeps headers set on the context.
  c.header('Retry-After', String(seconds));
  return new BerthError('quota', 'rate-limited', `too many requests from ${who}: the limit is ${limit.ratePerSecond} per second with bursts of ${limit.burst}; retry in ${seconds} s`, {
    details: { retryAfterSeconds: seconds, ratePerSecond: limit.ratePerSecond, burst: limit.burst },
    next: [`wait ${seconds} s (the Retry-After header) and retry`, 'spread a script over time, or give each CI job its own token: berth tokens create <name> --role <role>'],
  });
}
