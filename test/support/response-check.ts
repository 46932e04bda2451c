// Every response a test sees, checked against what the OpenAPI document says that operation
// answers with that status and media type (ajv, JSON Schema 2020-12 as OpenAPI 3.1 uses it): a
// JSON body as a whole, an NDJSON stream line by line, a CSV export row by row. A mismatch is a
// failed test: the document (and so every generated client) would be lying.
// Formats are not checked (ajv's formats are not a dependency of this repo); patterns, types,
// required keys, enums and nullability are.
import { Ajv2020, type ValidateFunction } from 'ajv/dist/2020.js';
import { parseCsv } from '../../functions/contract/audit.ts';
import type { OpenApiDocument } from './openapi-document.ts';

interface Match {
  operationId: string;
  responses: Record<string, { content?: Record<string, { schema: object }> }>;
}

export class ResponseChecker {
  private readonly ajv = new Ajv2020({ strict: false, allErrors: true, validateFormats: false });
  private readonly compiled = new Map<string, ValidateFunction>();
  private readonly routes: { method: string; pattern: RegExp; op: Match }[] = [];
  /** operationId → statuses seen, for a test to say what it covered. */
  readonly seen = new Map<string, Set<string>>();

  constructor(private readonly doc: OpenApiDocument) {
    for (const [path, methods] of Object.entries(doc.paths)) {
      const pattern = new RegExp(`^${path.replace(/\{[^}]+\}/g, '[^/]+')}$`);
      for (const [method, op] of Object.entries(methods)) this.routes.push({ method: method.toUpperCase(), pattern, op: op as Match });
    }
  }

  /** The problems of one response (empty when it is what the document says). */
  check(method: string, url: string, status: number, contentType: string | null, text: string): string[] {
    const pathname = new URL(url, 'http://x').pathname;
    const route = this.routes.find((r) => r.method === method.toUpperCase() && r.pattern.test(pathname));
    if (!route) return pathname.startsWith('/v1/') && pathname !== '/v1/openapi.json' && status !== 404 ? [`${method} ${pathname} is not in the document`] : [];
    const { operationId, responses } = route.op;
    (this.seen.get(operationId) ?? this.seen.set(operationId, new Set()).get(operationId)!).add(String(status));
    const where = `${operationId} ${status}`;
    const declared = responses[String(status)] ?? (status >= 500 ? responses.default : undefined);
    if (!declared) return [`${where}: status ${status} is not documented (documented: ${Object.keys(responses).join(', ')})`];
    if (!declared.content) return text ? [`${where}: documented without a body, answered ${text.slice(0, 80)}`] : [];
    const media = (contentType ?? '').split(';')[0].trim().toLowerCase();
    const entry = declared.content[media];
    if (!entry) return [`${where}: media type ${media || '(none)'} is not documented (documented: ${Object.keys(declared.content).join(', ')})`];
    const validate = this.validator(`${operationId} ${status} ${media}`, entry.schema);
    if (media === 'application/x-ndjson') return text.split('\n').filter(Boolean).flatMap((line, i) => this.problems(`${where} line ${i + 1}`, validate, JSON.parse(line)));
    if (media === 'text/csv') return csvProblems(where, text);
    if (media === 'application/json') return this.problems(where, validate, JSON.parse(text));
    return [];
  }

  /** Throws with every problem of the response, naming the request. */
  assert(method: string, url: string, status: number, contentType: string | null, text: string): void {
    const problems = this.check(method, url, status, contentType, text);
    if (problems.length) throw new Error(`the response of ${method} ${url} does not match the OpenAPI document:\n${problems.join('\n')}\nbody: ${text.slice(0, 2000)}`);
  }

  private validator(key: string, schema: object): ValidateFunction {
    let v = this.compiled.get(key);
    if (!v) {
      // `#/components/…` refs resolve against the root: the components go along with each schema.
      v = this.ajv.compile({ ...schema, components: this.doc.components });
      this.compiled.set(key, v);
    }
    return v;
  }

  private problems(where: string, validate: ValidateFunction, value: unknown): string[] {
    if (validate(value)) return [];
    return (validate.errors ?? []).map((e) => `${where}: ${e.instancePath || '(root)'} ${e.message}${e.params ? ` ${JSON.stringify(e.params)}` : ''}`);
  }
}

/** RFC 4180 text with a header row: every row has as many fields as the header. */
function csvProblems(where: string, text: string): string[] {
  const rows = parseCsv(text);
  if (!rows.length) return [`${where}: the CSV has no header row`];
  const width = rows[0].length;
  return rows.flatMap((r, i) => (r.length === width ? [] : [`${where}: CSV row ${i + 1} has ${r.length} fields, the header ${width}`]));
}

/** A fetch that checks every answer against the document before the test reads it. */
export function checkedFetch(checker: ResponseChecker, inner: typeof fetch = fetch): typeof fetch {
  return async (input, init) => {
    const res = await inner(input, init);
    const url = typeof input === 'string' ? input : input instanceof URL ? input.href : input.url;
    const method = init?.method ?? (input instanceof Request ? input.method : 'GET');
    const media = res.headers.get('content-type');
    // Streams are checked line by line by whoever reads them (checkStream); the rest here.
    if (media?.startsWith('application/x-ndjson')) return res;
    const text = await res.clone().text();
    checker.assert(method, url, res.status, media, text);
    return res;
  };
}

/**
 * Reads an NDJSON stream (`follow=true`) until `done` says so, checking each line against the
 * document's schema of the stream; then cancels it (a follow never ends by itself).
 */
export async function checkStream<T>(checker: ResponseChecker, url: string, res: Response, done: (item: T) => boolean): Promise<T[]> {
  const media = res.headers.get('content-type');
  const items: T[] = [];
  const reader = res.body!.pipeThrough(new TextDecoderStream()).getReader();
  let buffered = '';
  try {
    for (;;) {
      const { value, done: ended } = await reader.read();
      if (ended) break;
      buffered += value;
      const lines = buffered.split('\n');
      buffered = lines.pop()!;
      for (const line of lines.filter(Boolean)) {
        checker.assert('GET', url, res.status, media, `${line}\n`);
        const item = JSON.parse(line) as T;
        items.push(item);
        if (done(item)) return items;
      }
    }
  } finally {
    await reader.cancel().catch(() => undefined);
  }
  return items;
}
