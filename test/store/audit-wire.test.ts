/**
 * The columnar form records take to the SQLite store's worker (audit-wire.ts) gives back every
 * record field for field, bit for bit, whatever mix of optional parts the rows have; and the chain
 * hash computed without building the encoding (large arrays fed to the hash where they lie) equals
 * the hash of the encoding, with and without an HMAC key.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { GENESIS, chainHash, encodeRecord, recordHash } from '../../src/store/audit-chain.js';
import { fromWire, toWire } from '../../src/store/audit-wire.js';
import type { AuditRecord, AuditRow } from '../../src/store/types.js';
import { mnistLike, sampleRecord } from './fixtures.js';

const bits = (a: Float32Array | undefined) =>
  a === undefined ? undefined : Buffer.from(a.buffer, a.byteOffset, a.byteLength).toString('hex');

/** A row as plain data with float arrays as hex bits, so NaN payloads and -0 compare exactly. */
const plainRow = (r: AuditRow) => ({
  ...r,
  input: bits(r.input),
  raw: r.raw && { ...r.raw, scores: bits(r.raw.scores) },
  served: r.served && { ...r.served, scores: bits(r.served.scores) },
});
const plain = (r: AuditRecord) => ({ ...r, rows: r.rows.map(plainRow) });

/** Rows with every combination the store accepts: absent input, outputs with and without scores, odd floats. */
function mixedRecord(): AuditRecord {
  const odd = new Float32Array([Number.NaN, -0, 1e-45, Number.POSITIVE_INFINITY, -3.5]);
  new DataView(odd.buffer).setUint32(0, 0x7fc00123, true); // a NaN with a payload
  const batch = new Float32Array(3 * 784).map((_, i) => (i % 97) / 97);
  const rows: AuditRow[] = [
    { index: 0, inputHash: 'aa', input: batch.subarray(0, 784), raw: { label: 2, scores: odd }, served: { label: 2 } },
    { index: 1, inputHash: 'bb', raw: { label: -2147483648 } },
    { index: 2, inputHash: 'not hex ✓', input: batch.subarray(784, 1568) },
    { index: 7, inputHash: 'cc', input: new Float32Array(0), served: { label: 0, scores: new Float32Array(0) } },
    {
      index: 3,
      inputHash: 'dd',
      input: mnistLike(3),
      raw: { label: 1, scores: odd },
      served: { label: 4, scores: odd },
    },
  ];
  return { ...sampleRecord(0), rows };
}

test('records survive the columnar form bit for bit, rows, heads and order', () => {
  const records = [mixedRecord(), sampleRecord(1), sampleRecord(2), { ...sampleRecord(3), rows: [] }, sampleRecord(5)];
  const wire = toWire(records);
  // What postMessage does to it.
  const back = fromWire(structuredClone(wire));
  assert.deepEqual(back.map(plain), records.map(plain));
  assert.equal(wire.floats.buffer.byteLength, wire.floats.byteLength, 'one buffer holding just the floats');
});

test('no records, and records without rows, cross too', () => {
  assert.deepEqual(fromWire(structuredClone(toWire([]))), []);
  const r = { ...sampleRecord(4), rows: [] };
  assert.deepEqual(fromWire(structuredClone(toWire([r]))), [r]);
});

test('the streamed chain hash equals the hash of the encoding, with and without an HMAC key', () => {
  const at = { log: 'main', seq: 12, prevHash: GENESIS.replace(/0$/, '7') };
  for (const r of [mixedRecord(), sampleRecord(1), sampleRecord(3)]) {
    const encoding = encodeRecord(r, at);
    assert.equal(recordHash(r, at), chainHash(at.prevHash, encoding));
    const key = Buffer.from('a key of at least sixteen bytes');
    assert.equal(recordHash(r, at, key), chainHash(at.prevHash, encoding, key));
  }
});
