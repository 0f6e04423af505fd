/** @file Equation-solving extraction against plain-TS softmax regressions (no ONNX, no HTTP): exactness, underflow, refusals. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { isHeistError } from '../../../core/errors.js';
import { type ModelInfo, type Prediction, type Predictor, probsPrediction } from '../../../core/prediction.js';
import { createRng } from '../../../core/rng.js';
import { type Tensor, rowCount, softmaxRows, tensor } from '../../../core/tensor.js';
import { type LinearModel, linearModel, randomLinearModel } from '../../../models/linear.js';
import { localOracle } from '../../../oracle/local.js';
import type { Oracle } from '../../../oracle/types.js';
import { designRows } from '../solvers/design-rows.js';
import { equationSolving } from './equation-solving.js';
import { checkExtractor, getExtractor, listExtractors } from '../index.js';

/** An oracle that counts the rows it answers. */
function counting(p: Predictor): Oracle & { rows: number; calls: number } {
  const inner = localOracle(p);
  const o = {
    info: inner.info,
    rows: 0,
    calls: 0,
    async query(x: Tensor): Promise<Prediction> {
      o.rows += rowCount(x);
      o.calls++;
      return inner.query(x);
    },
  };
  return o;
}

/** max |(w_c - w_0) - extracted_c| over weights and biases. */
function maxWeightError(
  truth: LinearModel,
  w: { weights: Float64Array; bias: Float64Array },
  d: number,
  k: number,
): number {
  let worst = 0;
  for (let c = 0; c < k; c++) {
    for (let j = 0; j < d; j++)
      worst = Math.max(worst, Math.abs(w.weights[j * k + c] - (truth.weights[j * k + c] - truth.weights[j * k])));
    worst = Math.max(worst, Math.abs(w.bias[c] - (truth.bias[c] - truth.bias[0])));
  }
  return worst;
}

async function agreementOnUniform(a: Predictor, b: Predictor, n: number, seed: number): Promise<number> {
  const d = a.info.inputShape.reduce((x, y) => x * y, 1);
  const x = tensor(designRows(a.info, n, 'uniform', createRng(seed)), [n, d]);
  const la = (await a.predict(x)).labels;
  const lb = (await b.predict(x)).labels;
  return la.filter((v, i) => v === lb[i]).length / n;
}

for (const [d, k] of [
  [30, 2],
  [12, 5],
  [64, 10],
] as const) {
  test(`d = ${d}, k = ${k}: d + 1 = ${d + 1} answers recover W and b up to the softmax shift`, async () => {
    const truth = randomLinearModel(createRng(d * k), d, k, { scale: 1 });
    const oracle = counting(truth);
    const r = await equationSolving.extract(oracle, { rng: createRng(1) });
    assert.equal(r.queriesUsed, d + 1);
    assert.equal(oracle.rows, d + 1, 'exactly d + 1 paid rows');
    assert.equal(oracle.calls, 1, 'one batch');
    assert.equal(r.weights!.referenceClass, 0);
    const err = maxWeightError(truth, r.weights!, d, k);
    assert.ok(err < 1e-4, `max weight error ${err}`);
    assert.ok(
      err <= 4 * r.diagnostics!.weightErrorBound,
      `error ${err} vs float32 bound ${r.diagnostics!.weightErrorBound}`,
    );
    assert.equal(await agreementOnUniform(truth, r.model, 5000, 9), 1);
  });
}

test('logits answers are solved directly (no logarithm)', async () => {
  const truth = randomLinearModel(createRng(4), 8, 3, { scale: 2 });
  const info: ModelInfo = { ...truth.info, output: 'logits' };
  const logitsModel: Predictor = {
    info,
    predict: (x) => ({ kind: 'logits', labels: (truth.predict(x) as Prediction).labels, scores: truth.logits(x) }),
  };
  const r = await equationSolving.extract(localOracle(logitsModel), { rng: createRng(2) });
  assert.ok(maxWeightError(truth, r.weights!, 8, 3) < 1e-4);
  assert.equal(checkExtractor(equationSolving, info), 9);
});

test('more rows than d + 1: least squares averages float32 rounding and reports a residual', async () => {
  const truth = randomLinearModel(createRng(5), 20, 4);
  const r = await equationSolving.extract(localOracle(truth), { rng: createRng(3), budget: 105 });
  assert.equal(r.queriesUsed, 105);
  assert.ok(r.diagnostics!.residualRms < 1e-6, `residual ${r.diagnostics!.residualRms}`);
  assert.ok(r.diagnostics!.weightStdError! > 0);
  assert.ok(maxWeightError(truth, r.weights!, 20, 4) < 1e-5);
  assert.ok(r.notes.some((n) => /overdetermined/.test(n)));
});

test('the basis design: the corner of the domain, then one edge per feature', () => {
  const info: ModelInfo = { name: 'm', inputShape: [3], classes: 2, output: 'probs', domain: { min: -1, max: 2 } };
  const x = designRows(info, 5, 'basis', createRng(0));
  assert.deepEqual(Array.from(x.subarray(0, 12)), [-1, -1, -1, 2, -1, -1, -1, 2, -1, -1, -1, 2]);
  assert.ok(Array.from(x.subarray(12)).every((v) => v >= -1 && v <= 2));
});

test('probabilities that underflow float32 are dropped while enough rows remain, else clipped and reported', async () => {
  // z_2 - z_0 = -300 x_0: class 2 underflows to 0 wherever x_0 > ~0.3.
  const truth = linearModel({
    weights: [
      [0, 1, -300],
      [0, -2, 1],
    ],
    bias: [0, 0.5, 0],
  });
  const many = await equationSolving.extract(localOracle(truth), { rng: createRng(7), budget: 40 });
  assert.ok(many.diagnostics!.droppedEquations > 0, 'some equations dropped');
  assert.equal(many.diagnostics!.clippedEquations, 0);
  assert.ok(maxWeightError(truth, many.weights!, 2, 3) < 1e-3, 'still exact from the rows that remain');
  assert.ok(many.notes.some((n) => /dropped/.test(n)));
  assert.equal(await agreementOnUniform(truth, many.model, 5000, 1), 1);

  const few = await equationSolving.extract(localOracle(truth), { rng: createRng(7), design: 'basis' });
  assert.equal(
    few.diagnostics!.clippedEquations,
    1,
    'row (1, 0) gives p_2 = 0: clipped, not dropped, since only d + 1 rows exist',
  );
  assert.ok(few.notes.some((n) => /clipped/.test(n)));
  assert.equal(few.diagnostics!.weightErrorBound, undefined, 'no float32 bound for a clipped fit');
  assert.ok(
    few.weights!.weights[2] > -300 && few.weights!.weights[2] < -80,
    'the clipped equation under-states the true -300',
  );
});

test('a nonlinear target leaves a residual far above float32 noise, and the notes say so', async () => {
  const info: ModelInfo = {
    name: 'quadratic',
    inputShape: [4],
    classes: 3,
    output: 'probs',
    domain: { min: 0, max: 1 },
  };
  const quad: Predictor = {
    info,
    predict: (x) => {
      const n = rowCount(x);
      const z = new Float32Array(n * 3);
      for (let i = 0; i < n; i++)
        for (let c = 0; c < 3; c++)
          for (let j = 0; j < 4; j++) z[i * 3 + c] += (c + 1) * (j - 1.5) * x.data[i * 4 + j] ** 2;
      return probsPrediction(softmaxRows({ data: z, shape: [n, 3] }));
    },
  };
  const r = await equationSolving.extract(localOracle(quad), { rng: createRng(1), budget: 30 });
  assert.ok(r.diagnostics!.residualRms > 1e-3);
  assert.ok(r.notes.some((n) => /does not behave like a softmax regression/.test(n)));
});

test('refusals: label-only targets, too small a budget, unknown methods', async () => {
  const labelOnly = randomLinearModel(createRng(1), 4, 3, { output: 'label' });
  assert.throws(
    () => checkExtractor(equationSolving, labelOnly.info),
    (e: unknown) => isHeistError(e, 'HEIST_ERR_REQUIREMENTS'),
  );
  // A target that declares probabilities but answers labels is refused when the answer arrives.
  const liar = localOracle({ info: { ...labelOnly.info, output: 'probs' }, predict: (x) => labelOnly.predict(x) });
  await assert.rejects(equationSolving.extract(liar, { rng: createRng(1) }), (e: unknown) =>
    isHeistError(e, 'HEIST_ERR_REQUIREMENTS'),
  );
  const probs = randomLinearModel(createRng(1), 4, 3);
  assert.equal(checkExtractor(equationSolving, probs.info), 5, 'default budget: d + 1');
  assert.throws(
    () => checkExtractor(equationSolving, probs.info, 4),
    (e: unknown) => isHeistError(e, 'HEIST_ERR_BAD_CONFIG'),
  );
  await assert.rejects(equationSolving.extract(localOracle(probs), { rng: createRng(1), budget: 4 }), (e: unknown) =>
    isHeistError(e, 'HEIST_ERR_BAD_CONFIG'),
  );
  assert.throws(
    () => getExtractor('svm-paths'),
    (e: unknown) => isHeistError(e, 'HEIST_ERR_BAD_CONFIG'),
  );
  assert.equal(getExtractor('equation-solving'), equationSolving);
  assert.ok(listExtractors().some((m) => m.name === 'equation-solving' && /arXiv:1609\.02943/.test(m.paper)));
});
