/**
 * @file loadOnnxModel on Heist-written files and on foreign, PyTorch-style files (NCHW, Gemm
 * transB=1, raw logits, no metadata), checked against the plain-TS reference; shape handling,
 * chunking, the output-kind rule, overrides and bad files.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { makePytorchStyleOnnx, nhwcToNchw } from '../../test/fixtures/make-pytorch-style-onnx.js';
import { cnnSpec, mlpSpec, randomRows } from '../../test/fixtures/random-network-specs.js';
import { OnnxGraphBuilder } from './onnx-graph.js';
import { networkToOnnx } from './onnx-writer.js';
import { isHeistError } from '../core/errors.js';
import type { Prediction } from '../core/prediction.js';
import { createRng } from '../core/rng.js';
import { type Tensor, tensor } from '../core/tensor.js';
import { forwardRow } from '../models/network.js';
import type { NetworkSpec } from '../models/network-spec.js';
import { graphOutputKind, loadOnnxModel } from './onnx-model.js';

const meta = { name: 'm', domain: { min: 0, max: 1 } };
const bad = (code: 'HEIST_ERR_BAD_MODEL' | 'HEIST_ERR_SHAPE' | 'HEIST_ERR_BAD_CONFIG') => (e: unknown) =>
  isHeistError(e, code);

/** Max |p - reference| over all rows; `nhwc` holds the same rows in the spec's NHWC layout. */
function diffToReference(p: Prediction, spec: NetworkSpec, nhwc: Tensor): number {
  const size = nhwc.data.length / nhwc.shape[0];
  let worst = 0;
  for (let r = 0; r < nhwc.shape[0]; r++) {
    const ref = forwardRow(spec, nhwc.data.subarray(r * size, (r + 1) * size));
    for (let k = 0; k < spec.classes; k++)
      worst = Math.max(worst, Math.abs(p.scores!.data[r * spec.classes + k] - ref[k]));
  }
  return worst;
}

test('Heist-written CNN: info from metadata, flat and shaped rows, matches the reference', async () => {
  const spec = cnnSpec(createRng(31));
  const names = Array.from({ length: 10 }, (_, i) => `digit-${i}`);
  const m = await loadOnnxModel(networkToOnnx(spec, { name: 'cnn', classNames: names, domain: { min: -1, max: 1 } }));
  assert.deepEqual(m.info, {
    name: 'cnn',
    inputShape: [28, 28, 1],
    classes: 10,
    classNames: names,
    output: 'probs',
    domain: { min: -1, max: 1 },
  });
  assert.equal(m.graphOutput, 'probs');
  const x = randomRows(createRng(32), 20, [28, 28, 1]);
  const shaped = await m.predict(x);
  const flat = await m.predict(tensor(x.data, [20, 784]));
  assert.equal(shaped.kind, 'probs');
  assert.deepEqual(flat.scores?.data, shaped.scores?.data);
  assert.ok(diffToReference(shaped, spec, x) <= 1e-5);
  await assert.rejects(async () => m.predict(tensor(new Float32Array(783), [1, 783])), bad('HEIST_ERR_SHAPE'));
  await assert.rejects(async () => m.predict(tensor(new Float32Array(784), [1, 14, 56])), bad('HEIST_ERR_SHAPE'));
  await assert.rejects(async () => m.predict(tensor(new Float32Array(784), [784])), bad('HEIST_ERR_SHAPE'));
  const empty = await m.predict(tensor(new Float32Array(0), [0, 784]));
  assert.deepEqual(empty.scores?.shape, [0, 10]);
  await m.close();
});

test('foreign PyTorch-style CNN (NCHW [N,1,28,28], logits, no metadata) matches the reference', async () => {
  const spec = cnnSpec(createRng(33));
  const m = await loadOnnxModel(makePytorchStyleOnnx(spec));
  assert.deepEqual(m.info, {
    name: 'onnx-model',
    inputShape: [1, 28, 28],
    classes: 10,
    output: 'probs',
    domain: { min: 0, max: 1 },
  });
  assert.equal(m.graphOutput, 'logits');
  const x = randomRows(createRng(34), 24, [28, 28, 1]);
  // One channel: NHWC [28,28,1] rows are byte-identical to NCHW [1,28,28]; both shapes are accepted.
  const p = await m.predict(x);
  assert.ok(diffToReference(p, spec, x) <= 1e-5);
  assert.deepEqual((await m.predict(tensor(x.data, [24, 1, 28, 28]))).scores?.data, p.scores?.data);
  assert.deepEqual((await m.predict(tensor(x.data, [24, 784]))).scores?.data, p.scores?.data);
  await m.close();
});

test('foreign 3-channel CNN: NCHW rows, CHW flatten order, matches the reference', async () => {
  const spec = cnnSpec(createRng(35), [8, 12, 3], 5, [4, 6, 7]);
  const m = await loadOnnxModel(
    makePytorchStyleOnnx(spec, { inputName: 'images', outputName: 'scores', head: 'logsoftmax' }),
  );
  assert.deepEqual(m.info.inputShape, [3, 8, 12]);
  assert.equal(m.graphOutput, 'logprobs');
  const x = randomRows(createRng(36), 9, [8, 12, 3]);
  const p = await m.predict(tensor(nhwcToNchw(x.data, 9, 8, 12, 3), [9, 3, 8, 12]));
  assert.ok(diffToReference(p, spec, x) <= 1e-5);
  // [8, 12, 3] rows do not fit a [3, 8, 12] model (different layout, same size).
  await assert.rejects(async () => m.predict(x), bad('HEIST_ERR_SHAPE'));
  await m.close();
});

test('foreign MLP with flat input, fixed batch 1 and weights listed as inputs: padded chunks', async () => {
  const spec = mlpSpec(createRng(37), 784, [32], 10);
  const bytes = makePytorchStyleOnnx(spec, { fixedBatch: 1, initializersAsInputs: true, head: 'softmax' });
  const m = await loadOnnxModel(bytes, {
    name: 'torch-mlp',
    inputShape: [28, 28, 1],
    classNames: Array.from({ length: 10 }, String),
  });
  assert.equal(m.info.name, 'torch-mlp');
  assert.deepEqual(m.info.inputShape, [28, 28, 1]);
  assert.equal(m.graphOutput, 'probs');
  const x = randomRows(createRng(38), 7, [28, 28, 1]);
  const p = await m.predict(x);
  assert.ok(diffToReference(p, spec, x) <= 1e-5);
  await m.close();
  const fixed3 = await loadOnnxModel(makePytorchStyleOnnx(spec, { fixedBatch: 3 }));
  assert.ok(diffToReference(await fixed3.predict(tensor(x.data, [7, 784])), spec, x) <= 1e-5);
  await fixed3.close();
});

test('chunked and concurrent predictions equal one big batch', async () => {
  const spec = mlpSpec(createRng(39), 64, [32], 10);
  const bytes = networkToOnnx(spec, meta);
  const [whole, chunked] = await Promise.all([loadOnnxModel(bytes), loadOnnxModel(bytes, { batchSize: 7 })]);
  const x = randomRows(createRng(40), 100, [64]);
  const ref = await whole.predict(x);
  assert.ok(diffToReference(ref, spec, x) <= 1e-5);
  const parts = await Promise.all([chunked.predict(x), chunked.predict(x), whole.predict(x)]);
  for (const p of parts) assert.deepEqual(p.scores?.data, ref.scores?.data);
  await Promise.all([whole.close(), chunked.close()]);
});

test('output override: label-only and logits answers', async () => {
  const spec = mlpSpec(createRng(41), 16, [8], 4);
  const bytes = networkToOnnx(spec, meta);
  const x = randomRows(createRng(42), 10, [16]);
  const probs = await loadOnnxModel(bytes);
  const labels = await loadOnnxModel(bytes, { output: 'label' });
  const logits = await loadOnnxModel(bytes, { output: 'logits' });
  const p = await probs.predict(x);
  const l = await labels.predict(x);
  const z = await logits.predict(x);
  assert.equal(labels.info.output, 'label');
  assert.equal(l.kind, 'label');
  assert.equal(l.scores, undefined);
  assert.deepEqual(l.labels, p.labels);
  assert.equal(z.kind, 'logits');
  assert.deepEqual(z.labels, p.labels);
  await Promise.all([probs.close(), labels.close(), logits.close()]);
  await assert.rejects(loadOnnxModel(bytes, { output: 'topk' }), bad('HEIST_ERR_BAD_CONFIG'));
  await assert.rejects(loadOnnxModel(bytes, { inputShape: [5, 3] }), bad('HEIST_ERR_BAD_CONFIG'));
});

test('graphOutputKind: metadata first, then the last op', () => {
  assert.equal(graphOutputKind({ 'heist.output': 'logits' }, 'Softmax'), 'logits');
  assert.equal(graphOutputKind({}, 'Softmax'), 'probs');
  assert.equal(graphOutputKind({}, 'LogSoftmax'), 'logprobs');
  assert.equal(graphOutputKind({}, 'Gemm'), 'logits');
  assert.equal(graphOutputKind({}, ''), 'logits');
});

function twoOutputModel(): Uint8Array {
  const g = new OnnxGraphBuilder('two');
  g.input('x', ['n', 4]);
  g.node('Relu', ['x'], ['a']);
  g.node('Softmax', ['x'], ['b'], { axis: { i: 1 } });
  g.output('a', ['n', 4]);
  g.output('b', ['n', 4]);
  return g.encode();
}

function identityModel(dims: (number | string)[], outDims: (number | string)[]): Uint8Array {
  const g = new OnnxGraphBuilder('id');
  g.input('x', dims);
  g.node('Identity', ['x'], ['y']);
  g.output('y', outDims);
  return g.encode();
}

test('files that are not single-input, single-2D-output classifiers -> HEIST_ERR_BAD_MODEL', async () => {
  const cases: Uint8Array[] = [
    new TextEncoder().encode('definitely not onnx'),
    twoOutputModel(),
    identityModel(['n', 2, 3], ['n', 2, 3]), // 3-D output
    identityModel(['n', 1], ['n', 1]), // one column
    identityModel([4], [4]), // no batch dimension
  ];
  for (const bytes of cases) await assert.rejects(loadOnnxModel(bytes), bad('HEIST_ERR_BAD_MODEL'));
  await assert.rejects(loadOnnxModel('/no/such/file.onnx'), bad('HEIST_ERR_BAD_MODEL'));
  const broken = networkToOnnx(mlpSpec(createRng(43), 8, [4], 3), meta);
  await assert.rejects(loadOnnxModel(broken.slice(0, broken.length - 40)), bad('HEIST_ERR_BAD_MODEL'));
});
