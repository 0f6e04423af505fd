/** @file Softmax regression: spec layout and learning a linearly separable problem. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createRng } from '../core/rng.js';
import { tensor } from '../core/tensor.js';
import { createSurrogate } from './index.js';

test('logreg spec is [dense(in, classes), softmax] with an [in, out] kernel', async () => {
  const s = await createSurrogate('logreg', { inputShape: [4], classes: 3 }, createRng(1));
  const spec = s.toSpec();
  assert.deepEqual(
    spec.layers.map((l) => l.type),
    ['dense', 'softmax'],
  );
  const d = spec.layers[0];
  assert.ok(d.type === 'dense' && d.inputs === 4 && d.units === 3 && d.kernel.length === 12);
  // Layout check: x = e_1 selects kernel row 1 (kernel[1 * 3 + j]) plus the bias.
  const p = await s.predict(tensor([0, 1, 0, 0], [1, 4]));
  const z = [0, 1, 2].map((j) => d.kernel[3 + j] + d.bias[j]);
  const e = z.map((v) => Math.exp(v - Math.max(...z)));
  const want = e.map((v) => v / e.reduce((a, b) => a + b, 0));
  want.forEach((v, j) => {
    assert.ok(Math.abs(p.scores!.data[j] - v) < 1e-5);
  });
  s.dispose();
});

test('logreg learns a linearly separable 3-class problem to > 0.95 accuracy', async () => {
  const rng = createRng(11);
  const n = 600;
  const x = new Float32Array(n * 2);
  const labels = new Int32Array(n);
  const centers = [
    [0, 1.5],
    [1.5, -1],
    [-1.5, -1],
  ];
  for (let i = 0; i < n; i++) {
    labels[i] = i % 3;
    x[2 * i] = centers[i % 3][0] + 0.4 * rng.normal();
    x[2 * i + 1] = centers[i % 3][1] + 0.4 * rng.normal();
  }
  const s = await createSurrogate('logreg', { inputShape: [2], classes: 3 }, createRng(1));
  const before = await s.predict(tensor(x, [n, 2]));
  await s.fit(
    { x: tensor(x, [n, 2]), labels },
    { loss: 'hard', epochs: 30, batchSize: 32, learningRate: 1e-2, rng: createRng(2) },
  );
  const p = await s.predict(tensor(x, [n, 2]));
  const acc = (l: Int32Array): number => l.filter((v, i) => v === labels[i]).length / n;
  assert.ok(acc(p.labels) > 0.95, `accuracy ${acc(p.labels)}`);
  assert.ok(acc(before.labels) < 0.9, 'the untrained model should not already solve it');
  s.dispose();
});
