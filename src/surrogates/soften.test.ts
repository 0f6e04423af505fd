/** @file Soft targets at a temperature: p^(1/T) renormalised, floored at a top-to-runner-up ratio, exact where it can underflow, and used by fit. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { isHeistError } from '../core/errors.js';
import { createRng } from '../core/rng.js';
import { tensor } from '../core/tensor.js';
import { SOFTEN_MIN_TOP_RATIO, soften } from './create.js';
import { specWeights } from '../models/network-spec.js';
import { createSurrogate } from './index.js';

test('soften raises each probability to 1/T and renormalises the row', () => {
  const t = Float32Array.of(0.9, 0.06, 0.04, 0, 0.25, 0.25, 0.25, 0.25);
  soften(t, 2, 4, 2);
  const r = [Math.sqrt(0.9), Math.sqrt(0.06), Math.sqrt(0.04)];
  const s = r[0] + r[1] + r[2];
  for (const [j, v] of r.entries()) assert.ok(Math.abs(t[j] - v / s) < 1e-6, `${t[j]} vs ${v / s}`);
  assert.equal(t[3], 0, 'a zero stays zero');
  for (let j = 4; j < 8; j++) assert.ok(Math.abs(t[j] - 0.25) < 1e-7, 'a uniform row stays uniform');
});

test('soften stops where the top class would fall below SOFTEN_MIN_TOP_RATIO times the runner-up, and leaves closer rows as bought', () => {
  const t = Float32Array.of(0.9, 0.05, 0.05, 0.4, 0.35, 0.25, 1, 0, 0);
  soften(t, 3, 3, 4);
  // The first row is softened at T = ln(0.9 / 0.05) / ln(ratio) (2.63 for a ratio of 3), not 4, and
  // its top is then exactly that ratio times the runner-up.
  const rowT = Math.log(18) / Math.log(SOFTEN_MIN_TOP_RATIO);
  assert.ok(rowT > 1 && rowT < 4, `${rowT}`);
  assert.ok(Math.abs(t[0] / t[1] - SOFTEN_MIN_TOP_RATIO) < 1e-5, `${t[0] / t[1]}`);
  const r = [0.9 ** (1 / rowT), 0.05 ** (1 / rowT), 0.05 ** (1 / rowT)];
  const s = r[0] + r[1] + r[2];
  for (const [j, v] of r.entries()) assert.ok(Math.abs(t[j] - v / s) < 1e-6);
  assert.deepEqual([...t.subarray(3, 6)], [...Float32Array.of(0.4, 0.35, 0.25)], 'an unsure row is left as bought');
  assert.deepEqual([...t.subarray(6, 9)], [1, 0, 0], 'a one-hot row stays one-hot');
});

test('a temperature below 1 sharpens every row', () => {
  const t = Float32Array.of(0.4, 0.35, 0.25);
  soften(t, 1, 3, 0.5);
  const r = [0.16, 0.1225, 0.0625];
  const s = r[0] + r[1] + r[2];
  for (const [j, v] of r.entries()) assert.ok(Math.abs(t[j] - v / s) < 1e-6);
});

test('soften keeps probabilities far below float32 range apart (no underflow to a tie)', () => {
  const t = Float32Array.of(1, 1e-38, 1e-44);
  soften(t, 1, 3, 8);
  // log ratios divided by 8: (ln 1e-38) / 8 = -10.9 and (ln 1e-44) / 8 = -12.7.
  assert.ok(t[1] > t[2] && t[2] > 0, `${t}`);
  assert.ok(Math.abs(Math.log(t[1] / t[0]) - Math.log(1e-38) / 8) < 0.1);
});

test('soften refuses a temperature that is not a positive number', () => {
  for (const bad of [0, -1, Number.NaN, Number.POSITIVE_INFINITY])
    assert.throws(
      () => soften(new Float32Array(2).fill(0.5), 1, 2, bad),
      (e: unknown) => isHeistError(e) && e.code === 'HEIST_ERR_BAD_CONFIG',
    );
});

test('a soft fit trains towards the softened targets: T = 1 is the plain fit, T = 4 another', async () => {
  const rng = createRng(4);
  const n = 48;
  const x = Float32Array.from({ length: n * 6 }, () => rng.next());
  const soft = new Float32Array(n * 3);
  for (let i = 0; i < n; i++) soft.set(i % 2 ? [0.9, 0.09, 0.01] : [0.02, 0.18, 0.8], i * 3);
  const data = { x: tensor(x, [n, 6]), labels: new Int32Array(n), soft: tensor(soft, [n, 3]) };
  const weightsAfter = async (temperature?: number) => {
    const s = await createSurrogate('mlp', { inputShape: [6], classes: 3 }, createRng(1));
    await s.fit(data, { loss: 'soft', epochs: 3, batchSize: 16, learningRate: 1e-2, rng: createRng(2), temperature });
    const w = specWeights(s.toSpec().layers).flatMap((a) => [...a]);
    s.dispose();
    return w;
  };
  const plain = await weightsAfter();
  assert.deepEqual(await weightsAfter(1), plain);
  const hot = await weightsAfter(4);
  assert.ok(
    hot.some((v, i) => Math.abs(v - plain[i]) > 1e-4),
    'T = 4 changes what the fit learns',
  );
});
