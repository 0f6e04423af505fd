/** @file Float64 dense ReLU oracle: logits, the float64 side channel, the float32 variant, spec round trip. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { createRng } from '../core/rng.js';
import { tensor } from '../core/tensor.js';
import { localOracle } from '../oracle/local.js';
import {
  type LogitsPrediction,
  denseReluFromSpec,
  denseReluPredictor,
  denseReluToSpec,
  forwardLogits,
  randomDenseRelu,
} from './dense-relu.js';
import { networkPredictor } from './network.js';

test('answers logits (float64 alongside), float32 variant only rounds them; spec round trip keeps the function', async () => {
  const net = randomDenseRelu(createRng(1), [5, 4, 3]);
  const x = tensor([0.1, 0.2, 0.3, 0.4, 0.5, 1, 0, 1, 0, 1], [2, 5]);
  const exact = (await localOracle(denseReluPredictor(net)).query(x)) as LogitsPrediction;
  assert.equal(exact.kind, 'logits');
  assert.deepEqual(Array.from(exact.logits64!.subarray(0, 3)), Array.from(forwardLogits(net, x.data.subarray(0, 5))));
  const f32 = denseReluPredictor(net, { precision: 'float32' }).predict(x);
  assert.equal(f32.logits64, undefined);
  assert.deepEqual(Array.from(f32.scores!.data), Array.from(Float32Array.from(exact.logits64!)));
  const spec = denseReluToSpec(net);
  const probs = await networkPredictor(spec, {
    name: 'n',
    inputShape: [5],
    classes: 3,
    output: 'probs',
    domain: { min: 0, max: 1 },
  }).predict(x);
  assert.deepEqual(Array.from(probs.labels), Array.from(exact.labels));
  const back = denseReluFromSpec(spec);
  assert.ok(Math.abs(forwardLogits(back, [0.1, 0.2, 0.3, 0.4, 0.5])[1] - exact.logits64![1]) < 1e-5);
});
