// The org's audit log: newest first (what people ask is "what just happened"), a page at a time.
// format=csv answers the same page as RFC 4180 text; its next-page cursor is in a header.
import { OrgParams } from '../../contract/api.ts';
import { AUDIT_NEXT_HEADER, AUDIT_PAGE_DEFAULT, AuditQuery, auditCsv } from '../../contract/audit.ts';
import type { PlatformDeps } from '../../core/services/deps.ts';
import type { Api } from '../app.ts';
import * as R from '../../contract/routes/index.ts';
import { register } from '../route.ts';

export function registerAuditRoutes(api: Api, { store }: PlatformDeps): void {
  register(api, R.listAudit, async (c) => {
      const { org } = c.req.valid('param');
      const { format, limit, ...filters } = c.req.valid('query');
      const page = await store.listAudit(org, { ...filters, limit: limit ?? AUDIT_PAGE_DEFAULT });
      if (format === 'csv') {
        if (page.next) c.header(AUDIT_NEXT_HEADER, page.next);
        return c.body(auditCsv(page.records), 200, { 'content-type': 'text/csv; charset=utf-8' }) as never;
      }
      return c.json({ records: page.records, next: page.next ?? null }, 200);
    },
  );
}
