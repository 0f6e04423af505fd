/** @file Ensembles of substitutes: seeded members, one merged network, exact input gradients. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { createRng } from '../core/rng.js';
import { tensor } from '../core/tensor.js';
import { forwardRow } from '../models/network.js';
import { specWeights } from '../models/network-spec.js';
import { ensembleOf } from './ensemble.js';
import { createSurrogate } from './index.js';
import type { TrainingSet } from './types.js';

const shape = [6];
const classes = 3;

function rows(n: number, seed: number): TrainingSet {
  const rng = createRng(seed);
  const labels = Int32Array.from({ length: n }, () => rng.int(classes));
  const x = new Float32Array(n * 6);
  for (let i = 0; i < n; i++)
    for (let j = 0; j < 6; j++) x[i * 6 + j] = rng.next() + (j % classes === labels[i] ? 1 : 0);
  return { x: tensor(x, [n, 6]), labels };
}

async function fitted(seed: number) {
  const s = await createSurrogate('mlp', { inputShape: shape, classes, hidden: [5], members: 3 }, createRng(seed));
  await s.fit(rows(60, 1), { loss: 'hard', epochs: 5, batchSize: 16, learningRate: 0.01, rng: createRng(2) });
  return s;
}

test('an ensemble is a function of its seed, and its members start from different weights', async () => {
  const [a, b, c] = await Promise.all([fitted(7), fitted(7), fitted(8)]);
  const wa = specWeights(a.toSpec().layers);
  assert.deepEqual(wa, specWeights(b.toSpec().layers));
  assert.notDeepEqual(wa, specWeights(c.toSpec().layers));
  // The first dense layer holds the members side by side: [6, 3 x 5], member k in columns 5k..5k+4.
  const first = a.toSpec().layers.find((l) => l.type === 'dense');
  assert.ok(first?.type === 'dense' && first.units === 15);
  const column = (k: number) => Array.from({ length: 6 }, (_, i) => first.kernel[i * 15 + 5 * k]);
  assert.notDeepEqual(column(0), column(1));
  for (const s of [a, b, c]) s.dispose();
});

test("an ensemble's input gradients are those of the cross-entropy of its merged network", async () => {
  const s = await fitted(9);
  const spec = s.toSpec();
  const x = rows(4, 5).x;
  const targets = tensor(
    Float32Array.from({ length: 4 * classes }, (_, i) => (i % classes === 1 ? 1 : 0)),
    [4, classes],
  );
  const g = await s.inputGradients(x, targets);
  const ce = (row: Float32Array) => -Math.log(forwardRow(spec, row)[1]);
  const h = 1e-3;
  for (let r = 0; r < 4; r++)
    for (let j = 0; j < 6; j++) {
      const up = Float32Array.from(x.data.subarray(r * 6, r * 6 + 6));
      const down = Float32Array.from(up);
      up[j] += h;
      down[j] -= h;
      const fd = (ce(up) - ce(down)) / (2 * h);
      assert.ok(Math.abs(g.data[r * 6 + j] - fd) < 2e-3, `row ${r} feature ${j}: ${g.data[r * 6 + j]} vs ${fd}`);
    }
  // And it predicts what its merged network does.
  const p = await s.predict(x);
  for (let r = 0; r < 4; r++) {
    const want = forwardRow(spec, x.data.subarray(r * 6, r * 6 + 6));
    for (let c = 0; c < classes; c++) assert.ok(Math.abs(p.scores!.data[r * classes + c] - want[c]) < 1e-5);
  }
  s.dispose();
});

test('an ensemble takes 2 to 16 members', async () => {
  const one = await createSurrogate('logreg', { inputShape: shape, classes }, createRng(1));
  assert.throws(() => ensembleOf([one]), { code: 'HEIST_ERR_BAD_CONFIG' });
  assert.throws(() => ensembleOf(Array(17).fill(one)), { code: 'HEIST_ERR_BAD_CONFIG' });
  one.dispose();
});
