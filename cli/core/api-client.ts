// A thin client of the HTTP API: bearer token, JSON in and out, the error envelope turned into a
// CliError, NDJSON streams for `--follow`. Uses only `fetch`, so it runs in the browser too.
import type { EnvRef } from '../../functions/core/ports.ts';
import { apiUnreachable, isUnreachable } from '../../functions/core/api-unreachable.ts';
import { CliError, cliError } from './errors.ts';

/** Longest Retry-After the client waits out by itself. */
const MAX_RETRY_AFTER_SECONDS = 5;

export class ApiClient {
  constructor(
    readonly baseUrl: string | undefined,
    private readonly token: string | undefined,
    // Called through a closure: a browser's fetch called as a method of another object throws
    // "Illegal invocation" (the web console runs this client).
    private readonly fetchImpl: typeof fetch = (input, init) => fetch(input, init),
  ) {}

  envPath(r: EnvRef, suffix = ''): string {
    return `/v1/orgs/${r.org}/projects/${r.project}/apps/${r.app}/envs/${r.env}${suffix}`;
  }

  get<T>(path: string): Promise<T> {
    return this.request<T>('GET', path);
  }
  post<T>(path: string, body: unknown): Promise<T> {
    return this.request<T>('POST', path, body);
  }
  put<T>(path: string, body: unknown): Promise<T> {
    return this.request<T>('PUT', path, body);
  }
  patch<T>(path: string, body: unknown): Promise<T> {
    return this.request<T>('PATCH', path, body);
  }
  delete<T>(path: string): Promise<T> {
    return this.request<T>('DELETE', path);
  }

  async upload<T>(path: string, bytes: Uint8Array): Promise<T> {
    return this.request<T>('PUT', path, bytes, 'application/octet-stream');
  }

  /** Reads an NDJSON stream until the server ends it or `stop` resolves. */
  async stream<T>(path: string, onItem: (item: T) => void, stop: Promise<void>): Promise<void> {
    const controller = new AbortController();
    void stop.then(() => controller.abort());
    const res = await this.send('GET', path, undefined, undefined, controller.signal);
    if (!res.ok) throw await toCliError(res);
    const reader = res.body!.getReader();
    const decoder = new TextDecoder();
    let buffer = '';
    try {
      for (;;) {
        const { done, value } = await reader.read();
        if (done) break;
        buffer += decoder.decode(value, { stream: true });
        let nl: number;
        while ((nl = buffer.indexOf('\n')) >= 0) {
          const line = buffer.slice(0, nl).trim();
          buffer = buffer.slice(nl + 1);
          if (!line) continue;
          const item = JSON.parse(line) as T;
          // The stream's own last line (`{"done":true,…}`): nothing more will come.
          if (isDoneMarker(item)) {
            controller.abort();
            return;
          }
          onItem(item);
        }
      }
    } catch (err) {
      // The server went away mid-stream (it was stopped, the connection dropped): the same error
      // as a request that never got through, not a crash.
      if (controller.signal.aborted) return;
      if (err instanceof SyntaxError) throw err;
      throw new CliError(apiUnreachable(this.baseUrl!, err));
    }
  }

  private async request<T>(method: string, path: string, body?: unknown, contentType = 'application/json'): Promise<T> {
    // Every mutation carries an Idempotency-Key, so one retry after a dropped connection can never
    // apply it twice: the server answers the retry with the first response.
    const key = method === 'GET' ? undefined : crypto.randomUUID();
    let res: Response;
    try {
      res = await this.send(method, path, body, contentType, undefined, key);
    } catch (err) {
      if (!key || !(err instanceof CliError) || !isUnreachable(err.body) || !err.body.details.dropped) throw err;
      res = await this.send(method, path, body, contentType, undefined, key);
    }
    // Rate limited (429): wait as the API says and try again, a couple of times, when the wait is
    // short; a longer one is the user's call, so the error says how long.
    for (let attempt = 0; res.status === 429 && attempt < 2; attempt++) {
      const seconds = Number(res.headers.get('retry-after'));
      if (!(seconds > 0 && seconds <= MAX_RETRY_AFTER_SECONDS)) break;
      await res.body?.cancel();
      await new Promise((resolve) => setTimeout(resolve, seconds * 1000));
      res = await this.send(method, path, body, contentType, undefined, key);
    }
    if (!res.ok) throw await toCliError(res);
    return (await res.json()) as T;
  }

  private async send(method: string, path: string, body: unknown, contentType?: string, signal?: AbortSignal, idempotencyKey?: string): Promise<Response> {
    if (!this.baseUrl) {
      throw cliError('invalid-input', 'api-unknown', 'no Berth API is configured', ['npm start (embedded platform; the CLI then finds it)', 'export BERTH_API=<url>', 'berth login --api <url> --token <token>']);
    }
    const headers: Record<string, string> = { accept: 'application/json' };
    if (this.token) headers.authorization = `Bearer ${this.token}`;
    if (body !== undefined) headers['content-type'] = contentType!;
    if (idempotencyKey) headers['idempotency-key'] = idempotencyKey;
    try {
      return await this.fetchImpl(`${this.baseUrl.replace(/\/$/, '')}${path}`, {
        method,
        headers,
        body: body === undefined ? undefined : body instanceof Uint8Array ? (body as Uint8Array<ArrayBuffer>) : JSON.stringify(body),
        signal,
      });
    } catch (err) {
      if (signal?.aborted) throw err;
      throw new CliError(apiUnreachable(this.baseUrl, err));
    }
  }
}

/** What a finite stream (an operation's events) sends last. */
function isDoneMarker(item: unknown): boolean {
  return typeof item === 'object' && item !== null && (item as { done?: unknown }).done === true;
}

async function toCliError(res: Response): Promise<CliError> {
  const text = await res.text();
  try {
    const parsed = JSON.parse(text) as { error?: CliError['body'] };
    if (parsed.error?.category) return new CliError({ ...parsed.error, next: parsed.error.next ?? [] });
  } catch {
    // not JSON: fall through to a generic error that shows what came back
  }
  return cliError('internal', 'bad-response', `the API answered ${res.status} ${res.statusText}: ${text.slice(0, 200)}`);
}
