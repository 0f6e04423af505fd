/** @file Float64 least squares: exact and overdetermined systems, rank deficiency, pseudo-inverse norms. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { isHeistError } from '../core/errors.js';
import { denseMatrix, lstsq, matmul, pinvRowNorms, solveSquare } from './linalg.js';

test('solves a square system and fits an overdetermined one', () => {
  const a = denseMatrix(2, 2, [2, 1, 1, 3]);
  const x = solveSquare(a, denseMatrix(2, 1, [5, 10]));
  assert.ok(Math.abs(x.data[0] - 1) < 1e-12 && Math.abs(x.data[1] - 3) < 1e-12);
  // y = 2 t + 1 + (+-0.1 alternating): slope 2 - 0.2 / 5 = 1.96 by hand; two right-hand sides at once.
  const t = [0, 1, 2, 3];
  const design = denseMatrix(
    4,
    2,
    t.flatMap((v) => [v, 1]),
  );
  const b = denseMatrix(
    4,
    2,
    t.flatMap((v, i) => [2 * v + 1 + (i % 2 === 0 ? 0.1 : -0.1), -v]),
  );
  const r = lstsq(design, b);
  assert.equal(r.x.rows, 2);
  assert.ok(Math.abs(r.x.data[0] - 1.96) < 1e-12, `slope ${r.x.data[0]}`);
  assert.ok(Math.abs(r.x.data[1] + 1) < 1e-12 && Math.abs(r.x.data[3]) < 1e-12, 'second column is exact');
  assert.ok(r.residualRms[0] > 0 && r.residualRms[1] < 1e-12);
  assert.deepEqual(Array.from(matmul(a, denseMatrix(2, 1, [1, 0])).data), [2, 1]);
});

test('rank-deficient designs and too few equations are refused', () => {
  const a = denseMatrix(3, 2, [1, 2, 2, 4, 3, 6]);
  assert.throws(
    () => lstsq(a, denseMatrix(3, 1, [1, 2, 3])),
    (e: unknown) => isHeistError(e, 'HEIST_ERR_INTERNAL'),
  );
  assert.throws(
    () => lstsq(denseMatrix(1, 2, [1, 2]), denseMatrix(1, 1, [1])),
    (e: unknown) => isHeistError(e, 'HEIST_ERR_SHAPE'),
  );
});

test('pseudo-inverse row norms: identity gives 1; repeating a row halves the L2 error bar', () => {
  const id = pinvRowNorms(denseMatrix(2, 2, [1, 0, 0, 1]));
  assert.deepEqual(
    Array.from(id.l1).map((v) => Math.round(v * 1e9) / 1e9),
    [1, 1],
  );
  const twice = pinvRowNorms(denseMatrix(2, 1, [1, 1]));
  assert.ok(Math.abs(twice.l1[0] - 1) < 1e-12 && Math.abs(twice.l2[0] - Math.SQRT1_2) < 1e-12);
});
