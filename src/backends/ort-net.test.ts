/**
 * @file The onnxruntime engine (ort-net.ts, ort-train-graph.ts) against the tfjs engine for every
 * unit (dense, conv 'same' and 'valid', max-pool with odd sizes, ReLU, flatten), with soft and hard
 * targets; one Adam step against JsAdam; the weight round trip and predictions; determinism of a
 * whole fit at 1 and 2 threads. Finite differences for every engine: test/conformance/training-engines.test.ts.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { inputs, referenceSpecs as specs, shuffler, specWeights, targets } from '../../test/helpers/net-reference.js';
import { OrtNet } from './ort-net.js';
import { JsAdam } from './tfjs-adam.js';
import { TfNet, initTfjs } from './tfjs.js';

function maxRel(a: Float32Array, b: Float32Array | Float64Array): number {
  assert.equal(a.length, b.length);
  const scale = Math.max(1e-3, ...Array.from(b, Math.abs));
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m / scale;
}

for (const [name, spec] of specs) {
  for (const soft of [false, true]) {
    test(`${name}, ${soft ? 'soft' : 'hard'} targets: onnxruntime gradients match the tfjs engine`, async () => {
      const n = 5;
      const x = inputs(spec, n, 21);
      const t = targets(spec, n, soft, 22);
      const net = new OrtNet(spec);
      const got = await net.gradients(x, t, n);
      net.dispose();
      await initTfjs();
      const tf = new TfNet(spec);
      const want = tf.gradients(x, t, n);
      tf.dispose();
      assert.ok(Math.abs(got.loss - want.loss) < 1e-5, `loss ${got.loss} vs tfjs ${want.loss}`);
      got.grads.forEach((g, k) => {
        assert.ok(maxRel(g, want.grads[k]) < 1e-4, `param ${k}: ${maxRel(g, want.grads[k])} from tfjs`);
      });
    });
  }
}

test('one onnxruntime training step is one Adam step (JsAdam) on the same gradients', async () => {
  const spec = specs[0][1];
  const n = 7;
  const x = inputs(spec, n, 8);
  const t = targets(spec, n, true, 9);
  const net = new OrtNet(spec);
  const { grads } = await net.gradients(x, t, n);
  await net.fit(x, t, n, { epochs: 1, batchSize: n, learningRate: 0.01, shuffle: () => undefined });
  const after = net.readWeights();
  net.dispose();
  const w = specWeights(spec).map((v) => Float32Array.from(v));
  const adam = new JsAdam(
    w.map((v) => v.length),
    { learningRate: 0.01 },
  );
  adam.beginStep();
  w.forEach((v, k) => {
    adam.update(k, v, grads[k]);
  });
  after.forEach((v, k) => {
    assert.ok(maxRel(v, w[k]) < 1e-5, `param ${k}: ${maxRel(v, w[k])} from JsAdam`);
  });
});

test('weights round-trip through the runtime layout, and predictions match the tfjs engine', async () => {
  const spec = specs[1][1];
  const net = new OrtNet(spec);
  specWeights(spec).forEach((w, k) => {
    assert.deepEqual(net.readWeights()[k], w);
  });
  const n = 9;
  const x = inputs(spec, n, 10);
  const ours = await net.predictProbs(x, n, 4);
  net.dispose();
  await initTfjs();
  const tf = new TfNet(spec);
  const theirs = tf.predictProbs(x, n);
  tf.dispose();
  assert.ok(maxRel(ours, theirs) < 1e-5, `probabilities differ by ${maxRel(ours, theirs)}`);
});

test('the same seed gives bit-identical weights after a fit (shuffle, augmentation and the runtime)', async () => {
  const spec = specs[1][1];
  const n = 40;
  const x = inputs(spec, n, 12);
  const t = targets(spec, n, false, 13);
  const run = async (threads: number): Promise<Float32Array[]> => {
    const net = new OrtNet(spec, { threads });
    await net.fit(x, t, n, {
      epochs: 3,
      batchSize: 16,
      learningRate: 0.003,
      schedule: 'cosine',
      shuffle: shuffler(14),
    });
    const w = net.readWeights();
    net.dispose();
    return w;
  };
  for (const threads of [1, 2]) {
    const a = await run(threads);
    const b = await run(threads);
    a.forEach((w, k) => {
      assert.deepEqual(w, b[k], `${threads} thread(s), param ${k}`);
    });
  }
});

test('training leaves the JS thread computing with denormals (no flush-to-zero leaks from onnxruntime)', async () => {
  const tiny = [1e-310];
  const spec = specs[2][1];
  const net = new OrtNet(spec);
  const n = 4;
  const d = spec.inputShape.reduce((a, b) => a * b, 1);
  await net.fit(new Float32Array(n * d).fill(0.5), targets(spec, n, false, 3), n, {
    epochs: 2,
    batchSize: 2,
    learningRate: 0.01,
    shuffle: () => undefined,
  });
  await net.predictProbs(new Float32Array(n * d), n);
  net.dispose();
  assert.notEqual(tiny[0] * 1.5, 0, 'a denormal double survives arithmetic');
  assert.notEqual(Math.fround(1e-40) * 2, 0, 'a denormal float survives arithmetic');
});
