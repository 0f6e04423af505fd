import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createRng } from '../core/rng.js';
import { randomShift } from './augment.js';

test('randomShift translates each image by whole pixels with zero fill, deterministically per seed', () => {
  const h = 5;
  const w = 5;
  const rows = 50;
  const batch = new Float32Array(rows * h * w);
  for (let r = 0; r < rows; r++) batch[r * 25 + 2 * w + 2] = 1; // one bright pixel in the centre
  const a = Float32Array.from(batch);
  const b = Float32Array.from(batch);
  randomShift([h, w, 1], 2, createRng(1))(a, rows);
  randomShift([h, w, 1], 2, createRng(1))(b, rows);
  assert.deepEqual(a, b, 'same seed, same shifts');
  const offsets = new Set<string>();
  for (let r = 0; r < rows; r++) {
    const img = a.subarray(r * 25, (r + 1) * 25);
    assert.equal(
      img.reduce((s, v) => s + v, 0),
      1,
      'a shift by at most 2 keeps the centre pixel inside a 5x5 image',
    );
    const at = img.indexOf(1);
    const dy = Math.floor(at / w) - 2;
    const dx = (at % w) - 2;
    assert.ok(Math.abs(dx) <= 2 && Math.abs(dy) <= 2);
    offsets.add(`${dx},${dy}`);
  }
  assert.ok(offsets.size > 10, `only ${offsets.size} distinct offsets in 50 draws`);
  const edge = new Float32Array(25);
  edge[0] = 1; // top-left pixel: most shifts push it out
  const shifted = Float32Array.from(edge);
  randomShift([h, w, 1], 2, createRng(5))(shifted, 1);
  assert.ok(shifted.reduce((s, v) => s + v, 0) <= 1, 'pixels shifted out are dropped, never wrapped');
});
