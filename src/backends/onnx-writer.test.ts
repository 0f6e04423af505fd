/**
 * @file ONNX writer vs the plain-TS reference: seeded softmax regression, MLP and CNN (plus odd conv
 * shapes) written to ONNX, run with onnxruntime, compared to network.ts (max |dp| <= 1e-5).
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  cnnSpec,
  mlpSpec,
  randomConv,
  randomDense,
  randomRows,
  softmaxRegressionSpec,
} from '../../test/fixtures/random-network-specs.js';
import { isHeistError } from '../core/errors.js';
import { createRng } from '../core/rng.js';
import { forwardRow } from '../models/network.js';
import type { NetworkSpec } from '../models/network-spec.js';
import { loadOnnxSession } from './onnx.js';
import { readOnnxSummary } from './onnx-graph.js';
import { HEIST_META, ONNX_INPUT_NAME, ONNX_OUTPUT_NAME, networkToOnnx } from './onnx-writer.js';

const meta = { name: 'm', domain: { min: 0, max: 1 } };

async function maxDiff(spec: NetworkSpec, seed: number, rows = 32): Promise<number> {
  const rng = createRng(seed);
  const session = await loadOnnxSession(networkToOnnx(spec, meta));
  try {
    const x = randomRows(rng, rows, spec.inputShape);
    const out = await session.run(x.data, x.shape);
    assert.deepEqual(out.dims, [rows, spec.classes]);
    const size = x.data.length / rows;
    let worst = 0;
    for (let r = 0; r < rows; r++) {
      const ref = forwardRow(spec, x.data.subarray(r * size, (r + 1) * size));
      let sum = 0;
      for (let k = 0; k < spec.classes; k++) {
        worst = Math.max(worst, Math.abs(out.data[r * spec.classes + k] - ref[k]));
        sum += out.data[r * spec.classes + k];
      }
      assert.ok(Math.abs(sum - 1) < 1e-5, `row ${r} sums to ${sum}`);
    }
    return worst;
  } finally {
    await session.close();
  }
}

test('(a) softmax regression 64->10 matches the reference', async () => {
  assert.ok((await maxDiff(softmaxRegressionSpec(createRng(11)), 1)) <= 1e-5);
});

test('(b) MLP 64-32-10 ReLU matches the reference', async () => {
  assert.ok((await maxDiff(mlpSpec(createRng(12)), 2)) <= 1e-5);
});

test('(c) CNN on [28, 28, 1] matches the reference', async () => {
  const spec = cnnSpec(createRng(13));
  const d = await maxDiff(spec, 3, 16);
  assert.ok(d <= 1e-5, `max diff ${d}`);
});

test('multi-channel, non-square, odd sizes, even and valid kernels keep NHWC semantics', async () => {
  const rng = createRng(14);
  const conv = (cin: number, f: number, k: number, padding: 'same' | 'valid'): NetworkSpec['layers'][number] => {
    const l = randomConv(rng, cin, f, k, padding);
    return l.type === 'conv2d' ? { ...l, kernelSize: [k, k] } : l;
  };
  // [9, 7, 3] -> conv2x2 same (9,7,4) -> pool2 (4,3,4) -> conv3x3 valid (2,1,5) -> flatten 10 -> dense 6.
  const spec: NetworkSpec = {
    inputShape: [9, 7, 3],
    classes: 6,
    layers: [
      conv(3, 4, 2, 'same'),
      { type: 'relu' },
      { type: 'maxpool2d', size: 2 },
      conv(4, 5, 3, 'valid'),
      { type: 'flatten' },
      randomDense(rng, 10, 6),
    ],
  };
  assert.ok((await maxDiff(spec, 4, 8)) <= 1e-5);
  // A dense net on an image-shaped row (implicit row-major flatten) and a spec without softmax.
  const img: NetworkSpec = { inputShape: [4, 4, 2], classes: 3, layers: [randomDense(rng, 32, 3)] };
  assert.ok((await maxDiff(img, 5, 8)) <= 1e-5);
});

test('graph I/O and metadata round trip', async () => {
  const spec = cnnSpec(createRng(15), [12, 12, 1], 3, [2, 3, 4]);
  const bytes = networkToOnnx(spec, {
    name: 'digits',
    classNames: ['a', 'b', 'c'],
    domain: { min: -1, max: 1 },
    producer: 'heist-test',
  });
  const s = readOnnxSummary(bytes);
  assert.equal(s.opset, 13);
  assert.equal(s.irVersion, 8);
  assert.equal(s.producer, 'heist-test');
  assert.equal(s.metadata[HEIST_META.name], 'digits');
  assert.deepEqual(JSON.parse(s.metadata[HEIST_META.inputShape]), [12, 12, 1]);
  assert.deepEqual(JSON.parse(s.metadata[HEIST_META.classNames]), ['a', 'b', 'c']);
  assert.deepEqual(JSON.parse(s.metadata[HEIST_META.domain]), { min: -1, max: 1 });
  assert.equal(s.metadata[HEIST_META.output], 'probs');
  assert.deepEqual(s.inputs, [{ name: ONNX_INPUT_NAME, elemType: 1, dims: ['batch', 12, 12, 1] }]);
  assert.deepEqual(s.outputs, [{ name: ONNX_OUTPUT_NAME, elemType: 1, dims: ['batch', 3] }]);
  assert.equal(s.outputOps[ONNX_OUTPUT_NAME], 'Softmax');
  const session = await loadOnnxSession(bytes);
  assert.deepEqual(session.inputs, [{ name: 'input', type: 'float32', shape: ['batch', 12, 12, 1] }]);
  assert.deepEqual(session.outputs, [{ name: 'probabilities', type: 'float32', shape: ['batch', 3] }]);
  assert.equal(session.metadata[HEIST_META.name], 'digits');
  await session.close();
});

test('writer rejects inconsistent specs and class names with HEIST_ERR_BAD_MODEL', () => {
  const rng = createRng(16);
  const bad: NetworkSpec[] = [
    { inputShape: [5], classes: 2, layers: [randomDense(rng, 4, 2)] },
    { inputShape: [8], classes: 2, layers: [randomConv(rng, 1, 2, 3)] },
    { inputShape: [4, 4, 2], classes: 2, layers: [randomConv(rng, 1, 2, 3)] },
    { inputShape: [4], classes: 3, layers: [] },
  ];
  for (const spec of bad)
    assert.throws(
      () => networkToOnnx(spec, meta),
      (e) => isHeistError(e, 'HEIST_ERR_BAD_MODEL'),
    );
  const ok = softmaxRegressionSpec(rng, 4, 2);
  assert.throws(
    () => networkToOnnx(ok, { ...meta, classNames: ['x'] }),
    (e) => isHeistError(e, 'HEIST_ERR_BAD_MODEL'),
  );
});
