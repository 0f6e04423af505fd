/**
 * @file Audit records out, as JSON lines (one record per line, rows nested) or CSV (one line per
 * row, the record's fields repeated; a record without rows still gets one line). Streamed: it pages
 * through query() with a (log, seq) cursor, so a huge log is never in memory at once. Floats are
 * written as the shortest decimal that reads back as the same float32 (0.1, not 0.10000000149...);
 * NaN and ±Infinity, which JSON cannot hold, are the strings "NaN", "Infinity", "-Infinity".
 */
import type { AuditFilter, AuditOutput, AuditStore, StoredAuditRecord } from './types.js';
import { auditPages } from './audit-pages.js';

export type ExportFormat = 'jsonl' | 'csv';

export interface ExportOptions extends Omit<AuditFilter, 'after' | 'limit'> {
  readonly format: ExportFormat;
  /** Records per query() page (default 64). */
  readonly pageSize?: number;
  /** Told how many records each page held, as it is yielded. */
  readonly onRecords?: (n: number) => void;
}

/** The CSV header, in order. */
export const CSV_COLUMNS = [
  'log',
  'seq',
  'at',
  'time',
  'request_id',
  'client_id',
  'tier',
  'ip',
  'route',
  'model',
  'status',
  'outcome',
  'latency_ms',
  'flags',
  'row_index',
  'input_hash',
  'input',
  'raw_label',
  'raw_scores',
  'served_label',
  'served_scores',
  'prev_hash',
  'hash',
] as const;

/** The shortest decimal that reads back as the same float32. */
export function float32Text(v: number): string {
  if (v === 0) return Object.is(v, -0) ? '-0' : '0';
  if (!Number.isFinite(v)) return String(v);
  // More digits never stop a round trip, so the shortest precision can be bisected (9 always works).
  let lo = 1;
  let hi = 9;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (Math.fround(Number(v.toPrecision(mid))) === v) hi = mid;
    else lo = mid + 1;
  }
  return String(Number(v.toPrecision(lo)));
}

const jsonFloat = (v: number): string => (Number.isFinite(v) ? float32Text(v) : JSON.stringify(String(v)));
const jsonFloats = (a: Float32Array): string => `[${Array.from(a, jsonFloat).join(',')}]`;

function jsonOutput(o: AuditOutput): string {
  return `{"label":${o.label}${o.scores ? `,"scores":${jsonFloats(o.scores)}` : ''}}`;
}

/** One JSON line (without the newline): the record's fields, then its rows. */
export function recordJson(r: StoredAuditRecord): string {
  const { rows, ...fields } = r;
  const head = JSON.stringify({ ...fields, time: new Date(r.at).toISOString() });
  const rowsJson = rows.map((row) => {
    const parts = [`"index":${row.index}`, `"inputHash":${JSON.stringify(row.inputHash)}`];
    if (row.input) parts.push(`"input":${jsonFloats(row.input)}`);
    if (row.raw) parts.push(`"raw":${jsonOutput(row.raw)}`);
    if (row.served) parts.push(`"served":${jsonOutput(row.served)}`);
    return `{${parts.join(',')}}`;
  });
  return `${head.slice(0, -1)},"rows":[${rowsJson.join(',')}]}`;
}

function csvCell(v: string | number | undefined): string {
  if (v === undefined) return '';
  const s = String(v);
  return /[",\r\n]/.test(s) ? `"${s.replaceAll('"', '""')}"` : s;
}

const spaced = (a: Float32Array | undefined): string | undefined =>
  a ? Array.from(a, float32Text).join(' ') : undefined;

/** The record's CSV lines (without the final newline), one per row. */
export function recordCsv(r: StoredAuditRecord): string[] {
  const fields = [
    r.log,
    r.seq,
    r.at,
    new Date(r.at).toISOString(),
    r.requestId,
    r.clientId,
    r.tier,
    r.ip,
    r.route,
    r.model,
    r.status,
    r.outcome,
    r.latencyMs,
    r.flags.join(';'),
  ];
  const tail = [r.prevHash, r.hash];
  const rows = r.rows.length > 0 ? r.rows : [undefined];
  return rows.map((row) =>
    [
      ...fields,
      row?.index,
      row?.inputHash,
      spaced(row?.input),
      row?.raw?.label,
      spaced(row?.raw?.scores),
      row?.served?.label,
      spaced(row?.served?.scores),
      ...tail,
    ]
      .map(csvCell)
      .join(','),
  );
}

/** The export as text chunks (whole lines, newline-terminated), page by page. */
export async function* exportAudit(store: AuditStore, options: ExportOptions): AsyncGenerator<string> {
  const { format, pageSize = 64, onRecords, ...filter } = options;
  if (format === 'csv') yield `${CSV_COLUMNS.join(',')}\n`;
  for await (const page of auditPages(store, filter, pageSize)) {
    const lines = format === 'csv' ? page.flatMap(recordCsv) : page.map(recordJson);
    onRecords?.(page.length);
    yield `${lines.join('\n')}\n`;
  }
}
