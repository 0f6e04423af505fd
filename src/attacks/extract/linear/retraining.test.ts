/** @file Label-only retraining on small plain-TS softmax regressions: labels only, boundary projection, round sizes, adaptive beats uniform. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { type Prediction, type Predictor, probsPrediction } from '../../../core/prediction.js';
import { createRng } from '../../../core/rng.js';
import { type Tensor, rowCount, tensor } from '../../../core/tensor.js';
import { linearModel, randomLinearModel } from '../../../models/linear.js';
import { localOracle } from '../../../oracle/local.js';
import { designRows } from '../solvers/design-rows.js';
import { checkExtractor, getExtractor } from '../index.js';
import { adaptiveRounds, projectToBoundary, retrainingAdaptive, retrainingUniform } from './retraining.js';
import { sparseRows } from '../solvers/sparse-rows.js';

async function uniformAgreement(a: Predictor, b: Predictor, n = 5000): Promise<number> {
  const x = tensor(designRows(a.info, n, 'uniform', createRng(77)), [n, a.info.inputShape[0]]);
  const la = (await a.predict(x)).labels;
  const lb = (await b.predict(x)).labels;
  return la.filter((v, i) => v === lb[i]).length / n;
}

test('projectToBoundary: a row lands on the boundary between its two most likely classes', () => {
  // Two features, three classes: z = x W + b.
  const W = [
    [2, -1, 0],
    [0, 1, -3],
  ];
  const theta = Float64Array.from([...W.flat(), 0.1, 0, 0.2]);
  const x = Float32Array.from([0.9, 0.2, 0.3, 0.7]);
  projectToBoundary(x, 2, 2, 3, theta, { min: -10, max: 10 }, 5);
  for (let i = 0; i < 2; i++) {
    const z = [0, 1, 2].map((c) => theta[6 + c] + x[i * 2] * W[0][c] + x[i * 2 + 1] * W[1][c]).sort((p, q) => q - p);
    assert.ok(Math.abs(z[0] - z[1]) < 1e-5, `row ${i}: top two logits tie (${z})`);
  }
  const clipped = Float32Array.from([0.9, 0.2]);
  projectToBoundary(clipped, 1, 2, 3, theta, { min: 0, max: 1 });
  assert.ok(
    Array.from(clipped).every((v) => v >= 0 && v <= 1),
    'clipped to the domain',
  );
});

test('adaptive round sizes: a uniform first round, then doubling, summing to the budget', () => {
  assert.deepEqual(adaptiveRounds(650, 64, 10, 0.1), [130, 130, 260, 130]);
  for (const n of [130, 3250, 65_000])
    assert.equal(
      adaptiveRounds(n, 64, 10, 0.1).reduce((a, b) => a + b, 0),
      n,
    );
  assert.deepEqual(adaptiveRounds(65_000, 64, 10, 0.1).slice(0, 3), [1300, 1300, 2600]);
});

test('sparse rows stay in the domain and do not repeat', () => {
  const x = sparseRows({ inputShape: [16], domain: { min: -1, max: 2 } }, 500, createRng(3));
  assert.ok(x.every((v) => v >= -1 && v <= 2));
  const keys = new Set(Array.from({ length: 500 }, (_, i) => x.subarray(i * 16, (i + 1) * 16).join(',')));
  assert.equal(keys.size, 500);
});

test('labels only: a label-only target is accepted, and scores (if any) are never used', async () => {
  const truth = randomLinearModel(createRng(8), 6, 3, { scale: 3 });
  const labelOnly = linearModel({ weights: truth.weights, bias: truth.bias, output: 'label' });
  assert.equal(checkExtractor(retrainingAdaptive, labelOnly.info), 3 * 7, 'default budget k (d + 1)');
  assert.equal(getExtractor('retraining-uniform').name, retrainingUniform.name);
  // Same labels, garbage probabilities: identical extraction.
  const garbage: Predictor = {
    info: truth.info,
    predict: (x: Tensor): Prediction => ({
      ...probsPrediction(tensor(new Float32Array(rowCount(x) * 3).fill(1 / 3), [rowCount(x), 3])),
      labels: (truth.predict(x) as Prediction).labels,
    }),
  };
  for (const ex of [retrainingUniform, retrainingAdaptive]) {
    const a = await ex.extract(localOracle(labelOnly), { budget: 200, rng: createRng(1) });
    const b = await ex.extract(localOracle(garbage), { budget: 200, rng: createRng(1) });
    assert.deepEqual(a.weights!.weights, b.weights!.weights, ex.name);
    assert.equal(a.queriesUsed, 200);
  }
});

test('adaptive retraining beats uniform at equal budgets, and converges towards the target', async (t) => {
  const truth = randomLinearModel(createRng(21), 10, 4, { scale: 4 });
  const target = linearModel({ weights: truth.weights, bias: truth.bias, output: 'label' });
  const unknowns = 4 * 11;
  const seen: Record<string, number> = {};
  for (const m of [3, 10]) {
    for (const ex of [retrainingUniform, retrainingAdaptive]) {
      const r = await ex.extract(localOracle(target), { budget: m * unknowns, rng: createRng(m) });
      seen[`${ex.name}@${m}`] = await uniformAgreement(truth, r.model);
    }
    t.diagnostic(`m = ${m}: uniform ${seen[`retraining-uniform@${m}`]}, adaptive ${seen[`retraining-adaptive@${m}`]}`);
    assert.ok(seen[`retraining-adaptive@${m}`] > seen[`retraining-uniform@${m}`], `m = ${m}: adaptive beats uniform`);
  }
  assert.ok(seen['retraining-adaptive@10'] > 0.98, `adaptive at 10x: ${seen['retraining-adaptive@10']}`);
});
