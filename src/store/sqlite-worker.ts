/**
 * @file The SQLite audit store's worker thread: it owns the better-sqlite3 connection, so the
 * gateway's event loop never waits on the disk or on another process's lock. Appends queue up and
 * are group-committed: one IMMEDIATE transaction (WAL, synchronous=FULL) takes every append queued
 * so far, chains its records from the log's head as read inside that transaction (so two processes
 * sharing the file never fork a chain), and only then are they acknowledged. While another process
 * holds the write lock the worker retries in short slices, answering reads in between, and drops
 * appends whose deadline has passed (the main thread has rejected them already) before committing.
 */
import Database from 'better-sqlite3';
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { parentPort, workerData } from 'node:worker_threads';
import { HeistError, type HeistErrorCode, isHeistError } from '../core/errors.js';
import { type ChainAnchor, START, recordHash } from './audit-chain.js';
import {
  RECORD_COLUMNS,
  ROW_COLUMNS,
  type RecordColumns,
  type RowColumns,
  recordColumns,
  recordFromColumns,
  rowColumns,
} from './audit-codec.js';
import { limitSql, sqliteDialect, whereSql } from './audit-sql.js';
import { type WireRecords, fromWire } from './audit-wire.js';
import { type ChainSource, type PageItem, verifyChains, walkLog } from './audit-verify.js';
import type { AuditFilter, AuditRecord, StoredAuditRecord } from './types.js';

export interface SqliteWorkerInit {
  readonly path: string;
  readonly log: string;
  readonly hmacKey?: Uint8Array;
  /** false: the file and its tables must exist already. */
  readonly createIfMissing: boolean;
  /** How long an admin operation (prune) waits for another process's write lock. */
  readonly lockWaitMs: number;
}

export type SqliteRequest =
  | { readonly id: number; readonly op: 'append'; readonly records: WireRecords; readonly deadline: number }
  | { readonly id: number; readonly op: 'count' | 'countRows' | 'query'; readonly filter: AuditFilter }
  | { readonly id: number; readonly op: 'verify'; readonly log?: string }
  | { readonly id: number; readonly op: 'prune'; readonly before: number }
  | { readonly id: number; readonly op: 'close' }
  /** Tests only (terminateWorker): exit at once, with whatever is pending, as a crash would. */
  | { readonly id: number; readonly op: 'crash' };

/** id 0 answers the start-up; `ids` acknowledges every append of one group commit in one message. */
export type SqliteReply =
  | { readonly id: number; readonly ok: true; readonly value?: unknown }
  | { readonly ids: readonly number[]; readonly ok: true }
  | { readonly id: number; readonly ok: false; readonly code: HeistErrorCode; readonly message: string };

const SCHEMA = `
CREATE TABLE IF NOT EXISTS heist_audit_records (
  id INTEGER PRIMARY KEY,
  log TEXT NOT NULL,
  seq INTEGER NOT NULL,
  at INTEGER NOT NULL,
  request_id TEXT NOT NULL,
  client_id TEXT NOT NULL,
  tier TEXT,
  ip TEXT NOT NULL,
  route TEXT NOT NULL,
  model TEXT,
  status INTEGER NOT NULL,
  outcome TEXT NOT NULL,
  latency_ms REAL NOT NULL,
  flags TEXT,
  prev_hash BLOB NOT NULL,
  hash BLOB NOT NULL,
  UNIQUE (log, seq)
) STRICT;
CREATE INDEX IF NOT EXISTS heist_audit_records_at ON heist_audit_records (at);
CREATE INDEX IF NOT EXISTS heist_audit_records_client ON heist_audit_records (client_id, at);
CREATE INDEX IF NOT EXISTS heist_audit_records_model ON heist_audit_records (model, at);
CREATE TABLE IF NOT EXISTS heist_audit_rows (
  record_id INTEGER NOT NULL,
  pos INTEGER NOT NULL,
  idx INTEGER NOT NULL,
  input_hash BLOB NOT NULL,
  input BLOB,
  raw_label INTEGER,
  raw_scores BLOB,
  served_label INTEGER,
  served_scores BLOB,
  PRIMARY KEY (record_id, pos)
) STRICT;
CREATE TABLE IF NOT EXISTS heist_audit_anchors (
  log TEXT PRIMARY KEY,
  seq INTEGER NOT NULL,
  prev_hash BLOB NOT NULL
) STRICT;
`;

/** Longest a single attempt at the write lock blocks the worker (it answers messages in between). */
const LOCK_SLICE_MS = 25;
const PAGE_SIZE = 16384;

const init = workerData as SqliteWorkerInit;
const port = parentPort!;
const send = (reply: SqliteReply): void => port.postMessage(reply);
const fail = (id: number, code: HeistErrorCode, message: string): void => send({ id, ok: false, code, message });

const isBusy = (e: unknown): boolean => /^SQLITE_(BUSY|LOCKED)/.test((e as { code?: string }).code ?? '');

let db: Database.Database;
try {
  if (init.createIfMissing && init.path !== ':memory:') mkdirSync(dirname(init.path), { recursive: true });
  db = new Database(init.path, { timeout: init.lockWaitMs, fileMustExist: !init.createIfMissing });
  // Takes effect only on a new file (before WAL is on). A row holding a 784-float input is 3 KB:
  // 4 KB pages held one row each and cost the audit worker twice the CPU per row at batch 256
  // (docs/architecture.md, "Audit log").
  db.pragma(`page_size = ${PAGE_SIZE}`);
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = FULL');
  if (init.createIfMissing) db.exec(SCHEMA);
  else if (!db.prepare("SELECT 1 FROM sqlite_master WHERE name = 'heist_audit_records'").get())
    throw new Error('it holds no Heist audit log');
} catch (e) {
  fail(0, 'HEIST_ERR_BAD_CONFIG', `cannot open the SQLite audit log ${init.path}: ${(e as Error).message}`);
  process.exit(0);
}

const insertRecord = db.prepare(
  `INSERT INTO heist_audit_records (${RECORD_COLUMNS.join(', ')}) VALUES (${RECORD_COLUMNS.map((c) => `@${c}`).join(', ')})`,
);
// Positional parameters: binding named ones costs a property lookup per column per row.
const insertRow = db.prepare(
  `INSERT INTO heist_audit_rows (record_id, ${ROW_COLUMNS.join(', ')}) VALUES (?${', ?'.repeat(ROW_COLUMNS.length)})`,
);
const begin = db.prepare('BEGIN IMMEDIATE');
const commit = db.prepare('COMMIT');
const rollback = db.prepare('ROLLBACK');

/** busy_timeout, set only when it changes (a pragma is compiled on every call). */
let busyTimeout = init.lockWaitMs;
function setBusyTimeout(ms: number): void {
  if (ms === busyTimeout) return;
  db.pragma(`busy_timeout = ${ms}`);
  busyTimeout = ms;
}
const selectHead = db.prepare('SELECT seq, hash FROM heist_audit_records WHERE log = ? ORDER BY seq DESC LIMIT 1');
const selectAnchor = db.prepare('SELECT seq, prev_hash FROM heist_audit_anchors WHERE log = ?');
const selectRows = db.prepare('SELECT * FROM heist_audit_rows WHERE record_id = ? ORDER BY pos');
const selectPage = db.prepare('SELECT * FROM heist_audit_records WHERE log = ? AND seq > ? ORDER BY seq LIMIT ?');

function anchorOf(log: string): ChainAnchor {
  const a = selectAnchor.get(log) as { seq: number; prev_hash: Buffer } | undefined;
  return a ? { seq: a.seq, prevHash: a.prev_hash.toString('hex') } : START;
}

/** Where the log's next record goes: after its last record, else at its anchor. */
function headOf(log: string): ChainAnchor {
  const h = selectHead.get(log) as { seq: number; hash: Buffer } | undefined;
  return h ? { seq: h.seq + 1, prevHash: h.hash.toString('hex') } : anchorOf(log);
}

type StoredColumns = RecordColumns & { id: number };

function decode(c: StoredColumns): StoredAuditRecord {
  return recordFromColumns(c, selectRows.all(c.id) as RowColumns[]);
}

// --- appends: queued, then group-committed -----------------------------------------------------

interface PendingAppend {
  readonly id: number;
  readonly records: readonly AuditRecord[];
  /** Encoded before the lock is taken, so the transaction only hashes and inserts. */
  readonly rows: readonly RowColumns[][];
  readonly deadline: number;
}

const queue: PendingAppend[] = [];
let flushTimer: NodeJS.Immediate | undefined;

function scheduleFlush(): void {
  flushTimer ??= setImmediate(flush);
}

function expire(now: number): void {
  for (let i = queue.length - 1; i >= 0; i--) {
    if (queue[i].deadline <= now) {
      fail(queue[i].id, 'HEIST_ERR_AUDIT_UNAVAILABLE', 'the audit log could not commit in time');
      queue.splice(i, 1);
    }
  }
}

function flush(): void {
  flushTimer = undefined;
  expire(Date.now());
  if (queue.length === 0) {
    settleIdle();
    return;
  }
  let earliest = Number.POSITIVE_INFINITY;
  for (const p of queue) earliest = Math.min(earliest, p.deadline);
  setBusyTimeout(Math.max(1, Math.min(LOCK_SLICE_MS, earliest - Date.now())));
  try {
    begin.run();
  } catch (e) {
    if (isBusy(e)) scheduleFlush();
    else {
      for (const p of queue.splice(0)) fail(p.id, 'HEIST_ERR_AUDIT_UNAVAILABLE', commitError(e));
      settleIdle();
    }
    return;
  }
  expire(Date.now());
  const batch = queue.splice(0);
  try {
    let { seq, prevHash } = headOf(init.log);
    for (const p of batch) {
      p.records.forEach((r, i) => {
        const at = { log: init.log, seq, prevHash };
        const hash = recordHash(r, at, init.hmacKey);
        const id = insertRecord.run(recordColumns(r, { ...at, hash })).lastInsertRowid;
        for (const row of p.rows[i]) insertRow.run(id, ...ROW_COLUMNS.map((c) => row[c]));
        seq++;
        prevHash = hash;
      });
    }
    commit.run();
    send({ ids: batch.map((p) => p.id), ok: true });
  } catch (e) {
    if (db.inTransaction) rollback.run();
    for (const p of batch) fail(p.id, 'HEIST_ERR_AUDIT_UNAVAILABLE', commitError(e));
  }
  if (queue.length > 0) scheduleFlush();
  else settleIdle();
}

const commitError = (e: unknown): string =>
  `cannot commit to the SQLite audit log ${init.path}: ${(e as Error).message}`;

function enqueue(id: number, records: AuditRecord[], deadline: number): void {
  try {
    queue.push({ id, records, rows: records.map((r) => rowColumns(r.rows)), deadline });
    scheduleFlush();
  } catch (e) {
    reply(id, e);
  }
}

// --- reads -------------------------------------------------------------------------------------

function count(filter: AuditFilter, rows: boolean): number {
  const d = sqliteDialect();
  const sql = rows
    ? `SELECT COUNT(*) AS n FROM heist_audit_rows w JOIN heist_audit_records r ON r.id = w.record_id${whereSql(filter, d)}`
    : `SELECT COUNT(*) AS n FROM heist_audit_records r${whereSql(filter, d)}`;
  return (db.prepare(sql).get(...d.params) as { n: number }).n;
}

function query(filter: AuditFilter): StoredAuditRecord[] {
  const d = sqliteDialect();
  const sql = `SELECT * FROM heist_audit_records r${whereSql(filter, d)} ORDER BY r.log, r.seq${limitSql(filter)}`;
  return (db.prepare(sql).all(...d.params) as StoredColumns[]).map(decode);
}

/** Lets queued messages (appends above all) run between pages of a long walk. */
const yieldToMessages = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

const source: ChainSource = {
  async logs(only) {
    const all = db
      .prepare('SELECT log FROM heist_audit_records UNION SELECT log FROM heist_audit_anchors ORDER BY 1')
      .pluck()
      .all() as string[];
    return only === undefined ? all : all.filter((l) => l === only);
  },
  async anchor(log) {
    return anchorOf(log);
  },
  async page(log, afterSeq, limit) {
    await yieldToMessages();
    return (selectPage.all(log, afterSeq, limit) as StoredColumns[]).map((c): PageItem => {
      const hash = Buffer.from(c.hash).toString('hex');
      try {
        return { seq: c.seq, hash, record: decode(c) };
      } catch (e) {
        return { seq: c.seq, hash, error: (e as Error).message };
      }
    });
  },
};

async function prune(before: number): Promise<number> {
  let pruned = 0;
  for (const log of await source.logs()) {
    const walked = await walkLog(source, log, init.hmacKey, true);
    if (walked.firstBad)
      throw new HeistError(
        'HEIST_ERR_AUDIT_TAMPERED',
        `will not prune log "${log}": seq ${walked.firstBad.seq} ${walked.firstBad.reason} (run heist audit verify)`,
      );
    setBusyTimeout(init.lockWaitMs);
    pruned += db
      .transaction(() => {
        const keep = db
          .prepare('SELECT MIN(seq) FROM heist_audit_records WHERE log = ? AND at >= ?')
          .pluck()
          .get(log, before) as number | null;
        const last = (keep ?? headOf(log).seq) - 1;
        const lastGone = db
          .prepare('SELECT seq, hash FROM heist_audit_records WHERE log = ? AND seq <= ? ORDER BY seq DESC LIMIT 1')
          .get(log, last) as { seq: number; hash: Buffer } | undefined;
        if (!lastGone) return 0;
        db.prepare(
          'DELETE FROM heist_audit_rows WHERE record_id IN (SELECT id FROM heist_audit_records WHERE log = ? AND seq <= ?)',
        ).run(log, last);
        const gone = db.prepare('DELETE FROM heist_audit_records WHERE log = ? AND seq <= ?').run(log, last).changes;
        db.prepare(
          'INSERT INTO heist_audit_anchors (log, seq, prev_hash) VALUES (?, ?, ?) ON CONFLICT (log) DO UPDATE SET seq = excluded.seq, prev_hash = excluded.prev_hash',
        ).run(log, lastGone.seq + 1, lastGone.hash);
        return gone;
      })
      .immediate();
  }
  return pruned;
}

// --- the message loop --------------------------------------------------------------------------

/** Async operations (verify, prune) still running: close waits for them and for the queue. */
let running = 0;
let closeId: number | undefined;

function reply(id: number, e: unknown): void {
  if (isHeistError(e)) fail(id, e.code, e.message);
  else if (isBusy(e)) fail(id, 'HEIST_ERR_AUDIT_UNAVAILABLE', `the SQLite audit log ${init.path} is locked`);
  else fail(id, 'HEIST_ERR_INTERNAL', `SQLite audit log ${init.path}: ${(e as Error).message}`);
}

function settleIdle(): void {
  if (closeId === undefined || running > 0 || queue.length > 0 || flushTimer) return;
  db.close();
  send({ id: closeId, ok: true });
  port.close();
}

async function runAsync(id: number, op: () => Promise<unknown>): Promise<void> {
  running++;
  try {
    send({ id, ok: true, value: await op() });
  } catch (e) {
    reply(id, e);
  } finally {
    running--;
    settleIdle();
  }
}

port.on('message', (m: SqliteRequest) => {
  if (m.op === 'crash') process.exit(70);
  if (closeId !== undefined && m.op !== 'close')
    return fail(m.id, 'HEIST_ERR_AUDIT_UNAVAILABLE', 'the audit log is closing');
  try {
    switch (m.op) {
      case 'append':
        return enqueue(m.id, fromWire(m.records), m.deadline);
      case 'count':
        return send({ id: m.id, ok: true, value: count(m.filter, false) });
      case 'countRows':
        return send({ id: m.id, ok: true, value: count(m.filter, true) });
      case 'query':
        return send({ id: m.id, ok: true, value: query(m.filter) });
      case 'verify':
        return void runAsync(m.id, () => verifyChains(source, init.hmacKey, m.log));
      case 'prune':
        return void runAsync(m.id, () => prune(m.before));
      case 'close':
        closeId = m.id;
        return settleIdle();
    }
  } catch (e) {
    reply(m.id, e);
  }
});

send({ id: 0, ok: true });
