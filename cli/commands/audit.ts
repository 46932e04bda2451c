// `berth audit`: the org's audit log, newest first, as a table or exported as CSV or JSON. The CSV is
// written by the same function the API's format=csv uses, so both exports read back alike.
import { auditCsv, type AuditRecord } from '../../functions/contract/audit.ts';
import { defineCommand } from '../core/command.ts';
import { flag } from '../core/flags.ts';
import { cliError } from '../core/errors.ts';
import { table } from '../core/output.ts';
import { parseTimeArg } from '../core/time-arg.ts';
import { terminalSafeJson } from '../core/terminal-safe.ts';

/** The API's largest page. */
const PAGE = 1000;

export default defineCommand({
  description:
    'Every mutation of the org (API, CLI, console and MCP alike), newest first: when, who (principal and token), the action, the resource, how it ended and from which address. Denied and failed attempts are included. Needs the admin role. Request bodies and query strings are never recorded.',
  flags: {
    ...flag('since'),
    ...flag('until'),
    actor: { type: 'string', valueName: 'email', description: 'Only what this principal did' },
    action: { type: 'string', valueName: 'text', description: 'Only actions containing this text, e.g. deploys, DELETE, /members' },
    format: { type: 'string', valueName: 'json|csv', description: 'Export every field: a JSON array, or CSV (RFC 4180) with a header row' },
    ...flag('limit', 'At most n records, newest first (default 100)'),
  },
  requires: ['auth', 'org'],
  examples: ['berth audit --since 2h', 'berth audit --actor alice@example.com --action deploys', 'berth audit --since 30d --format csv > audit.csv'],
  async handler(ctx) {
    const f = ctx.flags;
    const format = f.format ?? (ctx.out.json ? 'json' : undefined);
    if (format !== undefined && format !== 'json' && format !== 'csv') throw cliError('invalid-input', 'format-invalid', `--format ${JSON.stringify(format)} is not a format; use json or csv`);
    if (ctx.out.json && format === 'csv') throw cliError('invalid-input', 'format-conflict', '--json prints JSON; drop it to export --format csv');
    const limit = f.limit === undefined ? 100 : Number(f.limit);
    if (!Number.isInteger(limit) || limit < 1) throw cliError('invalid-input', 'limit-invalid', `--limit ${JSON.stringify(f.limit)} is not a positive whole number`);

    const query = new URLSearchParams();
    if (f.since) query.set('since', parseTimeArg('since', f.since, ctx.host.now()));
    if (f.until) query.set('until', parseTimeArg('until', f.until, ctx.host.now()));
    if (f.actor) query.set('actor', f.actor);
    if (f.action) query.set('action', f.action);
    const records: AuditRecord[] = [];
    let after: string | undefined;
    do {
      const q = new URLSearchParams(query);
      q.set('limit', String(Math.min(PAGE, limit - records.length)));
      if (after) q.set('after', after);
      const page = await ctx.api.get<{ records: AuditRecord[]; next: string | null }>(`/v1/orgs/${encodeURIComponent(ctx.target.org)}/audit?${q}`);
      records.push(...page.records);
      after = page.next ?? undefined;
    } while (after && records.length < limit);
    if (after) ctx.out.note(`The newest ${records.length} records are shown; there are more: raise --limit or narrow with --since/--until.`);

    // A data export, like --json: its bytes as they are (CRLF rows, RFC 4180 quoting), never re-rendered.
    if (format === 'csv') return ctx.out.rawLine(auditCsv(records).replace(/\r?\n$/, ''));
    if (format === 'json') return ctx.out.json ? ctx.out.result(records, () => '') : ctx.out.line(terminalSafeJson(records, 2));
    if (!records.length) return ctx.out.line('No audit records match.');
    const rows = records.map((r) => [r.time, r.actor, r.action.split(' ')[0], r.resource, result(r), r.tokenId, r.sourceIp ?? '-']);
    ctx.out.line(table([['TIME', 'ACTOR', 'METHOD', 'RESOURCE', 'RESULT', 'TOKEN', 'FROM'], ...rows], ctx.out.style));
  },
});

function result(r: AuditRecord): string {
  return r.outcome === 'success' ? `${r.status}` : `${r.status} ${r.outcome}${r.errorCode ? ` (${r.errorCode})` : ''}`;
}
