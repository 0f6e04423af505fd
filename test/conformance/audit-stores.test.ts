/**
 * @file Every registered audit store through the audit-store conformance suite: append, count and
 * read back in order, with every field intact; appends are durable (a store reopened on the same
 * location sees them) where the location is a file.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { type AuditEntry, auditStores } from '../../src/store/index.js';

function entries(request: string, client: string, n: number, at: number): AuditEntry[] {
  return Array.from({ length: n }, (_, i) => ({
    at: at + i,
    requestId: request,
    clientId: client,
    model: 'm',
    rowIndex: i,
    inputHash: `${request}-${i}`,
    input: Float32Array.from([i, 0.5, -1 / 3]),
    outcome: i === 2 ? 'HEIST_ERR_RATE_LIMITED' : 'served',
    ...(i === 2 ? {} : { label: i % 2, scores: Float32Array.from([0.25, 0.75]) }),
    flags: i === 1 ? ['prada:suspicious'] : [],
  }));
}

/** The entry as JSON sees it (absent and undefined fields alike). */
function plain(e: AuditEntry): unknown {
  return JSON.parse(
    JSON.stringify({
      ...e,
      input: Array.from(e.input),
      scores: e.scores ? Array.from(e.scores) : undefined,
      flags: e.flags ?? [],
    }),
  );
}

for (const entry of auditStores.entries()) {
  test(`audit store ${entry.name} conforms: append, count, and read back in order`, () => {
    const dir = mkdtempSync(join(tmpdir(), 'heist-store-'));
    try {
      const location = join(dir, 'audit.db');
      const store = auditStores.create(entry.name, { location }, undefined);
      const a = entries('r1', 'key:a', 3, 1000);
      const b = entries('r2', 'key:b', 4, 2000);
      store.append(a);
      store.append(b);
      store.append([]);
      assert.equal(store.count(), 7);
      assert.equal(store.count({ clientId: 'key:b' }), 4);
      assert.deepEqual(store.query().map(plain), [...a, ...b].map(plain));
      assert.deepEqual(store.query({ clientId: 'key:a' }).map(plain), a.map(plain));
      store.close();
      const reopened = auditStores.create(entry.name, { location }, undefined);
      assert.equal(reopened.count(), 7, 'appends are durable');
      reopened.close();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
}
