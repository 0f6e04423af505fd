/**
 * @file The SQLite audit store (sqlite://path/to/audit.db, or sqlite://:memory:), the embedded
 * default. better-sqlite3 (v12; v13 needs Node 22) runs in a worker thread (sqlite-worker.ts): every
 * call is a message to it, so the event loop never blocks on the disk or on another process's lock.
 * append() resolves once the worker has committed the records (WAL, synchronous=FULL) and rejects
 * with HEIST_ERR_AUDIT_UNAVAILABLE when they are not durable within commitTimeoutMs, or when the
 * worker is gone: nothing ever waits forever.
 */
import type { Worker } from 'node:worker_threads';
import { HeistError, type HeistErrorCode } from '../core/errors.js';
import { checkRecord } from './audit-chain.js';
import type { SqliteReply, SqliteRequest, SqliteWorkerInit } from './sqlite-worker.js';
import { DEFAULT_COMMIT_TIMEOUT_MS, DEFAULT_LOG, storeOptionsSchema } from './options.js';
import { startWorker } from '../backends/ts-worker.js';
import { toWire } from './audit-wire.js';
import type { AuditStore, AuditStoreEntry, AuditStoreOptions } from './types.js';

export interface SqliteAuditStore extends AuditStore {
  /** Ends the worker thread abruptly, as a crash would (tests: appends then reject, never hang). */
  terminateWorker(): Promise<void>;
}

type Request = SqliteRequest extends infer R ? (R extends { id: number } ? Omit<R, 'id'> : never) : never;

interface Waiter {
  resolve(value: unknown): void;
  reject(e: Error): void;
  timer?: NodeJS.Timeout;
}

const workerUrl = new URL(`./sqlite-worker${import.meta.url.endsWith('.ts') ? '.ts' : '.js'}`, import.meta.url);

/** `path` is a file path, or ':memory:' (one worker's private database: gone when it closes). */
export async function sqliteAuditStore(
  path: string,
  options: Omit<AuditStoreOptions, 'location'> = {},
): Promise<SqliteAuditStore> {
  const log = options.log ?? DEFAULT_LOG;
  const commitTimeoutMs = options.commitTimeoutMs ?? DEFAULT_COMMIT_TIMEOUT_MS;
  const init: SqliteWorkerInit = {
    path,
    log,
    lockWaitMs: commitTimeoutMs,
    createIfMissing: options.createIfMissing ?? true,
    ...(options.hmacKey ? { hmacKey: Uint8Array.from(options.hmacKey) } : {}),
  };
  const worker: Worker = startWorker(workerUrl, { workerData: init });
  const waiters = new Map<number, Waiter>();
  let nextId = 1;
  let gone: HeistError | undefined;
  let closing = false;

  const unavailable = (message: string): HeistError => new HeistError('HEIST_ERR_AUDIT_UNAVAILABLE', message);
  const settle = (id: number): Waiter | undefined => {
    const w = waiters.get(id);
    if (!w) return undefined;
    waiters.delete(id);
    if (w.timer) clearTimeout(w.timer);
    // An idle store must not keep the process alive (a closing one must, until its worker is done).
    if (waiters.size === 0 && !closing) worker.unref();
    return w;
  };
  const die = (e: HeistError): void => {
    gone ??= e;
    for (const id of [...waiters.keys()]) settle(id)?.reject(gone);
  };

  worker.on('message', (m: SqliteReply) => {
    if ('ids' in m) {
      for (const id of m.ids) settle(id)?.resolve(undefined);
      return;
    }
    const w = settle(m.id);
    if (!w) return; // already timed out
    if (m.ok) w.resolve(m.value);
    else w.reject(new HeistError(m.code as HeistErrorCode, m.message));
  });
  worker.on('error', (e) => die(unavailable(`the SQLite audit log worker for ${path} failed: ${e.message}`)));
  worker.on('exit', (code) => die(unavailable(`the SQLite audit log worker for ${path} stopped (exit code ${code})`)));

  function call<T>(request: Request, timeoutMs?: number): Promise<T> {
    if (gone) return Promise.reject(gone);
    const id = nextId++;
    return new Promise<T>((resolve, reject) => {
      const w: Waiter = { resolve: resolve as (v: unknown) => void, reject };
      if (timeoutMs !== undefined)
        w.timer = setTimeout(() => {
          settle(id);
          reject(unavailable(`the audit records were not durable within ${timeoutMs} ms (${path} busy or locked)`));
        }, timeoutMs);
      waiters.set(id, w);
      worker.ref();
      worker.postMessage({ ...request, id });
    });
  }

  await new Promise<void>((resolve, reject) => {
    waiters.set(0, { resolve: () => resolve(), reject });
  });

  return {
    url: `sqlite://${path}`,
    log,
    async append(records) {
      if (records.length === 0) return;
      for (const r of records) checkRecord(r);
      await call<void>(
        { op: 'append', records: toWire(records), deadline: Date.now() + commitTimeoutMs },
        commitTimeoutMs,
      );
    },
    count: (filter = {}) => call({ op: 'count', filter }),
    countRows: (filter = {}) => call({ op: 'countRows', filter }),
    query: (filter = {}) => call({ op: 'query', filter }),
    verify: (o = {}) => call({ op: 'verify', ...(o.log !== undefined ? { log: o.log } : {}) }),
    prune: (before) => call({ op: 'prune', before }),
    async close() {
      if (gone) return;
      closing = true;
      const exited = new Promise((resolve) => worker.once('exit', resolve));
      await call<void>({ op: 'close' });
      gone = unavailable(`the audit log ${path} is closed`);
      await exited;
    },
    async terminateWorker() {
      // The worker exits from its own event loop, as a crash there would. worker.terminate() from
      // outside can abort the whole process when it lands inside better-sqlite3's native busy wait.
      if (gone) return;
      const exited = new Promise((resolve) => worker.once('exit', resolve));
      worker.postMessage({ id: -1, op: 'crash' });
      await exited;
    },
  };
}

export const sqlite: AuditStoreEntry = {
  name: 'sqlite',
  summary:
    'embedded SQLite file (sqlite://path/to/audit.db, or sqlite://:memory:) in a worker thread, WAL, group commit',
  options: storeOptionsSchema,
  example: { location: ':memory:' },
  create: ({ location, ...options }) => sqliteAuditStore(location, options),
};
