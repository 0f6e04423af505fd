/**
 * @file Every registered training engine through the engine conformance suite: its gradients match
 * central finite differences of a float64 forward pass, for every unit (dense, conv 'same' and
 * 'valid', max-pool with odd sizes, ReLU, flatten) and both losses (one-hot and soft targets), and
 * so do its gradients with respect to the inputs; a fit
 * lowers the loss and the same seed gives bit-identical weights; predictions match the exported
 * ONNX file run by onnxruntime.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { loadOnnxModel } from '../../src/backends/onnx-model.js';
import { createTrainNet, trainEngines } from '../../src/backends/train-engines.js';
import { tensor } from '../../src/core/tensor.js';
import { type LayerSpec, withWeights } from '../../src/models/network-spec.js';
import { networkToOnnx } from '../../src/backends/onnx-writer.js';
import { inputs, loss64, referenceSpecs, shuffler, specWeights, targets } from '../helpers/net-reference.js';

for (const entry of trainEngines.entries()) {
  for (const [name, spec] of referenceSpecs) {
    for (const soft of [false, true]) {
      test(`engine ${entry.name}, ${name}, ${soft ? 'soft' : 'hard'} targets: gradients match finite differences`, async () => {
        const n = 5;
        const x = inputs(spec, n, 21);
        const t = targets(spec, n, soft, 22);
        const net = await entry.create({}, { spec, threads: 1 });
        const got = await net.gradients(x, t, n);
        net.dispose();
        const params = specWeights(spec).map((w) => Float64Array.from(w));
        const ref = loss64(spec, params, x, t, n);
        assert.ok(Math.abs(got.loss - ref) < 1e-5, `loss ${got.loss} vs float64 ${ref}`);
        const h = 1e-6; // float64: small enough that no ReLU or pooling kink lies within h
        params.forEach((p, k) => {
          const picks = Array.from({ length: Math.min(6, p.length) }, (_, i) => Math.floor((i * p.length) / 6));
          for (const i of picks) {
            const keep = p[i];
            p[i] = keep + h;
            const up = loss64(spec, params, x, t, n);
            p[i] = keep - h;
            const down = loss64(spec, params, x, t, n);
            p[i] = keep;
            const fd = (up - down) / (2 * h);
            assert.ok(
              Math.abs(got.grads[k][i] - fd) < 2e-4 + 1e-3 * Math.abs(fd),
              `param ${k}[${i}]: ${got.grads[k][i]} vs finite difference ${fd}`,
            );
          }
        });
      });
    }
  }

  for (const [name, spec] of referenceSpecs) {
    test(`engine ${entry.name}, ${name}: input gradients match finite differences`, async () => {
      const n = 3;
      const x = inputs(spec, n, 41);
      const t = targets(spec, n, true, 42);
      const net = await entry.create({}, { spec, threads: 1 });
      const got = await net.inputGradients(x, t, n);
      net.dispose();
      assert.equal(got.length, x.length);
      const params = specWeights(spec).map((w) => Float64Array.from(w));
      const x64 = Float64Array.from(x);
      const h = 1e-6;
      const picks = Array.from({ length: 12 }, (_, i) => Math.floor((i * x.length) / 12));
      for (const i of picks) {
        const keep = x64[i];
        x64[i] = keep + h;
        const up = loss64(spec, params, x64, t, n);
        x64[i] = keep - h;
        const down = loss64(spec, params, x64, t, n);
        x64[i] = keep;
        // loss64 is the mean over the rows; each row's gradient is of its own loss.
        const fd = (n * (up - down)) / (2 * h);
        assert.ok(Math.abs(got[i] - fd) < 2e-4 + 1e-3 * Math.abs(fd), `x[${i}]: ${got[i]} vs finite difference ${fd}`);
      }
    });
  }

  test(`engine ${entry.name}: a fit lowers the loss, the same seed gives the same weights, predictions match the ONNX export`, async () => {
    const spec = referenceSpecs[0][1];
    const n = 48;
    const x = inputs(spec, n, 31);
    const t = targets(spec, n, false, 32);
    const fitOnce = async (): Promise<{
      weights: Float32Array[];
      before: number;
      after: number;
      probs: Float32Array;
      layers: LayerSpec[];
    }> => {
      const net = await entry.create({}, { spec, threads: 1 });
      const before = (await net.gradients(x, t, n)).loss;
      await net.fit(x, t, n, {
        epochs: 60,
        batchSize: 16,
        learningRate: 0.01,
        schedule: 'cosine',
        shuffle: shuffler(33),
      });
      const after = (await net.gradients(x, t, n)).loss;
      const probs = await net.predictProbs(x, n);
      const weights = net.readWeights();
      net.dispose();
      const layers = withWeights(spec.layers, weights);
      return { weights, before, after, probs, layers };
    };
    const a = await fitOnce();
    const b = await fitOnce();
    assert.ok(a.after < a.before * 0.8, `loss ${a.before} -> ${a.after}`);
    a.weights.forEach((w, k) => {
      assert.deepEqual(w, b.weights[k], `param ${k} differs between two runs with the same seed`);
    });
    const onnx = await loadOnnxModel(
      networkToOnnx({ ...spec, layers: a.layers }, { name: `conformance-${entry.name}`, domain: { min: 0, max: 1 } }),
    );
    const ref = await onnx.predict(tensor(x, [n, ...spec.inputShape]));
    await onnx.close();
    let worst = 0;
    for (let i = 0; i < a.probs.length; i++) worst = Math.max(worst, Math.abs(a.probs[i] - ref.scores!.data[i]));
    assert.ok(worst < 1e-5, `predictions differ from the ONNX export by ${worst}`);
  });

  test(`engine ${entry.name}: a fit split across 2 worker threads matches the one-thread fit and repeats exactly, or is refused`, async () => {
    const spec = referenceSpecs[0][1];
    // 41 rows in batches of 16: slices of 8 + 8 and, in the last batch, 5 + 4.
    const n = 41;
    const x = inputs(spec, n, 51);
    const t = targets(spec, n, true, 52);
    const fit = async (workers: number, epochs: number): Promise<Float32Array[]> => {
      const net = await createTrainNet(spec, entry.name, 1, workers);
      try {
        await net.fit(x, t, n, { epochs, batchSize: 16, learningRate: 0.01, shuffle: shuffler(53) });
        return net.readWeights();
      } finally {
        net.dispose();
      }
    };
    if (!entry.dataParallel) {
      await assert.rejects(fit(2, 2), (e: { code?: string }) => e.code === 'HEIST_ERR_BAD_CONFIG');
      return;
    }
    const split = await fit(2, 2);
    const alone = await fit(1, 2);
    const again = await fit(2, 2);
    split.forEach((w, k) => {
      assert.deepEqual(w, again[k], `param ${k} differs between two split runs with the same seed`);
      let worst = 0;
      for (let i = 0; i < w.length; i++) worst = Math.max(worst, Math.abs(w[i] - alone[k][i]));
      // Six Adam steps of at most lr each; a split changes only the order of float additions.
      assert.ok(worst < 1e-4, `param ${k}: split and one-thread fits differ by ${worst}`);
    });
  });
}
