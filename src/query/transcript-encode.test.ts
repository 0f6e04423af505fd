/** @file Transcript line bytes: the cached float texts equal the uncached ones and read back exactly. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { createRng } from '../core/rng.js';
import { TranscriptEncoder, formatF32 } from './transcript-encode.js';

const decode = (b: Uint8Array): string => Buffer.from(b).toString('latin1');

/** Float32 values that stress the formatter: signs, zeros, extremes, subnormals, the 1e-6 edge. */
function awkwardValues(): Float32Array {
  const rng = createRng(7);
  const bits = new Uint32Array(20_000);
  for (let i = 0; i < bits.length; i++) bits[i] = Math.floor(rng.next() * 2 ** 32);
  const random = new Float32Array(bits.buffer).filter((v) => !Number.isNaN(v));
  const fixed = [0, -0, 1, -1, 0.1, 1 / 3, 1e-8, -1.2345678e-6, 9.99999e-6, 3.4028235e38, -3.4028235e38];
  const tiny = [1.4e-45, -1.4e-45, 1.17549435e-38, 2.5e-40];
  return Float32Array.from([...fixed, ...tiny, ...random, ...Array.from({ length: 256 }, (_, i) => i / 255)]);
}

test('formatF32 writes the shortest text that reads back as the same float32, never over 22 characters', () => {
  for (const v of awkwardValues()) {
    const s = formatF32(v);
    assert.ok(s.length <= 22, `${v} -> ${s}`);
    assert.ok(Object.is(Math.fround(Number(s)), v), `${v} -> ${s}`);
  }
  assert.equal(formatF32(Number.NaN), 'null');
  assert.equal(formatF32(-0), '-0');
});

test('the encoder writes the same bytes as formatting each value, through hits, misses and evictions', () => {
  const values = awkwardValues();
  const enc = new TranscriptEncoder();
  // Twice over: the second pass reads the cache, whose 65,536 slots the random values overflow.
  for (let pass = 0; pass < 2; pass++) {
    for (let at = 0; at < values.length; at += 784) {
      const chunk = values.subarray(at, at + 784);
      enc.ascii('{"x":');
      enc.floats(chunk);
      enc.ascii('}\n');
      const expected = `{"x":[${Array.from(chunk, formatF32).join(',')}]}\n`;
      assert.equal(decode(enc.take()), expected);
    }
  }
  enc.floats(Float32Array.of(Number.NaN, -0, 0.5));
  assert.equal(decode(enc.take()), '[null,-0,0.5]');
  enc.floats(new Float32Array(0));
  assert.equal(decode(enc.take()), '[]');
});

test('lines read back as JSON, value for value', () => {
  const enc = new TranscriptEncoder();
  const rng = createRng(3);
  const x = Float32Array.from({ length: 5000 }, () => Math.fround(rng.next() * 10 - 5));
  enc.floats(x);
  const back = JSON.parse(decode(enc.take())) as number[];
  assert.deepEqual(Float32Array.from(back), x);
});
