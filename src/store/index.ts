/** @file The audit-store registry, by URL scheme: sqlite://path/to/file.db (or sqlite://:memory:). */
import { HeistError } from '../core/errors.js';
import { Registry } from '../core/registry.js';
import { sqlite } from './sqlite.js';
import type { AuditStore, AuditStoreEntry } from './types.js';

export type { AuditEntry, AuditFilter, AuditStore, AuditStoreEntry, AuditStoreOptions } from './types.js';

export const auditStores = new Registry<undefined, AuditStore, AuditStoreEntry>('audit log scheme', [sqlite]);

export function openAuditStore(url: string): AuditStore {
  const m = /^([a-z][a-z0-9+.-]*):\/\/(.+)$/i.exec(url);
  if (!m)
    throw new HeistError(
      'HEIST_ERR_BAD_CONFIG',
      `audit log URL "${url}" must look like ${auditStores.names()[0]}://path/to/audit.db`,
    );
  return auditStores.create(m[1].toLowerCase(), { location: m[2] }, undefined);
}
