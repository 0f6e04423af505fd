import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openAuditStore } from './index.js';
import { isHeistError } from '../core/errors.js';

test('sqlite audit store appends durably, filters, and round-trips float32 inputs', () => {
  const path = join(mkdtempSync(join(tmpdir(), 'heist-audit-')), 'audit.db');
  const store = openAuditStore(`sqlite://${path}`);
  const input = Float32Array.from([0.1, 0.2, 0.3]);
  store.append([
    {
      at: 1,
      requestId: 'r1',
      clientId: 'a',
      model: 'm',
      rowIndex: 0,
      inputHash: 'h0',
      input,
      outcome: 'served',
      label: 2,
      scores: Float32Array.from([0.1, 0.2, 0.7]),
    },
    {
      at: 2,
      requestId: 'r1',
      clientId: 'a',
      model: 'm',
      rowIndex: 1,
      inputHash: 'h1',
      input,
      outcome: 'served',
      label: 0,
    },
    {
      at: 3,
      requestId: 'r2',
      clientId: 'b',
      model: 'm',
      rowIndex: 0,
      inputHash: 'h2',
      input,
      outcome: 'HEIST_ERR_RATE_LIMITED',
      flags: ['x:y'],
    },
  ]);
  store.close();
  const reopened = openAuditStore(`sqlite://${path}`);
  assert.equal(reopened.count(), 3);
  assert.equal(reopened.count({ clientId: 'a' }), 2);
  assert.equal(reopened.count({ since: 2 }), 2);
  const [first, , third] = reopened.query();
  assert.deepEqual(Array.from(first.input), Array.from(input));
  assert.deepEqual(Array.from(first.scores!), Array.from(Float32Array.from([0.1, 0.2, 0.7])));
  assert.equal(third.outcome, 'HEIST_ERR_RATE_LIMITED');
  assert.deepEqual(third.flags, ['x:y']);
  assert.equal(third.label, undefined);
  reopened.close();
});

test('unknown schemes and malformed URLs are configuration errors', () => {
  assert.throws(
    () => openAuditStore('mongodb://x'),
    (e) => isHeistError(e, 'HEIST_ERR_BAD_CONFIG'),
  );
  assert.throws(
    () => openAuditStore('audit.db'),
    (e) => isHeistError(e, 'HEIST_ERR_BAD_CONFIG'),
  );
});
