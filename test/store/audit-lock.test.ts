/**
 * The SQLite store under another process's write lock (a child holding BEGIN EXCLUSIVE on the file):
 * the main thread keeps running (timers fire, reads are answered) while an append waits; the append
 * rejects with HEIST_ERR_AUDIT_UNAVAILABLE after commitTimeoutMs, and what it carried is not
 * committed later; released in time, it resolves. A dead worker rejects pending and later appends
 * at once, and an idle store does not keep the process alive. Outcomes and order only, no speeds.
 */
import assert from 'node:assert/strict';
import { type ChildProcessWithoutNullStreams, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { isHeistError } from '../../src/core/errors.js';
import { repoRoot } from '../../src/datasets/paths.js';
import { type SqliteAuditStore, sqliteAuditStore } from '../../src/store/sqlite.js';
import { sampleRecord } from './fixtures.js';

const betterSqlite = createRequire(import.meta.url).resolve('better-sqlite3');
let dir = '';
before(() => {
  dir = mkdtempSync(join(tmpdir(), 'heist-audit-lock-'));
});
after(() => rmSync(dir, { recursive: true, force: true }));

/** A child process holding the database's write lock until told to let go. */
class LockHolder {
  private readonly child: ChildProcessWithoutNullStreams;
  private out = '';

  constructor(path: string) {
    const code = `
      const Database = require(${JSON.stringify(betterSqlite)});
      const db = new Database(${JSON.stringify(path)});
      db.exec('BEGIN EXCLUSIVE');
      process.stdout.write('locked\\n');
      process.stdin.once('data', () => { db.exec('COMMIT'); db.close(); process.stdout.write('released\\n'); process.exit(0); });
    `;
    this.child = spawn(process.execPath, ['-e', code]);
    this.child.stdout.on('data', (d) => (this.out += d));
  }

  private until(word: string): Promise<void> {
    return new Promise((resolve, reject) => {
      const check = () => {
        if (this.out.includes(word)) resolve();
        else if (this.child.exitCode !== null) reject(new Error(`the lock holder exited: ${this.out}`));
        else setTimeout(check, 5);
      };
      check();
    });
  }

  locked(): Promise<void> {
    return this.until('locked');
  }

  release(): Promise<void> {
    this.child.stdin.write('go\n');
    return this.until('released');
  }

  kill(): void {
    this.child.kill();
  }
}

async function storeWith(name: string, commitTimeoutMs: number): Promise<{ path: string; store: SqliteAuditStore }> {
  const path = join(dir, `${name}.db`);
  const store = await sqliteAuditStore(path, { commitTimeoutMs });
  await store.append([sampleRecord(0)]);
  return { path, store };
}

/** Settles with what happened, for order checks. */
function outcome(p: Promise<unknown>, order: string[], name: string): Promise<unknown> {
  return p.then(
    () => order.push(`${name} resolved`),
    (e) => {
      order.push(`${name} rejected`);
      return e;
    },
  );
}

test('a locked file: the event loop runs on, reads are answered, the append rejects after commitTimeoutMs', async () => {
  const { path, store } = await storeWith('timeout', 1500);
  const holder = new LockHolder(path);
  try {
    await holder.locked();
    let ticks = 0;
    const timer = setInterval(() => ticks++, 5);
    const order: string[] = [];
    const append = outcome(store.append([sampleRecord(1)]), order, 'append');
    const read = outcome(store.count(), order, 'count');
    const error = await append;
    clearInterval(timer);
    await read;
    assert.ok(isHeistError(error, 'HEIST_ERR_AUDIT_UNAVAILABLE'), String(error));
    assert.ok(ticks > 0, 'timers fired while the append waited');
    assert.deepEqual(order, ['count resolved', 'append rejected']);
    await holder.release();
    await store.append([sampleRecord(2)]);
    const got = await store.query();
    assert.deepEqual(
      got.map((r) => r.requestId),
      ['req-0', 'req-2'],
      'the timed-out record was not committed after the lock went',
    );
    assert.equal((await store.verify()).ok, true);
  } finally {
    holder.kill();
    await store.close();
  }
});

test('a lock released in time: the pending append resolves, in order with later ones', async () => {
  const { path, store } = await storeWith('released', 60_000);
  const holder = new LockHolder(path);
  try {
    await holder.locked();
    const order: string[] = [];
    const first = outcome(store.append([sampleRecord(1)]), order, 'first');
    const second = outcome(store.append([sampleRecord(2)]), order, 'second');
    await new Promise((resolve) => setTimeout(resolve, 50));
    order.push('timer');
    await holder.release();
    await Promise.all([first, second]);
    assert.deepEqual(order, ['timer', 'first resolved', 'second resolved']);
    assert.deepEqual(
      (await store.query()).map((r) => r.requestId),
      ['req-0', 'req-1', 'req-2'],
    );
    assert.equal((await store.verify()).ok, true);
  } finally {
    holder.kill();
    await store.close();
  }
});

test('a dead worker rejects the pending append and every later call at once, never hangs', {
  timeout: 30_000,
}, async () => {
  const { path, store } = await storeWith('dead', 60_000);
  const holder = new LockHolder(path);
  try {
    await holder.locked();
    const pending = store.append([sampleRecord(1)]);
    await store.terminateWorker();
    await assert.rejects(pending, (e) => isHeistError(e, 'HEIST_ERR_AUDIT_UNAVAILABLE'));
    await assert.rejects(store.append([sampleRecord(2)]), (e) => isHeistError(e, 'HEIST_ERR_AUDIT_UNAVAILABLE'));
    await assert.rejects(store.verify(), (e) => isHeistError(e, 'HEIST_ERR_AUDIT_UNAVAILABLE'));
    await store.close();
  } finally {
    holder.kill();
  }
});

test('an open, idle store does not keep the process alive', { timeout: 60_000 }, async () => {
  const path = join(dir, 'idle.db');
  const code = `
    const { openAuditStore } = await import(${JSON.stringify(join(repoRoot, 'src/store/index.ts'))});
    const s = await openAuditStore(${JSON.stringify(`sqlite://${path}`)});
    await s.append([${JSON.stringify({ ...sampleRecord(3), rows: [] })}]);
    process.stdout.write('appended\\n');
  `;
  const child = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', code], { cwd: repoRoot });
  let out = '';
  child.stdout.on('data', (d) => (out += d));
  child.stderr.on('data', (d) => (out += d));
  const exitCode = await new Promise((resolve) => child.on('close', resolve));
  assert.equal(exitCode, 0, out);
  assert.match(out, /appended/);
});
