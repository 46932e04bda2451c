// The audit record as the API serves it and the CLI exports it, and its CSV form (RFC 4180).
// No Node-only imports: the console runs `berth audit` in the browser.
import { z } from 'zod';
import { ERROR_CATEGORIES } from './errors.ts';

const IsoTime = z.string().datetime({ offset: true, message: 'must be an ISO-8601 time such as 2026-01-02T03:04:05Z' });

/**
 * One mutation: who (principal and token), what (action = method and route template; resource =
 * the concrete path, never the query string or body), when, from where, and how it ended.
 */
export const AuditRecord = z.object({
  id: z.string().describe('aud-<ulid>: sorts by time'),
  time: z.string(),
  org: z.string(),
  actor: z.string().describe("the token's principal: a member's email, or the installer"),
  tokenId: z.string(),
  tokenKind: z.enum(['bootstrap', 'session', 'ci']),
  action: z.string().describe('method and route template, e.g. POST /orgs/{org}/projects'),
  resource: z.string().describe('the concrete path, e.g. /orgs/acme/projects'),
  requestId: z.string().describe("the server's own id (req-<ulid>), also in the answer's X-Request-Id"),
  sourceIp: z.string().optional(),
  status: z.number().int(),
  outcome: z.enum(['success', 'denied', 'failed']).describe('denied: refused by a role, the token or a limit'),
  errorCategory: z.enum(ERROR_CATEGORIES).optional(),
  errorCode: z.string().optional(),
  replayed: z.boolean().optional().describe('answered from the Idempotency-Key store, not run again'),
  clientRequestId: z.string().optional().describe('the X-Request-Id the client sent, if any: printable ASCII, at most 128 characters'),
});
export type AuditRecord = z.infer<typeof AuditRecord>;

export const AUDIT_PAGE_DEFAULT = 100;
export const AUDIT_PAGE_MAX = 1000;

export const AuditQuery = z.object({
  since: IsoTime.optional(),
  until: IsoTime.optional(),
  actor: z.string().optional().describe('exact principal (email)'),
  action: z.string().optional().describe('substring of the action, e.g. "deploys" or "DELETE"'),
  format: z.enum(['json', 'csv']).optional(),
  limit: z.coerce.number().int().min(1).max(AUDIT_PAGE_MAX).optional(),
  after: z.string().regex(/^aud-[0-9A-Z]{26}$/, { message: 'must be the `next` of the previous page (aud-…)' }).optional(),
}).refine((q) => !q.since || !q.until || Date.parse(q.since) <= Date.parse(q.until), { message: 'since must not be later than until', path: ['until'] });

/** The CSV columns, in order: every field of the record. */
export const AUDIT_FIELDS = Object.keys(AuditRecord.shape) as (keyof AuditRecord)[];

/** The header that carries the next page's `after` with format=csv (JSON has it in the body). */
export const AUDIT_NEXT_HEADER = 'x-berth-next';

export function auditCsv(records: AuditRecord[]): string {
  const rows = [AUDIT_FIELDS as string[], ...records.map((r) => AUDIT_FIELDS.map((f) => (r[f] === undefined ? '' : String(r[f]))))];
  return rows.map((row) => row.map(csvField).join(',') + '\r\n').join('');
}

/** Parses what `auditCsv` wrote back to the records; an empty cell is an absent optional field. */
export function parseAuditCsv(text: string): AuditRecord[] {
  const [header, ...rows] = parseCsv(text);
  if (!header || header.join(',') !== AUDIT_FIELDS.join(',')) throw new Error(`not an audit CSV: the header must be ${AUDIT_FIELDS.join(',')}`);
  return rows.map((row) => {
    const raw: Record<string, unknown> = {};
    header.forEach((field, i) => {
      const cell = row[i] ?? '';
      if (cell === '') return;
      raw[field] = field === 'status' ? Number(cell) : field === 'replayed' ? cell === 'true' : cell;
    });
    return AuditRecord.parse(raw);
  });
}

/** RFC 4180 §2: quote a field holding a comma, a quote or a line break; double the quotes inside. */
function csvField(value: string): string {
  return /[",\r\n]/.test(value) ? `"${value.replaceAll('"', '""')}"` : value;
}

/** RFC 4180 records (CRLF or LF line ends; quoted fields may hold commas, quotes and line breaks). */
export function parseCsv(text: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let field = '';
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const ch = text[i];
    if (quoted) {
      if (ch === '"' && text[i + 1] === '"') {
        field += '"';
        i++;
      } else if (ch === '"') quoted = false;
      else field += ch;
    } else if (ch === '"') quoted = true;
    else if (ch === ',') {
      row.push(field);
      field = '';
    } else if (ch === '\n' || ch === '\r') {
      if (ch === '\r' && text[i + 1] === '\n') i++;
      row.push(field);
      rows.push(row);
      row = [];
      field = '';
    } else field += ch;
  }
  if (quoted) throw new Error('CSV ends inside a quoted field');
  if (field !== '' || row.length) rows.push([...row, field]);
  return rows;
}
