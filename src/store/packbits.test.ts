/** PackBits: lossless on any bytes, within its bound, and strict about data cut short. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { createRng } from '../core/rng.js';
import { packBits, packBitsBound, unpackBits } from './packbits.js';

const same = (a: Uint8Array, b: Uint8Array) => Buffer.from(a).equals(Buffer.from(b));

test('round trips: empty, single bytes, runs at the packet limits, alternations, random data', () => {
  const rng = createRng(5);
  const cases: Uint8Array[] = [
    new Uint8Array(0),
    Uint8Array.of(7),
    Uint8Array.of(1, 1),
    Uint8Array.of(1, 1, 1),
    new Uint8Array(127),
    new Uint8Array(128),
    new Uint8Array(129),
    new Uint8Array(300).fill(255),
    Uint8Array.from({ length: 500 }, (_, i) => i % 2),
    Uint8Array.from({ length: 500 }, (_, i) => (i % 5 < 2 ? 9 : i & 255)),
    Uint8Array.from({ length: 1000 }, () => Math.floor(rng.next() * 256)),
    Uint8Array.from({ length: 1000 }, () => (rng.next() < 0.8 ? 0 : Math.floor(rng.next() * 256))),
  ];
  for (const c of cases) {
    const p = packBits(c);
    assert.ok(p.length <= packBitsBound(c.length), `${p.length} > bound for ${c.length}`);
    assert.ok(same(unpackBits(p), c), `length ${c.length}`);
  }
  // A long run costs two bytes a 128: 300 equal bytes take 3 packets.
  assert.equal(packBits(new Uint8Array(300)).length, 6);
});

test('the published example decodes (Apple TN1023)', () => {
  const packed = Uint8Array.from([
    0xfe, 0xaa, 0x02, 0x80, 0x00, 0x2a, 0xfd, 0xaa, 0x03, 0x80, 0x00, 0x2a, 0x22, 0xf7, 0xaa,
  ]);
  const unpacked = Uint8Array.from([
    0xaa, 0xaa, 0xaa, 0x80, 0x00, 0x2a, 0xaa, 0xaa, 0xaa, 0xaa, 0x80, 0x00, 0x2a, 0x22, 0xaa, 0xaa, 0xaa, 0xaa, 0xaa,
    0xaa, 0xaa, 0xaa, 0xaa, 0xaa,
  ]);
  assert.ok(same(unpackBits(packed), unpacked));
  assert.ok(same(unpackBits(packBits(unpacked)), unpacked));
  // 128 is a no-op header.
  assert.ok(same(unpackBits(Uint8Array.of(0x80, 0x00, 0x05)), Uint8Array.of(5)));
});

test('data cut short inside a packet is refused', () => {
  for (const bad of [Uint8Array.of(0x02, 1, 2), Uint8Array.of(0xfe), Uint8Array.of(0x00)])
    assert.throws(() => unpackBits(bad), /ends inside a packet/);
});
