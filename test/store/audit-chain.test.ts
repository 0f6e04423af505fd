/**
 * The chain encoding and the storage codec, store-free: a pinned hash (changing the encoding would
 * orphan every existing log, so it must be deliberate), every field and row counts, no two records
 * share bytes by shifting text between fields, HMAC differs from SHA-256; float blobs are lossless
 * (NaN, -0, subnormals) and pick the compact forms where they apply.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { test } from 'node:test';
import { deflateRawSync } from 'node:zlib';
import { isHeistError } from '../../src/core/errors.js';
import { GENESIS, checkRecord, encodeRecord, parseHmacKey, recordHash } from '../../src/store/audit-chain.js';
import { packFloats, packHash, unpackFloats, unpackHash } from '../../src/store/audit-codec.js';
import type { AuditRecord } from '../../src/store/types.js';
import { mnistLike, sampleRecord } from './fixtures.js';

const at = { log: 'main', seq: 1, prevHash: GENESIS };
const hex = (a: Float32Array) => Buffer.from(a.buffer, a.byteOffset, a.byteLength).toString('hex');

const fixed: AuditRecord = {
  at: 1700000000000,
  requestId: 'r1',
  clientId: 'key:a',
  ip: '::1',
  route: 'POST /v1/models/:name/predict',
  model: 'm',
  status: 200,
  outcome: 'served',
  latencyMs: 2.5,
  flags: ['x:y'],
  rows: [{ index: 0, inputHash: 'ab', input: Float32Array.from([0.5, -1]), served: { label: 3 } }],
};

test('the encoding is the one docs/audit.md and audit-chain.ts describe, and its hash is pinned', () => {
  const u32 = (n: number) => {
    const b = Buffer.alloc(4);
    b.writeUInt32BE(n);
    return b;
  };
  const i32 = (n: number) => {
    const b = Buffer.alloc(4);
    b.writeInt32BE(n);
    return b;
  };
  const i64 = (n: number) => {
    const b = Buffer.alloc(8);
    b.writeBigInt64BE(BigInt(n));
    return b;
  };
  const f64 = (n: number) => {
    const b = Buffer.alloc(8);
    b.writeDoubleBE(n);
    return b;
  };
  const str = (s: string) => Buffer.concat([u32(Buffer.byteLength(s)), Buffer.from(s)]);
  const some = (b: Buffer) => Buffer.concat([Buffer.of(1), b]);
  const none = Buffer.of(0);
  const floats = Buffer.alloc(8);
  floats.writeFloatLE(0.5, 0);
  floats.writeFloatLE(-1, 4);
  const expected = Buffer.concat([
    str('heist.audit/v1'),
    str('main'),
    i64(1),
    i64(1700000000000),
    str('r1'),
    str('key:a'),
    none, // tier
    str('::1'),
    str('POST /v1/models/:name/predict'),
    some(str('m')),
    i32(200),
    str('served'),
    f64(2.5),
    u32(1),
    str('x:y'),
    u32(1), // rows
    i32(0),
    str('ab'),
    some(Buffer.concat([u32(2), floats])),
    none, // raw
    some(Buffer.concat([i32(3), none])),
  ]);
  assert.deepEqual(encodeRecord(fixed, at), expected);
  // Changing the encoding orphans every existing log: this pin makes it deliberate.
  assert.equal(recordHash(fixed, at), createHash('sha256').update(Buffer.alloc(32)).update(expected).digest('hex'));
  assert.equal(recordHash(fixed, at), 'fd2af735c00556222fbc9b9ea515d112d62cb552bfaab8dfad7a1ee067d21631');
});

test('every field, every row and every float changes the hash', () => {
  const base = sampleRecord(0);
  const h = recordHash(base, at);
  const row0 = base.rows[0];
  const variants: AuditRecord[] = [
    { ...base, at: base.at + 1 },
    { ...base, requestId: 'x' },
    { ...base, clientId: 'x' },
    { ...base, tier: undefined },
    { ...base, tier: '' },
    { ...base, ip: 'x' },
    { ...base, route: 'x' },
    { ...base, model: undefined },
    { ...base, status: 201 },
    { ...base, outcome: 'x' },
    { ...base, latencyMs: base.latencyMs + 1e-9 },
    { ...base, flags: [] },
    { ...base, flags: [...base.flags].reverse() },
    { ...base, rows: base.rows.slice(1) },
    { ...base, rows: [...base.rows].reverse() },
    { ...base, rows: [{ ...row0, index: 7 }, ...base.rows.slice(1)] },
    { ...base, rows: [{ ...row0, inputHash: 'x' }, ...base.rows.slice(1)] },
    { ...base, rows: [{ ...row0, input: undefined }, ...base.rows.slice(1)] },
    { ...base, rows: [{ ...row0, raw: undefined }, ...base.rows.slice(1)] },
    { ...base, rows: [{ ...row0, served: { label: 1 } }, ...base.rows.slice(1)] },
    { ...base, rows: [{ ...row0, served: { label: 2, scores: row0.served!.scores } }, ...base.rows.slice(1)] },
  ];
  const flipped = Float32Array.from(row0.input!);
  flipped[300] = Math.fround(flipped[300] + 1e-7);
  variants.push({ ...base, rows: [{ ...row0, input: flipped }, ...base.rows.slice(1)] });
  const seen = new Set([h]);
  for (const v of variants) {
    const vh = recordHash(v, at);
    assert.ok(!seen.has(vh), JSON.stringify(v).slice(0, 200));
    seen.add(vh);
  }
  assert.notEqual(recordHash(base, { ...at, seq: 2 }), h, 'the seq');
  assert.notEqual(recordHash(base, { ...at, log: 'other' }), h, 'the log');
  assert.notEqual(recordHash(base, { ...at, prevHash: 'f'.repeat(64) }), h, 'the previous hash');
});

test('text cannot move between fields unnoticed (every length is explicit)', () => {
  const r = sampleRecord(3);
  const a = encodeRecord({ ...r, requestId: 'ab', clientId: 'c' }, at);
  const b = encodeRecord({ ...r, requestId: 'a', clientId: 'bc' }, at);
  assert.notDeepEqual(a, b);
  const f1 = encodeRecord({ ...r, flags: ['a,b'] }, at);
  const f2 = encodeRecord({ ...r, flags: ['a', 'b'] }, at);
  assert.notDeepEqual(f1, f2);
});

test('the HMAC key changes every hash; a short or missing key is refused', () => {
  const key = parseHmacKey('sixteen-bytes-ok', 'TEST');
  assert.notEqual(recordHash(sampleRecord(0), at, key), recordHash(sampleRecord(0), at));
  assert.throws(
    () => parseHmacKey('short', '$K'),
    (e) => isHeistError(e, 'HEIST_ERR_BAD_CONFIG'),
  );
  assert.throws(
    () => parseHmacKey(undefined, '$K'),
    (e) => isHeistError(e, 'HEIST_ERR_BAD_CONFIG'),
  );
});

test('records that cannot be stored exactly are refused before they reach a store', () => {
  for (const bad of [{ at: 1.5 }, { status: 200.5 }, { latencyMs: Number.NaN }])
    assert.throws(
      () => checkRecord({ ...sampleRecord(0), ...bad }),
      (e) => isHeistError(e, 'HEIST_ERR_INTERNAL'),
    );
  checkRecord(sampleRecord(0));
});

test('float blobs are lossless and compact where the values allow', () => {
  // tag: the form expected (undefined: whichever is smaller).
  const cases: [string, Float32Array, number | undefined][] = [
    ['MNIST-like pixels (k/255): one byte per value, PackBits', mnistLike(1), 4],
    ['digits pixels (k/16)', Float32Array.from({ length: 64 }, (_, i) => (i % 17) / 16), 4],
    ['small integers', Float32Array.from({ length: 64 }, (_, i) => i % 5), 4],
    ['short arrays stay raw', Float32Array.from([0.1, 0.2, 0.7]), 0],
    ['noise', Float32Array.from({ length: 256 }, (_, i) => Math.sin(i * 12.9898) * 43758.5453), undefined],
    // Arbitrary floats are stored raw: deflating them rarely pays and cost the writer most of its time.
    ['arbitrary floats stay raw', Float32Array.from({ length: 256 }, (_, i) => (i % 4) * 0.123456), 0],
    ['-0, NaN, ±Infinity, subnormal', Float32Array.from([-0, Number.NaN, Infinity, -Infinity, 1e-45, 0.5]), 0],
    ['-0 among k/255 values keeps its sign', Float32Array.from({ length: 100 }, (_, i) => (i === 50 ? -0 : 0)), 0],
  ];
  for (const [what, values, tag] of cases) {
    const blob = packFloats(values);
    if (tag !== undefined) assert.equal(blob[0], tag, what);
    assert.ok(blob.length <= values.byteLength + 1, `${what}: never bigger than the raw bytes and a tag`);
    assert.equal(hex(unpackFloats(blob)), hex(values), what);
  }
  const mnist = packFloats(mnistLike(1));
  assert.ok(mnist.length < 3136 / 4, `${mnist.length} bytes for 784 pixels`);
});

test('blobs of older logs still read: deflated floats (tag 1) and the deflated one-byte form (tag 2)', () => {
  const pixels = mnistLike(2);
  const bytes = Uint8Array.from(pixels, (v) => Math.round(v * 255));
  const tag2 = Buffer.concat([Buffer.of(2, 0, 255), deflateRawSync(bytes)]);
  assert.equal(hex(unpackFloats(tag2)), hex(pixels));
  const floats = Float32Array.from({ length: 50 }, (_, i) => i * 0.123456);
  const tag1 = Buffer.concat([Buffer.of(1), deflateRawSync(Buffer.from(floats.buffer))]);
  assert.equal(hex(unpackFloats(tag1)), hex(floats));
});

test('input hashes: hex ones as bytes, anything else as text', () => {
  for (const h of ['ab'.repeat(16), 'not-hex', '', 'ABCD', 'abc']) assert.equal(unpackHash(packHash(h)), h);
  assert.equal(packHash('ab'.repeat(16)).length, 17);
});
