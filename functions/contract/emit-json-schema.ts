// The JSON Schema of berth.yaml, derived from the zod Manifest so editors (yaml-language-server,
// VS Code) check the same shape the CLI and API do. `npm run schema` writes schemas/berth.schema.json.
// Refinements (cross-references, cpu/memory pairs) cannot be expressed in JSON Schema and are
// dropped; the few that can be are added back below.
import { z } from 'zod';
import { FARGATE_MEMORY, Manifest } from './manifest.ts';

/** Identifies the schema; a URN because Berth has no canonical web address to host it at. */
export const MANIFEST_SCHEMA_ID = 'urn:berth:schema:berth.yaml:v1';
export const MANIFEST_SCHEMA_PATH = 'schemas/berth.schema.json';

type JsonSchema = Record<string, unknown> & { properties?: Record<string, JsonSchema>; additionalProperties?: JsonSchema | boolean };

export function manifestJsonSchema(): Record<string, unknown> {
  const generated = z.toJSONSchema(Manifest, { io: 'input', unrepresentable: 'any' }) as JsonSchema;
  const { $schema, ...rest } = generated;
  const schema: JsonSchema = { $schema, $id: MANIFEST_SCHEMA_ID, title: 'Berth manifest', ...rest };
  dropNonStandardFormats(schema);
  const workloads = schema.properties?.workloads;
  if (workloads) {
    // `.refine(at least one workload)` in zod; an editor can say it too.
    workloads.minProperties = 1;
    const cpu = (workloads.additionalProperties as JsonSchema | undefined)?.properties?.cpu;
    if (cpu) cpu.enum = Object.keys(FARGATE_MEMORY).map(Number);
  }
  return schema;
}

// zod records `startsWith` as `format: "starts_with"` next to an equivalent `pattern`; that format
// is not one JSON Schema defines, and strict validators (ajv) reject unknown formats.
const NON_STANDARD_FORMATS = new Set(['starts_with', 'ends_with', 'includes']);

function dropNonStandardFormats(node: unknown): void {
  if (Array.isArray(node)) {
    node.forEach(dropNonStandardFormats);
  } else if (node !== null && typeof node === 'object') {
    const record = node as Record<string, unknown>;
    if (typeof record.format === 'string' && NON_STANDARD_FORMATS.has(record.format)) delete record.format;
    Object.values(record).forEach(dropNonStandardFormats);
  }
}

async function main(): Promise<void> {
  // Node-only imports stay inside the script path, so importing this module works anywhere.
  const { mkdir, writeFile } = await import('node:fs/promises');
  const { dirname, resolve } = await import('node:path');
  const { fileURLToPath } = await import('node:url');
  const root = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
  const target = resolve(root, MANIFEST_SCHEMA_PATH);
  await mkdir(dirname(target), { recursive: true });
  await writeFile(target, `${JSON.stringify(manifestJsonSchema(), null, 2)}\n`);
  console.log(`wrote ${MANIFEST_SCHEMA_PATH}`);
}

if (typeof process !== 'undefined' && /emit-json-schema\.[cm]?[jt]s$/.test(process.argv[1] ?? '')) {
  main().catch((err: unknown) => {
    console.error(err);
    process.exitCode = 1;
  });
}
