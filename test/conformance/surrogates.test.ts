/**
 * @file Every registered surrogate architecture through the surrogate conformance suite, alone and
 * as an ensemble of 3 (`--ensemble`, surrogates/ensemble.ts): a fit lowers the training loss, and
 * the exported ONNX file (networkToOnnx, read back by onnxruntime) predicts what the surrogate
 * predicts.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { loadOnnxModel } from '../../src/backends/onnx-model.js';
import { networkToOnnx } from '../../src/backends/onnx-writer.js';
import { createRng } from '../../src/core/rng.js';
import { type Tensor, tensor } from '../../src/core/tensor.js';
import { createSurrogate, surrogates } from '../../src/surrogates/index.js';
import type { Surrogate, TrainingSet } from '../../src/surrogates/types.js';

const classes = 3;

/** Rows whose class decides which third of the features is bright. */
function data(shape: readonly number[], n: number): TrainingSet {
  const rng = createRng(4);
  const d = shape.reduce((a, b) => a * b, 1);
  const x = new Float32Array(n * d);
  const labels = Int32Array.from({ length: n }, () => rng.int(classes));
  for (let i = 0; i < n; i++)
    for (let j = 0; j < d; j++)
      x[i * d + j] = 0.3 * rng.next() + (Math.floor((j * classes) / d) === labels[i] ? 0.6 : 0);
  return { x: tensor(x, [n, ...shape]), labels };
}

async function crossEntropy(s: Surrogate, set: TrainingSet): Promise<number> {
  const p = await s.predict(set.x);
  let loss = 0;
  for (let i = 0; i < set.labels.length; i++)
    loss -= Math.log(Math.max(1e-12, p.scores!.data[i * classes + set.labels[i]]));
  return loss / set.labels.length;
}

for (const entry of surrogates.entries())
  for (const members of [1, 3]) {
    const what = members === 1 ? entry.name : `${entry.name} x ${members}`;
    test(`surrogate ${what} conforms: fit lowers the loss, and the ONNX round trip predicts the same`, async () => {
      const shape = entry.exampleShape;
      assert.equal(entry.unsuitable(shape), undefined, 'its example shape suits it');
      const options = surrogates.parseOptions(entry, entry.example ?? {});
      const s =
        members === 1
          ? await entry.create(options, { inputShape: shape, classes, rng: createRng(1) })
          : await createSurrogate(
              entry.name,
              { ...(options as object), inputShape: shape, classes, members },
              createRng(1),
            );
      const set = data(shape, 96);
      const before = await crossEntropy(s, set);
      const report = await s.fit(set, {
        loss: 'hard',
        epochs: 8,
        batchSize: entry.fit.batchSize,
        learningRate: entry.fit.learningRate * 3,
        rng: createRng(2),
      });
      const after = await crossEntropy(s, set);
      assert.ok(after < before * 0.9, `${what}: loss ${before.toFixed(4)} -> ${after.toFixed(4)}`);
      assert.equal(report.samplesSeen, 8 * 96 * members);

      const probe: Tensor = data(shape, 17).x;
      const ours = await s.predict(probe);
      const onnx = await loadOnnxModel(
        networkToOnnx(s.toSpec(), { name: `conformance-${entry.name}`, domain: { min: 0, max: 1 } }),
      );
      const theirs = await onnx.predict(probe);
      await onnx.close();
      assert.deepEqual(Array.from(theirs.labels), Array.from(ours.labels));
      let maxDiff = 0;
      for (let i = 0; i < ours.scores!.data.length; i++)
        maxDiff = Math.max(maxDiff, Math.abs(ours.scores!.data[i] - theirs.scores!.data[i]));
      assert.ok(maxDiff < 1e-5, `${what}: max |dp| ${maxDiff}`);
      s.dispose();
    });
  }
