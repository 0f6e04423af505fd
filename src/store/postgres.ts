/**
 * @file The PostgreSQL audit store (postgres://user@host:port/db, or postgresql://), for several
 * gateway replicas sharing one database: each appends to its own log. Same tables, columns and
 * chain encoding as SQLite (audit-codec.ts, audit-chain.ts). Appends are group-committed: while one
 * transaction is in flight the next ones queue, and the next transaction takes them all. Every
 * transaction takes a transaction-level advisory lock on its log and reads the log's head inside
 * it, and (log, seq) is unique, so even two processes given the same log name extend one chain,
 * never fork it. The password comes from the URL or PGPASSWORD and never appears in `url` or errors.
 */
import { withoutPassword } from './url.js';
import pg from 'pg';
import { HeistError } from '../core/errors.js';
import { type ChainAnchor, START, checkRecord, recordHash } from './audit-chain.js';
import {
  RECORD_COLUMNS,
  ROW_COLUMNS,
  type RecordColumns,
  type RowColumns,
  recordColumns,
  recordFromColumns,
  rowColumns,
} from './audit-codec.js';
import { limitSql, postgresDialect, whereSql } from './audit-sql.js';
import { type ChainSource, type PageItem, verifyChains, walkLog } from './audit-verify.js';
import { DEFAULT_COMMIT_TIMEOUT_MS, DEFAULT_LOG, storeOptionsSchema } from './options.js';
import type { AuditRecord, AuditStore, AuditStoreEntry, AuditStoreOptions, StoredAuditRecord } from './types.js';

/** Advisory lock class ids ("heis", "heit"): one lock per log (keyed by hashtext(log)), one for the DDL. */
const LOG_LOCK = 0x68656973;
const DDL_LOCK = 0x68656974;

const SCHEMA = `
CREATE TABLE IF NOT EXISTS heist_audit_records (
  id bigserial PRIMARY KEY,
  log text COLLATE "C" NOT NULL,
  seq bigint NOT NULL,
  at bigint NOT NULL,
  request_id text NOT NULL,
  client_id text NOT NULL,
  tier text,
  ip text NOT NULL,
  route text NOT NULL,
  model text,
  status integer NOT NULL,
  outcome text NOT NULL,
  latency_ms double precision NOT NULL,
  flags text,
  prev_hash bytea NOT NULL,
  hash bytea NOT NULL,
  UNIQUE (log, seq)
);
CREATE INDEX IF NOT EXISTS heist_audit_records_at ON heist_audit_records (at);
CREATE INDEX IF NOT EXISTS heist_audit_records_client ON heist_audit_records (client_id, at);
CREATE INDEX IF NOT EXISTS heist_audit_records_model ON heist_audit_records (model, at);
CREATE TABLE IF NOT EXISTS heist_audit_rows (
  record_id bigint NOT NULL,
  pos integer NOT NULL,
  idx integer NOT NULL,
  input_hash bytea NOT NULL,
  input bytea,
  raw_label integer,
  raw_scores bytea,
  served_label integer,
  served_scores bytea,
  PRIMARY KEY (record_id, pos)
);
CREATE TABLE IF NOT EXISTS heist_audit_anchors (
  log text COLLATE "C" PRIMARY KEY,
  seq bigint NOT NULL,
  prev_hash bytea NOT NULL
);
`;

const RECORD_TYPES: Record<(typeof RECORD_COLUMNS)[number], string> = {
  log: 'text',
  seq: 'bigint',
  at: 'bigint',
  request_id: 'text',
  client_id: 'text',
  tier: 'text',
  ip: 'text',
  route: 'text',
  model: 'text',
  status: 'integer',
  outcome: 'text',
  latency_ms: 'double precision',
  flags: 'text',
  prev_hash: 'bytea',
  hash: 'bytea',
};
const ROW_TYPES: Record<(typeof ROW_COLUMNS)[number], string> = {
  pos: 'integer',
  idx: 'integer',
  input_hash: 'bytea',
  input: 'bytea',
  raw_label: 'integer',
  raw_scores: 'bytea',
  served_label: 'integer',
  served_scores: 'bytea',
};

/** One INSERT for many rows: a parameter array per column, zipped by unnest. */
function unnestInsert(table: string, columns: readonly string[], types: readonly string[], returning = ''): string {
  const arrays = columns.map((_, i) => `$${i + 1}::${types[i]}[]`).join(', ');
  return `INSERT INTO ${table} (${columns.join(', ')}) SELECT * FROM unnest(${arrays})${returning}`;
}

const INSERT_RECORDS = unnestInsert(
  'heist_audit_records',
  RECORD_COLUMNS,
  RECORD_COLUMNS.map((c) => RECORD_TYPES[c]),
  ' RETURNING id, seq',
);
const INSERT_ROWS = unnestInsert(
  'heist_audit_rows',
  ['record_id', ...ROW_COLUMNS],
  ['bigint', ...ROW_COLUMNS.map((c) => ROW_TYPES[c])],
);

interface PendingAppend {
  readonly records: readonly AuditRecord[];
  /** Encoded when appended (PackBits, a few µs a row: audit-codec.ts), before the lock is taken. */
  readonly rows: RowColumns[][];
  readonly deadline: number;
  resolve(): void;
  reject(e: Error): void;
  settled: boolean;
}

type StoredColumns = RecordColumns & { id: string };

export async function postgresAuditStore(
  url: string,
  options: Omit<AuditStoreOptions, 'location'> = {},
): Promise<AuditStore> {
  const log = options.log ?? DEFAULT_LOG;
  const commitTimeoutMs = options.commitTimeoutMs ?? DEFAULT_COMMIT_TIMEOUT_MS;
  const key = options.hmacKey;
  const safeUrl = withoutPassword(url);
  const unavailable = (what: string, e?: unknown): HeistError =>
    new HeistError(
      'HEIST_ERR_AUDIT_UNAVAILABLE',
      `${what} (PostgreSQL audit log ${safeUrl})${e ? `: ${(e as Error).message}` : ''}`,
    );

  const pool = new pg.Pool({
    connectionString: url,
    max: 4,
    connectionTimeoutMillis: commitTimeoutMs,
    idleTimeoutMillis: 10_000,
    allowExitOnIdle: true,
    // A peer that vanished without closing is noticed by TCP keepalive, not only by the next write.
    keepAlive: true,
  });
  // An idle client losing its connection must not crash the process; the next query reconnects.
  pool.on('error', () => {});

  /**
   * Runs `work` in a transaction. With `timeoutMs`, the server gives up waiting for locks and
   * statements after that long. On any failure the connection is closed, not reused: the server
   * rolls back, and nothing half-done can reach the next user.
   */
  async function inTransaction<T>(work: (c: pg.PoolClient) => Promise<T>, timeoutMs?: number): Promise<T> {
    const c = await pool.connect();
    try {
      await c.query('BEGIN');
      if (timeoutMs !== undefined)
        await c.query("SELECT set_config('lock_timeout', $1, true), set_config('statement_timeout', $1, true)", [
          `${timeoutMs}ms`,
        ]);
      const result = await work(c);
      await c.query('COMMIT');
      c.release();
      return result;
    } catch (e) {
      c.release(e instanceof Error ? e : new Error(String(e)));
      throw e;
    }
  }

  let tables: boolean;
  try {
    tables = await inTransaction(async (c) => {
      if (options.createIfMissing === false)
        return (await c.query("SELECT to_regclass('heist_audit_records') IS NOT NULL AS t")).rows[0].t as boolean;
      await c.query('SELECT pg_advisory_xact_lock($1, 0)', [DDL_LOCK]);
      await c.query(SCHEMA);
      return true;
    });
  } catch (e) {
    await pool.end().catch(() => {});
    throw unavailable('cannot open the audit log', e);
  }
  if (!tables) {
    await pool.end().catch(() => {});
    throw new HeistError('HEIST_ERR_BAD_CONFIG', `the PostgreSQL database ${safeUrl} holds no Heist audit log`);
  }

  async function anchorOf(c: pg.ClientBase | pg.Pool, name: string): Promise<ChainAnchor> {
    const a = await c.query('SELECT seq, prev_hash FROM heist_audit_anchors WHERE log = $1', [name]);
    return a.rows[0] ? { seq: Number(a.rows[0].seq), prevHash: a.rows[0].prev_hash.toString('hex') } : START;
  }

  async function headOf(c: pg.ClientBase, name: string): Promise<ChainAnchor> {
    const h = await c.query('SELECT seq, hash FROM heist_audit_records WHERE log = $1 ORDER BY seq DESC LIMIT 1', [
      name,
    ]);
    return h.rows[0] ? { seq: Number(h.rows[0].seq) + 1, prevHash: h.rows[0].hash.toString('hex') } : anchorOf(c, name);
  }

  const lockLog = (c: pg.ClientBase, name: string) =>
    c.query({ text: 'SELECT pg_advisory_xact_lock($1, hashtext($2))', values: [LOG_LOCK, name] });

  // --- appends ----------------------------------------------------------------------------------
  const queue: PendingAppend[] = [];
  let flushing = false;
  let closed = false;
  let idle: (() => void) | undefined;

  const settle = (p: PendingAppend, e?: Error): void => {
    if (p.settled) return;
    p.settled = true;
    if (e) p.reject(e);
    else p.resolve();
  };

  async function commit(batch: PendingAppend[]): Promise<void> {
    const rows = batch.map((p) => p.rows);
    await inTransaction(async (c) => {
      await lockLog(c, log);
      // The lock may have taken a while: what the caller has given up on is not written.
      const now = Date.now();
      const live = batch.flatMap((p, i) => (p.deadline > now && !p.settled ? [i] : []));
      if (live.length === 0) return;
      let { seq, prevHash } = await headOf(c, log);
      const records: RecordColumns[] = [];
      const recordRows: RowColumns[][] = [];
      for (const i of live) {
        batch[i].records.forEach((r, j) => {
          const at = { log, seq, prevHash };
          const hash = recordHash(r, at, key);
          records.push(recordColumns(r, { ...at, hash }));
          recordRows.push(rows[i][j]);
          seq++;
          prevHash = hash;
        });
      }
      const inserted = await c.query({
        text: INSERT_RECORDS,
        values: RECORD_COLUMNS.map((col) => records.map((r) => r[col])),
      });
      const idOfSeq = new Map<number, string>(inserted.rows.map((r) => [Number(r.seq), r.id as string]));
      const flat = records.flatMap((r, i) => recordRows[i].map((row) => ({ record_id: idOfSeq.get(r.seq), ...row })));
      if (flat.length > 0)
        await c.query({
          text: INSERT_ROWS,
          values: ['record_id', ...ROW_COLUMNS].map((col) => flat.map((row) => row[col as keyof typeof row])),
        });
    }, commitTimeoutMs);
  }

  async function flush(): Promise<void> {
    if (flushing) return;
    flushing = true;
    while (queue.length > 0) {
      const batch = queue.splice(0);
      try {
        await commit(batch);
        for (const p of batch) settle(p);
      } catch (e) {
        for (const p of batch) settle(p, unavailable('cannot commit the audit records', e));
      }
    }
    flushing = false;
    idle?.();
  }

  function append(records: readonly AuditRecord[]): Promise<void> {
    if (closed) return Promise.reject(unavailable('the audit log is closed'));
    if (records.length === 0) return Promise.resolve();
    try {
      for (const r of records) checkRecord(r);
    } catch (e) {
      return Promise.reject(e);
    }
    return new Promise<void>((resolve, reject) => {
      const p: PendingAppend = {
        records,
        rows: records.map((r) => rowColumns(r.rows)),
        deadline: Date.now() + commitTimeoutMs,
        resolve,
        reject,
        settled: false,
      };
      const timer = setTimeout(
        () => settle(p, unavailable(`the audit records were not durable within ${commitTimeoutMs} ms`)),
        commitTimeoutMs,
      );
      const done = () => clearTimeout(timer);
      p.resolve = () => {
        done();
        resolve();
      };
      p.reject = (e) => {
        done();
        reject(e);
      };
      queue.push(p);
      void flush();
    });
  }

  // --- reads, verify, prune ---------------------------------------------------------------------
  async function rowsOf(ids: readonly string[]): Promise<Map<string, RowColumns[]>> {
    const byRecord = new Map<string, RowColumns[]>(ids.map((id) => [id, []]));
    if (ids.length === 0) return byRecord;
    const r = await pool.query(
      'SELECT * FROM heist_audit_rows WHERE record_id = ANY($1::bigint[]) ORDER BY record_id, pos',
      [ids],
    );
    for (const row of r.rows) byRecord.get(String(row.record_id))?.push(row as RowColumns);
    return byRecord;
  }

  async function read(sql: string, params: unknown[]): Promise<{ c: StoredColumns; rows: RowColumns[] }[]> {
    const records = (await pool.query(sql, params)).rows as StoredColumns[];
    const rows = await rowsOf(records.map((r) => String(r.id)));
    return records.map((c) => ({ c, rows: rows.get(String(c.id)) ?? [] }));
  }

  const source: ChainSource = {
    async logs(only) {
      const r = await pool.query(
        'SELECT log FROM heist_audit_records UNION SELECT log FROM heist_audit_anchors ORDER BY 1',
      );
      const all = r.rows.map((x) => x.log as string);
      return only === undefined ? all : all.filter((l) => l === only);
    },
    anchor: (name) => anchorOf(pool, name),
    async page(name, afterSeq, limit) {
      const got = await read('SELECT * FROM heist_audit_records WHERE log = $1 AND seq > $2 ORDER BY seq LIMIT $3', [
        name,
        afterSeq,
        limit,
      ]);
      return got.map(({ c, rows }): PageItem => {
        const seq = Number(c.seq);
        const hash = Buffer.from(c.hash).toString('hex');
        try {
          return { seq, hash, record: recordFromColumns(c, rows) };
        } catch (e) {
          return { seq, hash, error: (e as Error).message };
        }
      });
    },
  };

  async function count(filter: Parameters<AuditStore['count']>[0] = {}, rows = false): Promise<number> {
    const d = postgresDialect();
    const sql = rows
      ? `SELECT COUNT(*) AS n FROM heist_audit_rows w JOIN heist_audit_records r ON r.id = w.record_id${whereSql(filter, d)}`
      : `SELECT COUNT(*) AS n FROM heist_audit_records r${whereSql(filter, d)}`;
    return Number((await pool.query(sql, d.params)).rows[0].n);
  }

  async function prune(before: number): Promise<number> {
    let pruned = 0;
    for (const name of await source.logs()) {
      const walked = await walkLog(source, name, key, true);
      if (walked.firstBad)
        throw new HeistError(
          'HEIST_ERR_AUDIT_TAMPERED',
          `will not prune log "${name}": seq ${walked.firstBad.seq} ${walked.firstBad.reason} (run heist audit verify)`,
        );
      pruned += await inTransaction(async (c) => {
        await lockLog(c, name);
        const keep = (
          await c.query('SELECT MIN(seq) AS s FROM heist_audit_records WHERE log = $1 AND at >= $2', [name, before])
        ).rows[0].s as string | null;
        const last = (keep !== null ? Number(keep) : (await headOf(c, name)).seq) - 1;
        const lastGone = (
          await c.query(
            'SELECT seq, hash FROM heist_audit_records WHERE log = $1 AND seq <= $2 ORDER BY seq DESC LIMIT 1',
            [name, last],
          )
        ).rows[0] as { seq: string; hash: Buffer } | undefined;
        if (!lastGone) return 0;
        await c.query(
          'DELETE FROM heist_audit_rows WHERE record_id IN (SELECT id FROM heist_audit_records WHERE log = $1 AND seq <= $2)',
          [name, last],
        );
        const gone = await c.query('DELETE FROM heist_audit_records WHERE log = $1 AND seq <= $2', [name, last]);
        await c.query(
          'INSERT INTO heist_audit_anchors (log, seq, prev_hash) VALUES ($1, $2, $3) ON CONFLICT (log) DO UPDATE SET seq = excluded.seq, prev_hash = excluded.prev_hash',
          [name, Number(lastGone.seq) + 1, lastGone.hash],
        );
        return gone.rowCount ?? 0;
      });
    }
    return pruned;
  }

  /** Turns driver failures into HEIST_ERR_AUDIT_UNAVAILABLE (HeistErrors pass through). */
  const guard =
    <A extends unknown[], T>(what: string, f: (...a: A) => Promise<T>) =>
    async (...a: A): Promise<T> => {
      if (closed) throw unavailable('the audit log is closed');
      try {
        return await f(...a);
      } catch (e) {
        throw e instanceof HeistError ? e : unavailable(what, e);
      }
    };

  return {
    url: safeUrl,
    log,
    append,
    count: guard('cannot count the audit records', (filter) => count(filter)),
    countRows: guard('cannot count the audit rows', (filter) => count(filter, true)),
    query: guard('cannot read the audit records', async (filter = {}): Promise<StoredAuditRecord[]> => {
      const d = postgresDialect();
      const sql = `SELECT * FROM heist_audit_records r${whereSql(filter, d)} ORDER BY r.log, r.seq${limitSql(filter)}`;
      return (await read(sql, d.params)).map(({ c, rows }) => recordFromColumns(c, rows));
    }),
    verify: guard('cannot verify the audit log', (o: { readonly log?: string } = {}) =>
      verifyChains(source, key, o.log),
    ),
    prune: guard('cannot prune the audit log', prune),
    async close() {
      if (closed) return;
      closed = true;
      if (flushing) await new Promise<void>((resolve) => (idle = resolve));
      await pool.end();
    },
  };
}

export const postgres: AuditStoreEntry = {
  name: 'postgres',
  summary:
    'shared PostgreSQL database (postgres://user@host:port/db, or postgresql://; password from the URL or PGPASSWORD), one chain per log, group commit',
  options: storeOptionsSchema,
  create: ({ location, ...options }) => postgresAuditStore(`postgres://${location}`, options),
};
