/**
 * @file The SQL both audit stores share: an AuditFilter as a WHERE clause over the records table
 * (alias `r`), with the placeholders of the store's driver, and the cursor that pages in (log, seq)
 * order. Logs compare byte-wise (PostgreSQL's log column is COLLATE "C"), the order verify walks them in.
 */
import type { AuditFilter } from './types.js';

export interface SqlDialect {
  /** Adds a parameter and returns its placeholder (`?`, or `$1`, `$2`, ...). */
  param(value: unknown): string;
}

export function whereSql(f: AuditFilter, d: SqlDialect): string {
  const parts: string[] = [];
  if (f.clientId !== undefined) parts.push(`r.client_id = ${d.param(f.clientId)}`);
  if (f.model !== undefined) parts.push(`r.model = ${d.param(f.model)}`);
  if (f.since !== undefined) parts.push(`r.at >= ${d.param(f.since)}`);
  if (f.until !== undefined) parts.push(`r.at <= ${d.param(f.until)}`);
  if (f.log !== undefined) parts.push(`r.log = ${d.param(f.log)}`);
  if (f.after !== undefined) {
    const log = d.param(f.after.log);
    parts.push(`(r.log > ${log} OR (r.log = ${d.param(f.after.log)} AND r.seq > ${d.param(f.after.seq)}))`);
  }
  return parts.length > 0 ? ` WHERE ${parts.join(' AND ')}` : '';
}

/** ` LIMIT n` for a query's filter, or nothing. */
export function limitSql(f: AuditFilter): string {
  return f.limit !== undefined ? ` LIMIT ${Math.max(0, Math.floor(f.limit))}` : '';
}

/** Placeholders for better-sqlite3: positional `?`. */
export function sqliteDialect(): SqlDialect & { readonly params: unknown[] } {
  const params: unknown[] = [];
  return {
    params,
    param(v) {
      params.push(v);
      return '?';
    },
  };
}

/** Placeholders for pg: `$1`, `$2`, ... */
export function postgresDialect(): SqlDialect & { readonly params: unknown[] } {
  const params: unknown[] = [];
  return {
    params,
    param(v) {
      params.push(v);
      return `$${params.length}`;
    },
  };
}
