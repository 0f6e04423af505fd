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
