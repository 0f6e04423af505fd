/**
 * @file `heist audit verify | export | prune` as functions. Each opens the audit log named by a URL
 * without creating anything (a mistyped path is HEIST_ERR_BAD_CONFIG, never an empty log that
 * verifies), reads the HMAC key from the environment variable it is told, and closes the store.
 */
import { once } from 'node:events';
import type { Writable } from 'node:stream';
import { HeistError } from '../core/errors.js';
import { parseHmacKey } from '../store/audit-chain.js';
import { type ExportFormat, exportAudit } from '../store/audit-export.js';
import { openAuditStore } from '../store/index.js';
import type { AuditStore, VerifyReport } from '../store/types.js';

export interface AuditTarget {
  /** The audit log URL: sqlite://path or postgres://user@host/db (password: URL or PGPASSWORD). */
  readonly audit: string;
  /** The environment variable holding the HMAC key the log was written with. */
  readonly hmacKeyEnv?: string;
}

/** Opens the log without creating it (HMAC key from the environment when named), runs `work`, closes it. */
export async function withAuditStore<T>(
  t: AuditTarget,
  env: NodeJS.ProcessEnv,
  work: (s: AuditStore) => Promise<T>,
): Promise<T> {
  const hmacKey = t.hmacKeyEnv !== undefined ? parseHmacKey(env[t.hmacKeyEnv], `$${t.hmacKeyEnv}`) : undefined;
  const store = await openAuditStore(t.audit, { createIfMissing: false, ...(hmacKey ? { hmacKey } : {}) });
  try {
    return await work(store);
  } finally {
    await store.close();
  }
}

export interface VerifyRunResult extends VerifyReport {
  /** The store's URL, password removed. */
  readonly url: string;
}

/** Walks every chain (or `log`'s). A failed chain is a report with ok false, not an exception. */
export function verifyAuditRun(
  o: AuditTarget & { readonly log?: string },
  env: NodeJS.ProcessEnv = process.env,
): Promise<VerifyRunResult> {
  return withAuditStore(o, env, async (s) => {
    const report = await s.verify(o.log !== undefined ? { log: o.log } : {});
    if (o.log !== undefined && report.logs.length === 0)
      throw new HeistError('HEIST_ERR_BAD_CONFIG', `the audit log ${s.url} has no log named "${o.log}"`);
    return { url: s.url, ...report };
  });
}

export interface ExportRunOptions extends AuditTarget {
  readonly format: ExportFormat;
  /** Epoch ms, inclusive. */
  readonly since?: number;
  readonly until?: number;
  readonly log?: string;
}

/** Streams the records to `out` (honouring back-pressure); resolves with how many were written. */
export function exportAuditRun(
  o: ExportRunOptions,
  out: Writable,
  env: NodeJS.ProcessEnv = process.env,
): Promise<{ readonly url: string; readonly records: number }> {
  return withAuditStore(o, env, async (s) => {
    let records = 0;
    const chunks = exportAudit(s, {
      format: o.format,
      ...(o.since !== undefined ? { since: o.since } : {}),
      ...(o.until !== undefined ? { until: o.until } : {}),
      ...(o.log !== undefined ? { log: o.log } : {}),
      onRecords: (n) => {
        records += n;
      },
    });
    for await (const chunk of chunks) if (!out.write(chunk)) await once(out, 'drain');
    return { url: s.url, records };
  });
}

/** Deletes whole records older than `before` from every log, re-anchoring each chain. */
export function pruneAuditRun(
  o: AuditTarget & { readonly before: number },
  env: NodeJS.ProcessEnv = process.env,
): Promise<{ readonly url: string; readonly pruned: number; readonly left: number }> {
  return withAuditStore(o, env, async (s) => {
    const pruned = await s.prune(o.before);
    return { url: s.url, pruned, left: await s.count() };
  });
}
