/**
 * @file SQLite audit store (better-sqlite3 v12; v13 needs Node 22). WAL journal with synchronous
 * commits: an entry is on disk when append() returns. Inputs and scores are stored as float32
 * blobs so forensics can replay exactly what a client sent.
 */
import Database from 'better-sqlite3';
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { HeistError } from '../core/errors.js';
import { z } from 'zod';
import type { AuditEntry, AuditFilter, AuditStore, AuditStoreEntry } from './types.js';

const SCHEMA = `
CREATE TABLE IF NOT EXISTS audit_queries (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  at INTEGER NOT NULL,
  request_id TEXT NOT NULL,
  client_id TEXT NOT NULL,
  model TEXT NOT NULL,
  row_index INTEGER NOT NULL,
  input_hash TEXT NOT NULL,
  input BLOB NOT NULL,
  outcome TEXT NOT NULL,
  label INTEGER,
  scores BLOB,
  flags TEXT
);
CREATE INDEX IF NOT EXISTS audit_client_at ON audit_queries (client_id, at);
CREATE INDEX IF NOT EXISTS audit_model_at ON audit_queries (model, at);
`;

interface Row {
  at: number;
  request_id: string;
  client_id: string;
  model: string;
  row_index: number;
  input_hash: string;
  input: Buffer;
  outcome: string;
  label: number | null;
  scores: Buffer | null;
  flags: string | null;
}

const blob = (a: Float32Array): Buffer => Buffer.from(a.buffer, a.byteOffset, a.byteLength);
const floats = (b: Buffer): Float32Array => new Float32Array(b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength));

function where(f: AuditFilter): { sql: string; params: unknown[] } {
  const parts: string[] = [];
  const params: unknown[] = [];
  const where = (clause: string, value: unknown): void => {
    parts.push(clause);
    params.push(value);
  };
  if (f.clientId !== undefined) where('client_id = ?', f.clientId);
  if (f.model !== undefined) where('model = ?', f.model);
  if (f.since !== undefined) where('at >= ?', f.since);
  return { sql: parts.length > 0 ? ` WHERE ${parts.join(' AND ')}` : '', params };
}

/** `path` is a file path, or ':memory:'. */
export function sqliteAuditStore(path: string): AuditStore {
  let db: Database.Database;
  try {
    if (path !== ':memory:') mkdirSync(dirname(path), { recursive: true });
    db = new Database(path);
    db.pragma('journal_mode = WAL');
    db.pragma('synchronous = FULL');
    db.exec(SCHEMA);
  } catch (e) {
    throw new HeistError('HEIST_ERR_BAD_CONFIG', `cannot open the SQLite audit log ${path}: ${(e as Error).message}`);
  }
  const insert = db.prepare(
    'INSERT INTO audit_queries (at, request_id, client_id, model, row_index, input_hash, input, outcome, label, scores, flags) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)',
  );
  const appendAll = db.transaction((entries: readonly AuditEntry[]) => {
    for (const e of entries) {
      insert.run(
        e.at,
        e.requestId,
        e.clientId,
        e.model,
        e.rowIndex,
        e.inputHash,
        blob(e.input),
        e.outcome,
        e.label ?? null,
        e.scores ? blob(e.scores) : null,
        e.flags && e.flags.length > 0 ? JSON.stringify(e.flags) : null,
      );
    }
  });
  return {
    url: `sqlite://${path}`,
    append: (entries) => appendAll(entries),
    count(filter = {}) {
      const w = where(filter);
      return (db.prepare(`SELECT COUNT(*) AS n FROM audit_queries${w.sql}`).get(...w.params) as { n: number }).n;
    },
    query(filter = {}) {
      const w = where(filter);
      const limit = filter.limit !== undefined ? ` LIMIT ${Math.max(0, Math.floor(filter.limit))}` : '';
      const rows = db.prepare(`SELECT * FROM audit_queries${w.sql} ORDER BY id${limit}`).all(...w.params) as Row[];
      return rows.map((r) => ({
        at: r.at,
        requestId: r.request_id,
        clientId: r.client_id,
        model: r.model,
        rowIndex: r.row_index,
        inputHash: r.input_hash,
        input: floats(r.input),
        outcome: r.outcome,
        label: r.label ?? undefined,
        scores: r.scores ? floats(r.scores) : undefined,
        flags: r.flags ? (JSON.parse(r.flags) as string[]) : undefined,
      }));
    },
    close: () => db.close(),
  };
}

export const sqlite: AuditStoreEntry = {
  name: 'sqlite',
  summary: 'embedded SQLite file (sqlite://path/to/audit.db, or sqlite://:memory:), WAL with synchronous commits',
  options: z.object({ location: z.string().min(1) }).strict(),
  example: { location: ':memory:' },
  create: (o) => sqliteAuditStore(o.location),
};
