/**
 * @file The audit-store registry, by URL scheme: sqlite://path/to/file.db (or sqlite://:memory:),
 * postgres://user@host:port/db (postgresql:// too). openAuditStore is async: it resolves once the
 * store's tables are ready.
 */
import { HeistError } from '../core/errors.js';
import { Registry } from '../core/registry.js';
import { postgres } from './postgres.js';
import { sqlite } from './sqlite.js';
import type { AuditStore, AuditStoreEntry, AuditStoreOptions } from './types.js';

export type {
  AuditFilter,
  AuditOutput,
  AuditRecord,
  AuditRow,
  AuditStore,
  AuditStoreEntry,
  AuditStoreOptions,
  StoredAuditRecord,
  VerifyReport,
} from './types.js';

export const auditStores = new Registry<undefined, Promise<AuditStore>, AuditStoreEntry>('audit log scheme', [
  sqlite,
  postgres,
]);

/** Other spellings of a registered scheme. */
const schemeAliases: Readonly<Record<string, string>> = { postgresql: 'postgres' };

/** Opens the store a URL names; `options` are everything but the location (log, commitTimeoutMs, hmacKey). */
export function openAuditStore(url: string, options: Omit<AuditStoreOptions, 'location'> = {}): Promise<AuditStore> {
  const m = /^([a-z][a-z0-9+.-]*):\/\/(.+)$/i.exec(url);
  if (!m)
    return Promise.reject(
      new HeistError(
        'HEIST_ERR_BAD_CONFIG',
        `audit log URL "${url.replace(/:[^:@/]*@/, ':***@')}" must look like ${auditStores.names()[0]}://path/to/audit.db or postgres://user@host/db`,
      ),
    );
  const scheme = m[1].toLowerCase();
  try {
    return auditStores.create(schemeAliases[scheme] ?? scheme, { location: m[2], ...options }, undefined);
  } catch (e) {
    return Promise.reject(e);
  }
}
