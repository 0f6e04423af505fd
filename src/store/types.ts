/**
 * @file The query audit log: one entry per input row the gateway answered or refused. Stores are
 * chosen by URL scheme (index.ts); SQLite is the embedded default. Add a backend: a file named after
 * its scheme exporting an AuditStoreEntry, and one line in index.ts; test/conformance/audit-stores
 * then tests it.
 */
import type { RegistryEntry } from '../core/registry.js';
export interface AuditEntry {
  /** Epoch ms. */
  readonly at: number;
  readonly requestId: string;
  readonly clientId: string;
  readonly model: string;
  /** Position of the row in its request's batch. */
  readonly rowIndex: number;
  readonly inputHash: string;
  readonly input: Float32Array;
  /** 'served', or the HEIST_ERR_* code of the refusal. */
  readonly outcome: string;
  readonly label?: number;
  /** Served probabilities (absent when refused or label-only). */
  readonly scores?: Float32Array;
  readonly flags?: readonly string[];
}

export interface AuditFilter {
  readonly clientId?: string;
  readonly model?: string;
  readonly since?: number;
  readonly limit?: number;
}

export interface AuditStore {
  readonly url: string;
  /** Appends all entries atomically (one transaction) and durably before returning. */
  append(entries: readonly AuditEntry[]): void;
  count(filter?: AuditFilter): number;
  query(filter?: AuditFilter): AuditEntry[];
  close(): void;
}

/** What an audit-store factory is given: the part of the URL after "scheme://". */
export interface AuditStoreOptions {
  readonly location: string;
}

export type AuditStoreEntry = RegistryEntry<AuditStoreOptions, undefined, AuditStore>;
