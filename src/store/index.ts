/** @file Audit stores by URL scheme: sqlite://path/to/file.db (or sqlite://:memory:). */
import { HeistError } from '../core/errors.js';
import { sqliteAuditStore } from './sqlite.js';
import type { AuditStore } from './types.js';

export type { AuditEntry, AuditFilter, AuditStore } from './types.js';

export const auditStores = { sqlite: (rest: string): AuditStore => sqliteAuditStore(rest) } as const;

export function openAuditStore(url: string): AuditStore {
  const m = /^([a-z][a-z0-9+.-]*):\/\/(.+)$/i.exec(url);
  if (!m) throw new HeistError('HEIST_ERR_BAD_CONFIG', `audit log URL "${url}" must look like sqlite://path/to/audit.db`);
  const scheme = m[1].toLowerCase();
  if (!(scheme in auditStores)) {
    throw new HeistError('HEIST_ERR_BAD_CONFIG', `unknown audit log scheme "${scheme}"; known: ${Object.keys(auditStores).join(', ')}`);
  }
  return auditStores[scheme as keyof typeof auditStores](m[2]);
}
