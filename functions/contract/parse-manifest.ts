// Turns berth.yaml text into a Manifest, or into an error a person can act on: every problem at
// once, each as `<file>: <path>: <problem> (got <value>)`, with the fix in the problem. Runs in the
// CLI, the API and (later) the browser console, so no Node-only APIs here.
import { parseDocument, type YAMLError } from 'yaml';
import type { z } from 'zod';
import { InvalidInputError } from './errors.ts';
import { Manifest } from './manifest.ts';
import { findReservedKey, RESERVED_KEY_MESSAGE } from './reserved-keys.ts';

export interface ManifestProblem {
  /** Where, written like `workloads.web.ports[0]`; '' for the document itself. */
  path: string;
  /** What the file holds there (undefined when the key is missing). */
  value: unknown;
  /** What is wrong and how to fix it. */
  message: string;
}

export interface YamlProblem {
  line?: number;
  column?: number;
  message: string;
}

export function parseManifest(text: string, file = 'berth.yaml'): Manifest {
  const data = parseYaml(text, file);
  if (data === null || data === undefined) {
    const message = 'is empty; a manifest needs at least `app: <name>` and `workloads:` with one workload, e.g. `web: { command: "node server.js" }`';
    throw new InvalidInputError('manifest-invalid', `${file} ${message}`, { details: [{ path: '', value: data ?? null, message }] });
  }
  const result = Manifest.safeParse(data, { error: defaultMessage });
  // YAML keeps a `__proto__:` key, but the schema's records would drop it without a word.
  const reserved = findReservedKey(data);
  if (result.success && !reserved) return result.data;
  const problems = result.success ? [] : result.error.issues.flatMap((issue) => describeIssue(issue, data));
  if (reserved && !problems.some((p) => p.path === formatIssuePath(reserved))) {
    problems.unshift({ path: formatIssuePath(reserved), value: reserved[reserved.length - 1], message: `the name ${RESERVED_KEY_MESSAGE}` });
  }
  const lines = problems.map((p) => `${file}: ${p.path ? `${p.path}: ` : ''}${p.message} (got ${showValue(p.value)})`);
  const count = problems.length === 1 ? '1 problem' : `${problems.length} problems`;
  throw new InvalidInputError('manifest-invalid', `${file} is not a valid manifest (${count}):\n${lines.join('\n')}`, { details: problems });
}

/** `['workloads', 'web', 'ports', 0]` → `workloads.web.ports[0]`; odd keys are quoted: `env["A B"]`. */
export function formatIssuePath(path: readonly PropertyKey[]): string {
  let out = '';
  for (const key of path) {
    if (typeof key === 'number') out += `[${key}]`;
    else if (typeof key === 'symbol') out += `[${key.toString()}]`;
    else if (/^[A-Za-z_$][\w$-]*$/.test(key)) out += out ? `.${key}` : key;
    else out += `[${JSON.stringify(key)}]`;
  }
  return out;
}

function parseYaml(text: string, file: string): unknown {
  const doc = parseDocument(text, { prettyErrors: true });
  if (doc.errors.length > 0) throw yamlError(file, doc.errors);
  try {
    const data: unknown = doc.toJS();
    if (containsItself(data)) {
      const message = 'an alias (*name) refers to a node that contains it, so the document never ends; point aliases only at nodes outside themselves';
      throw new InvalidInputError('manifest-yaml', `${file}: ${message}`, { details: [{ message }] satisfies YamlProblem[] });
    }
    return data;
  } catch (err) {
    if (err instanceof InvalidInputError) throw err;
    // e.g. too many alias expansions (a "billion laughs" document)
    const message = err instanceof Error ? err.message : String(err);
    throw new InvalidInputError('manifest-yaml', `${file}: ${message}`, { details: [{ message }] satisfies YamlProblem[], cause: err });
  }
}

/** Whether a value reaches itself (YAML `a: &x [*x]`): no schema, message or store can walk it. */
function containsItself(value: unknown, ancestors = new Set<object>()): boolean {
  if (value === null || typeof value !== 'object') return false;
  if (ancestors.has(value)) return true;
  ancestors.add(value);
  const found = Object.values(value).some((v) => containsItself(v, ancestors));
  ancestors.delete(value);
  return found;
}

const YAML_HINTS: Record<string, string> = {
  DUPLICATE_KEY: 'each key may appear once in a mapping; remove or merge the repeated one',
  TAB_AS_INDENT: 'indent with spaces, not tabs',
  MULTIPLE_DOCS: 'keep one document: remove the `---` separator',
  MISSING_CHAR: 'close the quote or bracket that opens before this point',
  BAD_INDENT: 'check that keys of one mapping line up (with spaces) and that every `{` and `[` is closed',
  BLOCK_AS_IMPLICIT_KEY: 'put a space after each `:` and start nested mappings on a new, further-indented line',
  MULTILINE_IMPLICIT_KEY: 'a key must fit on one line: check the indentation of the line below it',
};

function yamlError(file: string, errors: YAMLError[]): InvalidInputError {
  const problems: (YamlProblem & { snippet: string })[] = errors.map((e) => {
    const pos = e.linePos?.[0];
    // prettyErrors appends " at line L, column C:\n\n<source excerpt>" to the message.
    const match = /^([\s\S]*?) at line \d+, column \d+:?\n*([\s\S]*)$/.exec(e.message);
    const headline = (match?.[1] ?? e.message).trim();
    const hint = YAML_HINTS[e.code] ?? 'check the indentation, quotes and brackets around that line';
    return { line: pos?.line, column: pos?.col, message: `${headline}; ${hint}`, snippet: (match?.[2] ?? '').trimEnd() };
  });
  const where = (p: YamlProblem) => (p.line === undefined ? file : `${file}:${p.line}:${p.column}`);
  const first = problems[0]!;
  const rest = problems.slice(1).map((p) => `${where(p)}: ${p.message}`);
  const message = [`${where(first)}: ${first.message}`, first.snippet ? `\n${first.snippet}\n` : '', ...rest].filter(Boolean).join('\n');
  return new InvalidInputError('manifest-yaml', message, { details: problems.map(({ snippet: _, ...p }) => p) });
}

// Zod's own words ("Invalid input: expected number, received string") are for programmers. This map
// only speaks where the schema did not already say something better: schema messages take precedence.
const TYPE_NAMES: Record<string, string> = {
  string: 'a string (quote it if it looks like a number or boolean)',
  number: 'a number',
  int: 'a whole number',
  boolean: 'true or false',
  object: 'a mapping of `key: value` lines',
  record: 'a mapping of `name: value` lines',
  array: 'a list (`- item` lines or `[a, b]`)',
};

function defaultMessage(issue: z.core.$ZodRawIssue): string | undefined {
  switch (issue.code) {
    case 'invalid_type':
      return issue.input === undefined ? 'is required' : `must be ${TYPE_NAMES[issue.expected] ?? issue.expected}`;
    case 'too_small': {
      const min = Number(issue.minimum);
      if (issue.origin === 'array') return `must list at least ${min} item${min === 1 ? '' : 's'}`;
      if (issue.origin === 'string') return min === 1 ? 'must not be empty' : `must be at least ${min} characters long`;
      return issue.inclusive === false ? `must be greater than ${min}` : `must be at least ${min}`;
    }
    case 'too_big': {
      const max = Number(issue.maximum);
      if (issue.origin === 'array') return `must list at most ${max} item${max === 1 ? '' : 's'}`;
      if (issue.origin === 'string') return `must be at most ${max} characters long`;
      return issue.inclusive === false ? `must be less than ${max}` : `must be at most ${max}`;
    }
    case 'invalid_value':
      return `must be one of ${issue.values.map((v) => JSON.stringify(v)).join(', ')}`;
    default:
      return undefined;
  }
}

function describeIssue(issue: z.core.$ZodIssue, data: unknown): ManifestProblem[] {
  const path = issue.path;
  if (issue.code === 'unrecognized_keys') {
    const allowed = objectKeysAt(path);
    const here = valueAt(data, path) as Record<string, unknown> | undefined;
    return issue.keys.map((key) => {
      const suggestion = allowed.length ? closest(key, allowed) : undefined;
      const allowedText = allowed.length ? `; allowed keys here: ${allowed.join(', ')}` : '; remove it';
      return {
        path: formatIssuePath([...path, key]),
        value: here?.[key],
        message: `is not a known key${suggestion ? ` (did you mean "${suggestion}"?)` : ''}${allowedText}`,
      };
    });
  }
  if (issue.code === 'invalid_key') {
    const key = path[path.length - 1];
    const why = issue.issues[0]?.message ?? issue.message;
    return [{ path: formatIssuePath(path), value: key, message: `the name ${why}` }];
  }
  const value = valueAt(data, path);
  let message = issue.message;
  if (path.length === 0 && issue.code === 'invalid_type') {
    message = 'must be a mapping with `app:` and `workloads:` keys, e.g. `app: shop` then `workloads:` with `web: { command: "node server.js" }`';
  }
  if (value === undefined && (issue.code === 'invalid_type' || issue.code === 'invalid_union')) {
    const description = descriptionAt(path);
    message = description ? `is required: ${description}` : 'is required';
  }
  return [{ path: formatIssuePath(path), value, message }];
}

function valueAt(data: unknown, path: readonly PropertyKey[]): unknown {
  let here: unknown = data;
  for (const key of path) {
    if (here === null || typeof here !== 'object') return undefined;
    here = (here as Record<PropertyKey, unknown>)[key];
  }
  return here;
}

function showValue(value: unknown): string {
  if (value === undefined) return 'nothing';
  const text = JSON.stringify(value) ?? String(value);
  return text.length > 60 ? `${text.slice(0, 57)}...` : text;
}

// A small walk over the schema, enough to name the keys an object accepts and to quote a field's
// description. Zod's internals are reached through `_zod.def`, the documented way to introspect v4.
interface SchemaNode {
  description?: string;
  _zod: { def: { type: string; shape?: Record<string, SchemaNode>; valueType?: SchemaNode; element?: SchemaNode; innerType?: SchemaNode; in?: SchemaNode } };
}

/** The schema inside optional/default/pipe wrappers. */
function unwrap(node: SchemaNode): SchemaNode {
  let here = node;
  for (;;) {
    const def = here._zod.def;
    const inner = def.type === 'pipe' ? def.in : def.innerType;
    if (!inner) return here;
    here = inner;
  }
}

/** The schema of the field at `path`, wrappers and all (a description may sit on any of them). */
function schemaAt(path: readonly PropertyKey[]): SchemaNode | undefined {
  let here: SchemaNode | undefined = Manifest as unknown as SchemaNode;
  for (const key of path) {
    const def: SchemaNode['_zod']['def'] = unwrap(here)._zod.def;
    if (def.type === 'object') here = def.shape?.[String(key)];
    else if (def.type === 'record') here = def.valueType;
    else if (def.type === 'array') here = def.element;
    else return undefined;
    if (!here) return undefined;
  }
  return here;
}

function objectKeysAt(path: readonly PropertyKey[]): string[] {
  const node = schemaAt(path);
  const def = node && unwrap(node)._zod.def;
  return def?.type === 'object' ? Object.keys(def.shape ?? {}) : [];
}

/** The field's own description: the outermost one, before the descriptions of the types it reuses. */
function descriptionAt(path: readonly PropertyKey[]): string | undefined {
  let here = schemaAt(path);
  while (here) {
    if (here.description) return here.description;
    const def: SchemaNode['_zod']['def'] = here._zod.def;
    here = def.type === 'pipe' ? def.in : def.innerType;
  }
  return undefined;
}

function closest(word: string, candidates: string[]): string | undefined {
  let best: string | undefined;
  let bestDistance = Infinity;
  for (const candidate of candidates) {
    const d = editDistance(word.toLowerCase(), candidate.toLowerCase());
    if (d < bestDistance) [best, bestDistance] = [candidate, d];
  }
  const tolerance = word.length <= 3 ? 1 : Math.max(2, Math.floor(word.length / 3));
  return bestDistance <= tolerance ? best : undefined;
}

/** Edits (insert, delete, substitute, swap two neighbours) between a and b: "prots" is 1 from "ports". */
function editDistance(a: string, b: string): number {
  const d: number[][] = Array.from({ length: a.length + 1 }, (_, i) => Array.from({ length: b.length + 1 }, (_, j) => (i === 0 ? j : j === 0 ? i : 0)));
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let v = Math.min(d[i - 1]![j]! + 1, d[i]![j - 1]! + 1, d[i - 1]![j - 1]! + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) v = Math.min(v, d[i - 2]![j - 2]! + 1);
      d[i]![j] = v;
    }
  }
  return d[a.length]![b.length]!;
}
