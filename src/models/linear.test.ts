/** @file Softmax regression: known values, input forms, shape checks, label-only output. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { isHeistError } from '../core/errors.js';
import type { Prediction } from '../core/prediction.js';
import { createRng } from '../core/rng.js';
import { tensor } from '../core/tensor.js';
import { linearModel, randomLinearModel } from './linear.js';

test('computes softmax(xW + b) against a hand calculation', () => {
  const m = linearModel({
    weights: [
      [1, 0, -1],
      [2, 1, 0],
    ],
    bias: [0, 0.5, 0],
    classNames: ['a', 'b', 'c'],
  });
  assert.deepEqual(m.info.inputShape, [2]);
  assert.equal(m.info.classes, 3);
  const x = tensor([1, 1, 0, 0], [2, 2]);
  assert.deepEqual(Array.from(m.logits(x).data), [3, 1.5, -1, 0, 0.5, 0]);
  const p = m.predict(x) as Prediction;
  const z = [3, 1.5, -1];
  const s = z.reduce((a, v) => a + Math.exp(v), 0);
  z.forEach((v, j) => {
    assert.ok(Math.abs(p.scores!.data[j] - Math.exp(v) / s) < 1e-7);
  });
  assert.deepEqual(Array.from(p.labels), [0, 1]);
  assert.equal(p.kind, 'probs');
});

test('flat and nested weights agree; inputShape may be multi-dimensional', () => {
  const rng = createRng(2);
  const r = randomLinearModel(rng, 6, 3, { inputShape: [2, 3, 1] });
  const nested = Array.from({ length: 6 }, (_, j) => Array.from(r.weights.subarray(j * 3, j * 3 + 3)));
  const m = linearModel({ weights: nested, bias: r.bias, inputShape: [2, 3, 1] });
  const x = tensor(
    Array.from({ length: 12 }, () => rng.uniform(-1, 1)),
    [2, 2, 3, 1],
  );
  assert.deepEqual((m.predict(x) as Prediction).scores!.data, (r.predict(x) as Prediction).scores!.data);
});

test('label output and bad shapes', () => {
  const m = randomLinearModel(createRng(3), 4, 2, { output: 'label' });
  const p = m.predict(tensor(new Float32Array(8), [2, 4])) as Prediction;
  assert.equal(p.kind, 'label');
  assert.equal(p.scores, undefined);
  assert.throws(
    () => m.predict(tensor(new Float32Array(6), [2, 3])),
    (e: unknown) => isHeistError(e, 'HEIST_ERR_SHAPE'),
  );
  assert.throws(
    () => linearModel({ weights: new Float32Array(5), bias: [0, 0] }),
    (e: unknown) => isHeistError(e, 'HEIST_ERR_BAD_MODEL'),
  );
  assert.throws(
    () => linearModel({ weights: [[1, 2], [3]], bias: [0, 0] }),
    (e: unknown) => isHeistError(e, 'HEIST_ERR_BAD_MODEL'),
  );
  assert.throws(
    () => linearModel({ weights: [[1]], bias: [0] }),
    (e: unknown) => isHeistError(e, 'HEIST_ERR_BAD_MODEL'),
  );
  assert.throws(
    () => linearModel({ weights: new Float32Array(4), bias: [0, 0], inputShape: [3] }),
    (e: unknown) => isHeistError(e, 'HEIST_ERR_BAD_MODEL'),
  );
});

test('stays finite for large logits', () => {
  const m = linearModel({ weights: [[1000, -1000]], bias: [0, 0] });
  const p = m.predict(tensor([5], [1, 1])) as Prediction;
  assert.deepEqual(Array.from(p.scores!.data), [1, 0]);
});

test('input gradients are W (p - t), matching central finite differences of the cross-entropy', async () => {
  const rng = createRng(5);
  const m = randomLinearModel(rng, 6, 3, { scale: 0.8 });
  const x = tensor(
    Float32Array.from({ length: 12 }, () => rng.uniform(0, 1)),
    [2, 6],
  );
  const t = tensor(Float32Array.of(0, 1, 0, 0.2, 0.3, 0.5), [2, 3]);
  const g = await m.inputGradients(x, t);
  assert.deepEqual(g.shape, [2, 6]);
  const ce = (row: number, v: Float32Array): number => {
    const p = (m.predict(tensor(v, [1, 6])) as { scores: { data: Float32Array } }).scores.data;
    return -[0, 1, 2].reduce((s, c) => s + t.data[row * 3 + c] * Math.log(p[c]), 0);
  };
  const h = 1e-3;
  for (let row = 0; row < 2; row++)
    for (let j = 0; j < 6; j++) {
      const v = Float32Array.from(x.data.subarray(row * 6, row * 6 + 6));
      v[j] += h;
      const up = ce(row, v);
      v[j] -= 2 * h;
      const down = ce(row, v);
      const fd = (up - down) / (2 * h);
      assert.ok(Math.abs(g.data[row * 6 + j] - fd) < 1e-3, `row ${row} x${j}: ${g.data[row * 6 + j]} vs ${fd}`);
    }
});
