/** @file Label smoothing of hard targets (FitOptions.labelSmoothing): 0 is the plain fit, more changes what is learnt, outside [0, 1) is refused. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { isHeistError } from '../core/errors.js';
import { createRng } from '../core/rng.js';
import { tensor } from '../core/tensor.js';
import { specWeights } from '../models/network-spec.js';
import { createSurrogate } from './index.js';

const n = 48;
const rng = createRng(5);
const data = {
  x: tensor(
    Float32Array.from({ length: n * 6 }, () => rng.next()),
    [n, 6],
  ),
  labels: Int32Array.from({ length: n }, (_, i) => i % 3),
};

async function fitWith(labelSmoothing?: number) {
  const s = await createSurrogate('mlp', { inputShape: [6], classes: 3 }, createRng(1));
  try {
    await s.fit(data, {
      loss: 'hard',
      epochs: 20,
      batchSize: 16,
      learningRate: 1e-2,
      rng: createRng(2),
      labelSmoothing,
    });
    const probs = (await s.predict(data.x)).scores!.data;
    return { weights: specWeights(s.toSpec().layers).flatMap((a) => [...a]), probs };
  } finally {
    s.dispose();
  }
}

test('label smoothing 0 is the plain hard fit; 0.2 trains towards less confident targets', async () => {
  const plain = await fitWith();
  assert.deepEqual((await fitWith(0)).weights, plain.weights);
  const smooth = await fitWith(0.2);
  assert.ok(
    smooth.weights.some((v, i) => Math.abs(v - plain.weights[i]) > 1e-4),
    'smoothing changes what the fit learns',
  );
  const meanTop = (p: ArrayLike<number>) => {
    let s = 0;
    for (let i = 0; i < n; i++) s += Math.max(p[i * 3], p[i * 3 + 1], p[i * 3 + 2]);
    return s / n;
  };
  assert.ok(meanTop(smooth.probs) < meanTop(plain.probs), `${meanTop(smooth.probs)} vs ${meanTop(plain.probs)}`);
});

test('a hard fit refuses label smoothing outside [0, 1)', async () => {
  for (const bad of [1, -0.1, Number.NaN])
    await assert.rejects(fitWith(bad), (e: unknown) => isHeistError(e) && e.code === 'HEIST_ERR_BAD_CONFIG');
});
