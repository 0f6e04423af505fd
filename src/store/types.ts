/**
 * @file The gateway's audit log: one record per request (served or refused), holding one row per
 * input row. Records are hash-chained per log, so `heist audit verify` detects any changed,
 * removed, inserted or reordered record. Stores are chosen by URL scheme (index.ts): SQLite is the
 * embedded default, PostgreSQL the shared one. Add a backend: a file named after its scheme
 * exporting an AuditStoreEntry, and one line in index.ts; test/conformance/audit-stores then tests it.
 */
import type { RegistryEntry } from '../core/registry.js';

/** A model answer for one row, as the model gave it (raw) or as the client got it (served). */
export interface AuditOutput {
  readonly label: number;
  /** Probabilities or logits; absent for label-only answers. */
  readonly scores?: Float32Array;
}

export interface AuditRow {
  /** Position of the row in its request's batch. */
  readonly index: number;
  /** hashRow() of the float32 input. */
  readonly inputHash: string;
  /** The input itself; absent when the log is configured to keep hashes only. */
  readonly input?: Float32Array;
  /** The model's own output; absent when the request was refused before inference. */
  readonly raw?: AuditOutput;
  /** What the client got; absent when refused. */
  readonly served?: AuditOutput;
}

/** What the gateway hands the store for one request. */
export interface AuditRecord {
  /** Epoch ms the request arrived. */
  readonly at: number;
  readonly requestId: string;
  /** The verified client: `key:<key id>`, or `ip:<address>` when anonymous access is on; `unverified` otherwise. */
  readonly clientId: string;
  readonly tier?: string;
  readonly ip: string;
  /** e.g. "POST /v1/models/:name/predict". */
  readonly route: string;
  readonly model?: string;
  /** HTTP status of the reply. */
  readonly status: number;
  /** 'served', or the HEIST_ERR_* code of the refusal. */
  readonly outcome: string;
  readonly latencyMs: number;
  /** Defense and detector flags, "stage:reason". */
  readonly flags: readonly string[];
  readonly rows: readonly AuditRow[];
}

/** A record as stored: its place in its log's hash chain. */
export interface StoredAuditRecord extends AuditRecord {
  /** The chain this record belongs to (one per gateway process or configured log name). */
  readonly log: string;
  /** 1, 2, 3, ... within its log. */
  readonly seq: number;
  /** Hex SHA-256; the first record's prevHash is 64 zeros. */
  readonly prevHash: string;
  readonly hash: string;
}

export interface AuditFilter {
  readonly clientId?: string;
  readonly model?: string;
  /** Epoch ms, inclusive. */
  readonly since?: number;
  readonly until?: number;
  readonly log?: string;
  /** Only records after this (log, seq) position in (log, seq) order: the cursor for paging. */
  readonly after?: { readonly log: string; readonly seq: number };
  /** Most records returned by query (count and countRows ignore it). */
  readonly limit?: number;
}

export interface VerifyReport {
  readonly ok: boolean;
  /** Records checked, over all logs. */
  readonly records: number;
  readonly logs: readonly {
    readonly log: string;
    readonly records: number;
    /** The last record's hash (the anchor's when every record was pruned): anchor it elsewhere. */
    readonly head: string;
    /** The seq the chain starts at: 1, or the first record kept by the last prune. */
    readonly fromSeq: number;
  }[];
  /** The first record that fails, in (log, seq) order. */
  readonly firstBad?: { readonly log: string; readonly seq: number; readonly reason: string };
}

export interface AuditStore {
  /** The URL it was opened with, minus any password. */
  readonly url: string;
  /** The chain this process appends to. */
  readonly log: string;
  /**
   * Appends the records, chained in order, and resolves once they are durable (committed and
   * synced). Concurrent calls are group-committed; the event loop never blocks on the disk.
   * Rejects when the store cannot make them durable.
   */
  append(records: readonly AuditRecord[]): Promise<void>;
  /** Requests (records) matching the filter. */
  count(filter?: AuditFilter): Promise<number>;
  /** Rows over the matching records. */
  countRows(filter?: AuditFilter): Promise<number>;
  /** Matching records in (log, seq) order, rows included. */
  query(filter?: AuditFilter): Promise<StoredAuditRecord[]>;
  /** Walks every chain (or only `log`'s) from its start (its anchor, after a prune). */
  verify(options?: { readonly log?: string }): Promise<VerifyReport>;
  /**
   * Deletes whole records older than `before` (epoch ms), re-anchoring each chain; returns how many.
   * Per log it deletes the longest run of oldest records that are all older than `before`, so a
   * chain never gets a hole; it refuses (HEIST_ERR_AUDIT_TAMPERED) to prune a log that does not verify.
   */
  prune(before: number): Promise<number>;
  close(): Promise<void>;
}

/** What an audit-store factory is given. */
export interface AuditStoreOptions {
  /** The part of the URL after "scheme://". */
  readonly location: string;
  /** The chain name this process appends to (default: "main"). */
  readonly log?: string;
  /** Most ms an append may wait for durability before it rejects (default 5000). */
  readonly commitTimeoutMs?: number;
  /** Chain hashes are HMAC-SHA256 under this key instead of plain SHA-256 (same key to verify). */
  readonly hmacKey?: Uint8Array;
  /**
   * false: opening fails with HEIST_ERR_BAD_CONFIG unless the log's tables already exist, and
   * creates nothing (the audit CLI: a mistyped path must not verify as an empty log). Default true.
   */
  readonly createIfMissing?: boolean;
}

/** Opening is asynchronous: the store has its tables ready (and its worker running) when it resolves. */
export type AuditStoreEntry = RegistryEntry<AuditStoreOptions, undefined, Promise<AuditStore>>;
