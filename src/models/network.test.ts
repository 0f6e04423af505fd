/** @file Plain-TS forward pass: hand-checked layers, validation and row-shape errors. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { isHeistError } from '../core/errors.js';
import type { ModelInfo } from '../core/prediction.js';
import { tensor } from '../core/tensor.js';
import { forwardRow, networkPredictor, validateNetworkSpec } from './network.js';
import type { NetworkSpec } from './network-spec.js';

const info = (spec: NetworkSpec): ModelInfo => ({
  name: 't',
  inputShape: spec.inputShape,
  classes: spec.classes,
  output: 'probs',
  domain: { min: 0, max: 1 },
});
const close = (a: ArrayLike<number>, b: ArrayLike<number>, eps = 1e-9): void => {
  assert.equal(a.length, b.length);
  for (let i = 0; i < a.length; i++) assert.ok(Math.abs(a[i] - b[i]) <= eps, `index ${i}: ${a[i]} vs ${b[i]}`);
};

test('dense + softmax matches a hand computation', () => {
  // kernel [in=2, out=2]: column o holds weights for output o.
  const spec: NetworkSpec = {
    inputShape: [2],
    classes: 2,
    layers: [
      {
        type: 'dense',
        inputs: 2,
        units: 2,
        kernel: Float32Array.from([1, 2, 3, 4]),
        bias: Float32Array.from([0.5, -0.5]),
      },
      { type: 'softmax' },
    ],
  };
  const z = [1 * 1 + 2 * 3 + 0.5, 1 * 2 + 2 * 4 - 0.5];
  const e = z.map((v) => Math.exp(v - Math.max(...z)));
  const s = e[0] + e[1];
  close(forwardRow(spec, [1, 2]), [e[0] / s, e[1] / s], 1e-12);
});

test('a spec without a final softmax still yields probabilities', () => {
  const spec: NetworkSpec = { inputShape: [2], classes: 2, layers: [{ type: 'relu' }] };
  const p = forwardRow(spec, [0, Math.log(3)]);
  close(p, [0.25, 0.75], 1e-12);
});

test('conv2d same padding (3x3 and 2x2), relu and maxpool on NHWC data', () => {
  // 3x3 single-channel image, all-ones 3x3 kernel: each output = sum of its in-bounds neighbourhood.
  const img = [1, 2, 3, 4, 5, 6, 7, 8, 9];
  const conv = (k: number): NetworkSpec => ({
    inputShape: [3, 3, 1],
    classes: 9,
    layers: [
      {
        type: 'conv2d',
        kernelSize: [k, k],
        inChannels: 1,
        filters: 1,
        padding: 'same',
        kernel: new Float32Array(k * k).fill(1),
        bias: new Float32Array(1),
      },
    ],
  });
  // Undo the softmax the predictor adds: log p - log p[0] recovers logits up to a constant.
  const logits = (spec: NetworkSpec): number[] => {
    const p = forwardRow(spec, img);
    return Array.from(p, (v) => Math.log(v) - Math.log(p[0]));
  };
  const s3 = [12, 21, 16, 27, 45, 33, 24, 39, 28];
  close(
    logits(conv(3)),
    s3.map((v) => v - s3[0]),
    1e-9,
  );
  // 2x2 'same' pads at the bottom/right (TF convention): out[y][x] = sum img[y..y+1][x..x+1].
  const s2 = [12, 16, 9, 24, 28, 15, 15, 17, 9];
  close(
    logits(conv(2)),
    s2.map((v) => v - s2[0]),
    1e-9,
  );

  const pool: NetworkSpec = {
    inputShape: [4, 4, 1],
    classes: 4,
    layers: [{ type: 'maxpool2d', size: 2 }, { type: 'flatten' }],
  };
  const q = forwardRow(pool, [1, 2, 0, 0, 3, 4, 0, 9, -1, -2, 5, 5, -3, -4, 5, 6]);
  const ql = Array.from(q, (v) => Math.log(v) - Math.log(q[0]));
  close(ql, [0, 5, -5, 2], 1e-9);
});

test('validateNetworkSpec rejects inconsistent specs with HEIST_ERR_BAD_MODEL', () => {
  const bad: NetworkSpec[] = [
    {
      inputShape: [3],
      classes: 2,
      layers: [{ type: 'dense', inputs: 4, units: 2, kernel: new Float32Array(8), bias: new Float32Array(2) }],
    },
    {
      inputShape: [2],
      classes: 2,
      layers: [{ type: 'dense', inputs: 2, units: 2, kernel: new Float32Array(3), bias: new Float32Array(2) }],
    },
    { inputShape: [4], classes: 2, layers: [{ type: 'maxpool2d', size: 2 }] },
    { inputShape: [2], classes: 3, layers: [] },
    { inputShape: [0], classes: 0, layers: [] },
  ];
  for (const spec of bad)
    assert.throws(
      () => validateNetworkSpec(spec),
      (e) => isHeistError(e, 'HEIST_ERR_BAD_MODEL'),
    );
});

test('networkPredictor: batches, flat or shaped rows, HEIST_ERR_SHAPE on wrong row length', async () => {
  const spec: NetworkSpec = { inputShape: [2, 2, 1], classes: 4, layers: [{ type: 'flatten' }] };
  const p = networkPredictor(spec, info(spec));
  const flat = await p.predict(tensor([0, 0, 0, 1, 1, 0, 0, 0], [2, 4]));
  const shaped = await p.predict(tensor([0, 0, 0, 1, 1, 0, 0, 0], [2, 2, 2, 1]));
  assert.deepEqual(Array.from(flat.labels), [3, 0]);
  assert.deepEqual(flat.scores?.data, shaped.scores?.data);
  assert.equal(flat.kind, 'probs');
  assert.throws(
    () => p.predict(tensor([1, 2, 3], [1, 3])),
    (e) => isHeistError(e, 'HEIST_ERR_SHAPE'),
  );
  assert.throws(
    () => networkPredictor(spec, { ...info(spec), classes: 3 }),
    (e) => isHeistError(e, 'HEIST_ERR_BAD_MODEL'),
  );
});
