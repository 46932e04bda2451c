// fast-check arbitraries for requests, read from the OpenAPI document the API serves: values that
// fit each operation's schemas, and the hostile variants of them a client may send (wrong types,
// missing and extra keys, reserved keys, NUL bytes, huge strings, bad escapes, wrong media types,
// text that is not JSON). Only the JSON Schema keywords the document uses are understood.
import fc from 'fast-check';

export type JsonSchema = {
  type?: string | string[];
  properties?: Record<string, JsonSchema>;
  required?: string[];
  additionalProperties?: boolean | JsonSchema;
  items?: JsonSchema;
  anyOf?: JsonSchema[];
  oneOf?: JsonSchema[];
  enum?: unknown[];
  const?: unknown;
  pattern?: string;
  format?: string;
  minLength?: number;
  maxLength?: number;
  minimum?: number;
  maximum?: number;
  exclusiveMinimum?: number | boolean;
  exclusiveMaximum?: number | boolean;
  minItems?: number;
  maxItems?: number;
  default?: unknown;
  $ref?: string;
};

export interface Parameter {
  name: string;
  in: 'path' | 'query' | 'header' | 'cookie';
  required?: boolean;
  schema?: JsonSchema;
}

export interface Operation {
  method: string;
  /** The template, e.g. /v1/orgs/{org}/projects. */
  path: string;
  parameters: Parameter[];
  /** Media type → schema of the request body, when the operation takes one. */
  body?: Record<string, JsonSchema>;
}

export interface FuzzRequest {
  method: string;
  path: string;
  headers: Record<string, string>;
  body?: string | Uint8Array<ArrayBuffer>;
  /** What was done to the request, for the failure message. */
  how: string[];
}

export function operationsOf(doc: { paths: Record<string, Record<string, { parameters?: Parameter[]; requestBody?: { content: Record<string, { schema: JsonSchema }> } }>> }): Operation[] {
  const ops: Operation[] = [];
  for (const [path, methods] of Object.entries(doc.paths)) {
    for (const [method, op] of Object.entries(methods)) {
      const content = op.requestBody?.content;
      ops.push({
        method: method.toUpperCase(),
        path,
        parameters: op.parameters ?? [],
        body: content ? Object.fromEntries(Object.entries(content).map(([type, c]) => [type, c.schema])) : undefined,
      });
    }
  }
  return ops;
}

/** Hand-picked values where a schema says too little (a manifest is "a string"). */
export type Hints = Record<string, fc.Arbitrary<unknown>>;

const KEYS = fc.stringMatching(/^[A-Z][A-Z0-9_]{0,8}$/);

/** A value that fits `schema` (mostly: patterns and bounds are followed, cross-field rules are not). */
export function valueOf(schema: JsonSchema, hints: Hints = {}, name?: string): fc.Arbitrary<unknown> {
  if (name && hints[name]) return hints[name];
  if (schema.const !== undefined) return fc.constant(schema.const);
  if (schema.enum) return fc.constantFrom(...schema.enum);
  const alternatives = schema.anyOf ?? schema.oneOf;
  if (alternatives) return fc.oneof(...alternatives.map((s) => valueOf(s, hints, name)));
  const type = Array.isArray(schema.type) ? schema.type[0] : schema.type;
  switch (type) {
    case 'string':
      if (schema.format === 'date-time') return fc.date({ min: new Date('0001-01-01T00:00:00Z'), max: new Date('9999-12-31T23:59:59Z'), noInvalidDate: true }).map((d) => d.toISOString());
      if (schema.pattern) return fc.stringMatching(new RegExp(schema.pattern, 'u'), { size: 'xsmall' }).filter((s) => s.length >= (schema.minLength ?? 0) && s.length <= (schema.maxLength ?? Infinity));
      return fc.string({ minLength: schema.minLength ?? 0, maxLength: Math.min(schema.maxLength ?? 12, 12) });
    case 'integer':
    case 'number': {
      const min = typeof schema.exclusiveMinimum === 'number' ? schema.exclusiveMinimum + 1 : (schema.minimum ?? -1000);
      const max = typeof schema.exclusiveMaximum === 'number' ? schema.exclusiveMaximum - 1 : (schema.maximum ?? 100_000);
      return fc.integer({ min: Math.ceil(min), max: Math.floor(Math.max(min, max)) });
    }
    case 'boolean':
      return fc.boolean();
    case 'null':
      return fc.constant(null);
    case 'array':
      return fc.array(schema.items ? valueOf(schema.items, hints) : fc.jsonValue(), { minLength: schema.minItems ?? 0, maxLength: Math.min(schema.maxItems ?? 3, 3) });
    case 'object': {
      const props = schema.properties ?? {};
      if (!Object.keys(props).length && typeof schema.additionalProperties === 'object') {
        return fc.dictionary(KEYS, valueOf(schema.additionalProperties, hints), { maxKeys: 3 });
      }
      const model = Object.fromEntries(Object.entries(props).map(([k, s]) => [k, valueOf(s, hints, k)]));
      return fc.record(model, { requiredKeys: (schema.required ?? []).filter((k) => k in props) });
    }
    default:
      return fc.jsonValue({ maxDepth: 2 });
  }
}

/** Raw path segments a hostile client sends: bad escapes, reserved names, NUL, traversal, length. */
export const HOSTILE_SEGMENTS = ['%zz', '%25zz', '%', '%E0%A4%A', 'constructor', '__proto__', 'prototype', '%00', 'a%00b', '..', '%2e%2e', 'a%2Fb', 'A', `${'a'.repeat(300)}`, '%C3%A9t%C3%A9', '%ff%fe', '-x-', 'x'];

/** Query values of the same kind, and ones that defeat number and time parsing. */
const HOSTILE_QUERY = ['%zz', '%', '1e400', '-1', 'NaN', '0x10', 'true', '', 'constructor', '__proto__', '%00', 'x'.repeat(5000), '2026-13-45T99:99:99Z'];

/** Edits of a JSON value: each makes the value wrong in one way a schema must catch. */
type Mutation = (value: unknown) => { value: unknown; how: string };

const paths = (value: unknown, prefix: (string | number)[] = []): (string | number)[][] => {
  if (value === null || typeof value !== 'object') return [prefix];
  const entries = Array.isArray(value) ? value.map((v, i) => [i, v] as const) : Object.entries(value);
  return [prefix, ...entries.flatMap(([k, v]) => paths(v, [...prefix, k]))];
};

function setAt(root: unknown, path: (string | number)[], make: (old: unknown) => unknown): unknown {
  if (!path.length) return make(root);
  const copy = (Array.isArray(root) ? [...root] : { ...(root as object) }) as Record<string | number, unknown>;
  const [head, ...rest] = path;
  // defineProperty: a plain assignment to `__proto__` would set the prototype, not a key.
  Object.defineProperty(copy, head, { value: setAt(copy[head], rest, make), enumerable: true, writable: true, configurable: true });
  return copy;
}

/** A key on the object, kept as an own key even when it is `__proto__` (JSON.parse does the same). */
function withKey(obj: unknown, key: string, value: unknown): unknown {
  const copy = obj !== null && typeof obj === 'object' && !Array.isArray(obj) ? { ...obj } : {};
  Object.defineProperty(copy, key, { value, enumerable: true, writable: true, configurable: true });
  return copy;
}

const mutations = (pick: number, junk: unknown, size: number): Mutation[] => [
  (v) => {
    const all = paths(v);
    const at = all[pick % all.length];
    return { value: setAt(v, at, () => junk), how: `wrong type at ${JSON.stringify(at)}: ${JSON.stringify(junk)?.slice(0, 40)}` };
  },
  (v) => {
    const all = paths(v).filter((p) => p.length > 0);
    if (!all.length) return { value: v, how: 'nothing to drop' };
    const at = all[pick % all.length];
    const parent = at.slice(0, -1);
    return {
      value: setAt(v, parent, (o) => {
        if (Array.isArray(o)) return o.filter((_, i) => i !== at[at.length - 1]);
        const { [at[at.length - 1]]: _, ...rest } = o as Record<string, unknown>;
        return rest;
      }),
      how: `dropped ${JSON.stringify(at)}`,
    };
  },
  (v) => ({ value: withKey(v, 'unexpectedKey', junk), how: 'extra key' }),
  (v) => {
    const objects = paths(v).filter((p) => {
      let here: unknown = v;
      for (const k of p) here = (here as Record<string | number, unknown>)[k];
      return here !== null && typeof here === 'object' && !Array.isArray(here);
    });
    const at = objects.length ? objects[pick % objects.length] : [];
    const key = ['__proto__', 'constructor', 'prototype'][pick % 3];
    return { value: setAt(v, at, (o) => withKey(o, key, key === '__proto__' ? { polluted: true } : 'x')), how: `reserved key ${key} at ${JSON.stringify(at)}` };
  },
  (v) => {
    const strings = paths(v).filter((p) => {
      let here: unknown = v;
      for (const k of p) here = (here as Record<string | number, unknown>)[k];
      return typeof here === 'string';
    });
    if (!strings.length) return { value: withKey(v, 'value', 'a\u0000b'), how: 'NUL in a new key' };
    const at = strings[pick % strings.length];
    return { value: setAt(v, at, (s) => `${s as string}\u0000tail`), how: `NUL at ${JSON.stringify(at)}` };
  },
  (v) => {
    const strings = paths(v).filter((p) => {
      let here: unknown = v;
      for (const k of p) here = (here as Record<string | number, unknown>)[k];
      return typeof here === 'string';
    });
    const at = strings.length ? strings[pick % strings.length] : ['huge'];
    return { value: setAt(v, at, () => 'x'.repeat(size)), how: `huge string (${size}) at ${JSON.stringify(at)}` };
  },
];

/** JSON text that does not parse, in the ways clients get it wrong. */
const malformed = (text: string, cut: number): string[] => [text.slice(0, Math.max(1, cut % Math.max(1, text.length))), `${text},`, `{${text}`, text.replace(/"/g, "'"), '{"a":1,}', 'undefined', '\u0000', '{"a":"\\x"}', `${'['.repeat(5000)}`, '\ufeff{}'];

const CONTENT_TYPES = ['text/plain', 'application/x-www-form-urlencoded', 'multipart/form-data; boundary=x', 'application/jsonx', 'application/xml', 'application/json; charset=utf-8', 'APPLICATION/JSON', 'application/merge-patch+json', ''];

export interface RequestOptions {
  /** Known-good values of path parameters (the fixture's org, project…), used most of the time. */
  fixtures: Record<string, string>;
  hints?: Hints;
  token: string;
}

/** One request to `op`: mostly well formed, often hostile in one or more places. */
export function requestOf(op: Operation, options: RequestOptions): fc.Arbitrary<FuzzRequest> {
  const hints = options.hints ?? {};
  const pathParams = op.parameters.filter((p) => p.in === 'path');
  const queryParams = op.parameters.filter((p) => p.in === 'query');
  const segment = (p: Parameter): fc.Arbitrary<string> => {
    const fixture = options.fixtures[p.name];
    return fc.oneof(
      ...(fixture === undefined ? [] : [{ weight: 6, arbitrary: fc.constant(fixture) }]),
      { weight: 2, arbitrary: valueOf(p.schema ?? { type: 'string' }, hints).map((v) => encodeURIComponent(String(v))).filter(Boolean) },
      { weight: 2, arbitrary: fc.constantFrom(...HOSTILE_SEGMENTS) },
    );
  };
  const segments = fc.tuple(...pathParams.map(segment));
  const query = fc.tuple(
    ...queryParams.map((p) =>
      fc.option(
        fc.oneof(
          { weight: 3, arbitrary: valueOf(p.schema ?? { type: 'string' }, hints).map((v) => encodeURIComponent(String(v))) },
          { weight: 1, arbitrary: fc.constantFrom(...HOSTILE_QUERY) },
        ),
        { freq: 2 },
      ),
    ),
  );
  const bodyType = op.body ? Object.keys(op.body).find((t) => t.includes('json')) : undefined;
  const bodyValue = bodyType && op.body ? valueOf(op.body[bodyType], hints) : fc.constant(undefined);
  const mutation = fc.record({
    which: fc.nat({ max: 5 }),
    pick: fc.nat(),
    junk: fc.oneof(fc.jsonValue({ maxDepth: 1 }), fc.constantFrom(null, 0, -1, 1e308, '', [], {}, true, 'x\u0000')),
    size: fc.constantFrom(70_000, 400_000, 1_100_000),
  });
  const encoding = fc.oneof(
    { weight: 7, arbitrary: fc.constant({ kind: 'json' as const }) },
    { weight: 2, arbitrary: fc.record({ kind: fc.constant('malformed' as const), which: fc.nat({ max: 9 }), cut: fc.nat() }) },
    { weight: 2, arbitrary: fc.record({ kind: fc.constant('content-type' as const), type: fc.constantFrom(...CONTENT_TYPES) }) },
  );
  return fc
    .record({
      segments,
      query,
      extraQuery: fc.option(fc.constantFrom('__proto__=1', 'constructor=x', 'unknown=%zz', 'limit=1&limit=2', '%zz=1'), { freq: 5 }),
      body: bodyValue,
      mutate: fc.option(mutation, { freq: 2 }),
      encoding,
    })
    .map(({ segments: segs, query: q, extraQuery, body, mutate, encoding: enc }) => {
      const how: string[] = [];
      let i = 0;
      let path = op.path.replace(/\{[^}]+\}/g, () => segs[i++]);
      const pairs = queryParams.flatMap((p, j) => (q[j] === null ? [] : [`${p.name}=${q[j]}`]));
      if (extraQuery) pairs.push(extraQuery);
      if (pairs.length) path += `?${pairs.join('&')}`;
      const headers: Record<string, string> = { authorization: `Bearer ${options.token}` };
      if (!bodyType) return { method: op.method, path, headers, how };
      let value = body;
      if (mutate) {
        const result = mutations(mutate.pick, mutate.junk, mutate.size)[mutate.which](value);
        value = result.value;
        how.push(result.how);
      }
      let text = JSON.stringify(value ?? {});
      let type = 'application/json';
      if (enc.kind === 'malformed') {
        text = malformed(text, enc.cut)[enc.which];
        how.push(`malformed JSON #${enc.which}`);
      } else if (enc.kind === 'content-type') {
        type = enc.type;
        how.push(`content-type ${JSON.stringify(type)}`);
      }
      if (type) headers['content-type'] = type;
      // Without a Content-Type, send bytes: a string body would get text/plain from fetch.
      return { method: op.method, path, headers, body: type ? text : new TextEncoder().encode(text), how };
    });
}
