/** @file ReLU-network extraction (CI-sized): precision against float64 logits, fidelity from float32 logits and probabilities, refusals and bounds. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { networkToOnnx } from '../../../backends/onnx-writer.js';
import { isHeistError } from '../../../core/errors.js';
import { probsPrediction } from '../../../core/prediction.js';
import { createRng } from '../../../core/rng.js';
import { softmaxRows, tensor } from '../../../core/tensor.js';
import { denseReluPredictor, randomDenseRelu } from '../../../models/dense-relu.js';
import { localOracle } from '../../../oracle/local.js';
import { getExtractor, listExtractors } from '../index.js';
import {
  alignNetworks,
  createReluCryptanalytic,
  createReluJagielski,
  extractedNetwork,
  reluCryptanalytic,
  reluJagielski,
} from './index.js';

const agreement = (a: Int32Array, b: Int32Array) => a.filter((v, i) => v === b[i]).length / a.length;

test('relu-cryptanalytic: 16-8-4 from float64 logits to better than 2^-20 (permutation and scale aligned)', async () => {
  const truth = randomDenseRelu(createRng(7), [16, 8, 4]);
  const r = await reluCryptanalytic.extract(localOracle(denseReluPredictor(truth)), {
    rng: createRng(5),
    budget: 50_000,
  });
  const a = alignNetworks(truth, extractedNetwork(r)!.net);
  assert.ok(a.maxRelError <= 2 ** -20, `max relative weight error 2^${a.bits.toFixed(1)}`);
  assert.ok(r.queriesUsed < 20_000, `${r.queriesUsed} queries`);
  assert.equal(r.diagnostics!.answersFloat64, 1);
  const spec = extractedNetwork(r)!.spec;
  assert.ok(networkToOnnx(spec, { name: 'x', domain: { min: 0, max: 1 } }).length > 0, 'ONNX-exportable');
});

test('relu-cryptanalytic: two hidden layers (16-8-8-1 and 10-10-10-1, as in Carlini et al.) from float64 logits to better than 2^-20', async () => {
  for (const [sizes, seed] of [
    [[16, 8, 8, 1], 7],
    [[10, 10, 10, 1], 9],
  ] as const) {
    const truth = randomDenseRelu(createRng(seed), sizes);
    const r = await createReluCryptanalytic({ hidden: sizes.slice(1, -1) }).extract(
      localOracle(denseReluPredictor(truth)),
      { rng: createRng(5), budget: 100_000 },
    );
    const a = alignNetworks(truth, extractedNetwork(r)!.net);
    assert.equal(r.diagnostics!.hiddenLayers, 2);
    assert.ok(
      a.maxRelError <= 2 ** -20,
      `${sizes.join('-')}: max relative weight error 2^${a.bits.toFixed(1)} (layers ${a.layerErrors.map((e) => e.toExponential(1))})`,
    );
    assert.ok(r.queriesUsed < 50_000, `${r.queriesUsed} queries`);
  }
});

test('relu-jagielski: 64-8-10 from float32 logits and from probabilities: fidelity 1 on uniform inputs', async () => {
  const truth = randomDenseRelu(createRng(8), [64, 8, 10]);
  const t = denseReluPredictor(truth, { precision: 'float32' });
  const rng = createRng(3);
  const u = tensor(
    Float32Array.from({ length: 3000 * 64 }, () => rng.next()),
    [3000, 64],
  );
  const r = await reluJagielski.extract(localOracle(t), { rng: createRng(1), budget: 50_000 });
  assert.ok(agreement(t.predict(u).labels, (await r.model.predict(u)).labels) >= 0.999);
  assert.equal(r.diagnostics!.answersFloat64, 0);
  const probs = localOracle({
    info: { ...t.info, output: 'probs' },
    predict: (x) => probsPrediction(softmaxRows(t.predict(x).scores!)),
  });
  const rp = await reluJagielski.extract(probs, { rng: createRng(2), budget: 50_000 });
  assert.ok(agreement(t.predict(u).labels, (await rp.model.predict(u)).labels) >= 0.999);
});

test('bounded: too small a budget, a deeper target, label-only answers end in a HeistError', async () => {
  const truth = randomDenseRelu(createRng(7), [16, 8, 4]);
  await assert.rejects(
    reluCryptanalytic.extract(localOracle(denseReluPredictor(truth)), { rng: createRng(5), budget: 300 }),
    (e: unknown) => isHeistError(e, 'HEIST_ERR_BUDGET_EXHAUSTED'),
  );
  await assert.rejects(
    createReluJagielski({ hidden: [20] }).extract(localOracle(denseReluPredictor(truth)), {
      rng: createRng(5),
      budget: 100_000,
    }),
    (e: unknown) => isHeistError(e),
  );
  const deep = randomDenseRelu(createRng(9), [10, 10, 10, 1]);
  await assert.rejects(
    createReluJagielski({ maxLines: 12 }).extract(localOracle(denseReluPredictor(deep)), {
      rng: createRng(5),
      budget: 100_000,
    }),
    (e: unknown) => isHeistError(e),
  );
  const p = denseReluPredictor(truth);
  const labels = localOracle({ info: { ...p.info, output: 'label' }, predict: (x) => p.predict(x) });
  await assert.rejects(reluJagielski.extract(labels, { rng: createRng(5) }), (e: unknown) =>
    isHeistError(e, 'HEIST_ERR_REQUIREMENTS'),
  );
  await assert.rejects(
    createReluCryptanalytic({ hidden: [8, 8, 8] }).extract(localOracle(p), { rng: createRng(5) }),
    (e: unknown) => isHeistError(e, 'HEIST_ERR_BAD_CONFIG'),
  );
});

test('registered with their papers', () => {
  assert.equal(getExtractor('relu-jagielski').name, 'relu-jagielski');
  assert.ok(listExtractors().some((m) => m.name === 'relu-cryptanalytic' && /arXiv:2003\.04884/.test(m.paper)));
});
