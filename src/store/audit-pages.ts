/**
 * @file Every record matching a filter, a page at a time through `query()` with a `(log, seq)`
 * cursor, so that a long log is never in memory at once (export, replay and watermark
 * verification all read logs this way).
 */
import type { AuditFilter, AuditStore, StoredAuditRecord } from './types.js';

export async function* auditPages(
  store: AuditStore,
  filter: Omit<AuditFilter, 'after' | 'limit'> = {},
  pageSize = 64,
): AsyncGenerator<StoredAuditRecord[]> {
  let after: AuditFilter['after'];
  for (;;) {
    const page = await store.query({ ...filter, ...(after ? { after } : {}), limit: pageSize });
    if (page.length === 0) return;
    yield page;
    const last = page[page.length - 1];
    after = { log: last.log, seq: last.seq };
    if (page.length < pageSize) return;
  }
}
