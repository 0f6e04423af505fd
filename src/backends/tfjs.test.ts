/**
 * @file The wasm shims (hand-written backward passes) against tfjs autograd on the pure-JS 'cpu'
 * backend, op by op and for a whole CNN / MLP; plus the JS Adam against the textbook formula.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-cpu';
import { createRng } from '../core/rng.js';
import { initWeights } from '../surrogates/create.js';
import { cnnSpec } from '../surrogates/cnn.js';
import { mlpSpec } from '../surrogates/mlp.js';
import type { LayerSpec, NetworkSpec } from '../models/network-spec.js';
import { JsAdam } from './tfjs-adam.js';
import * as ops from './tfjs-ops.js';
import { TfNet, initTfjs, tfjsBackend } from './tfjs.js';

const rng = createRng(7);
const randn = (n: number): Float32Array => Float32Array.from({ length: n }, () => rng.normal());
type Shape = number[];
type Arr = { d: Float32Array; s: Shape };
const arr = (...s: Shape): Arr => ({ d: randn(s.reduce((a, b) => a * b, 1)), s });

/** Runs f on a backend with fresh tensors of the given arrays; returns the outputs as arrays. */
async function on(
  backend: 'wasm' | 'cpu',
  inputs: Arr[],
  f: (...t: tf.Tensor[]) => tf.Tensor[],
): Promise<Float32Array[]> {
  await initTfjs();
  await tf.setBackend(backend);
  try {
    return tf.tidy(() =>
      f(...inputs.map((a) => tf.tensor(a.d, a.s))).map((t) => Float32Array.from(t.dataSync() as Float32Array)),
    );
  } finally {
    await tf.setBackend('wasm');
  }
}

function maxDiff(a: Float32Array, b: Float32Array): number {
  assert.equal(a.length, b.length);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}

function close(got: Float32Array[], want: Float32Array[], tol = 1e-4): void {
  assert.equal(got.length, want.length);
  got.forEach((g, i) => {
    const scale = Math.max(1, ...Array.from(want[i], Math.abs));
    assert.ok(maxDiff(g, want[i]) <= tol * scale, `output ${i}: max diff ${maxDiff(g, want[i])} (scale ${scale})`);
  });
}

test('initTfjs selects the wasm backend and is idempotent', async () => {
  await initTfjs();
  await initTfjs();
  assert.equal(tfjsBackend(), 'wasm');
});

for (const [name, xs, ws, pad] of [
  ['1 input channel, same', [2, 6, 5, 1], [3, 3, 1, 4], 'same'],
  ['3 input channels, same', [2, 6, 6, 3], [3, 3, 3, 5], 'same'],
  ['3 input channels, valid', [2, 7, 6, 3], [3, 3, 3, 2], 'valid'],
  ['5x5 kernel, same', [1, 8, 8, 2], [5, 5, 2, 3], 'same'],
] as const) {
  test(`conv2d shims match cpu autograd (${name})`, async () => {
    const x = arr(...xs);
    const w = arr(...ws);
    const [n, h, wd] = xs;
    const oh = pad === 'same' ? h : h - ws[0] + 1;
    const ow = pad === 'same' ? wd : wd - ws[1] + 1;
    const dy = arr(n, oh, ow, ws[3]);
    const got = await on('wasm', [x, w, dy], (xt, wt, dyt) => [
      ops.conv2dBackpropFilter(xt as tf.Tensor4D, dyt as tf.Tensor4D, ws[0], ws[1], pad),
      ops.conv2dBackpropInput(dyt as tf.Tensor4D, wt as tf.Tensor4D, pad),
      ops.conv2dBiasGrad(dyt as tf.Tensor4D),
    ]);
    const want = await on('cpu', [x, w, dy], (xt, wt, dyt) => {
      const b = tf.zeros([ws[3]]);
      const g = tf.grads((a, k, c) =>
        tf.sum(tf.mul(tf.add(tf.conv2d(a as tf.Tensor4D, k as tf.Tensor4D, 1, pad), c), dyt)),
      );
      const [dx, dw, db] = g([xt, wt, b]);
      return [dw, dx, db];
    });
    close(got, want);
  });
}

for (const xs of [
  [2, 6, 8, 3],
  [2, 7, 5, 2],
]) {
  test(`maxPoolBackward matches cpu MaxPoolGrad on [${xs}]`, async () => {
    const x = arr(...xs);
    const dy = arr(xs[0], Math.floor(xs[1] / 2), Math.floor(xs[2] / 2), xs[3]);
    const got = await on('wasm', [x, dy], (xt, dyt) => [
      ops.maxPoolBackward(xt as tf.Tensor4D, ops.maxPoolForward(xt as tf.Tensor4D, 2), dyt as tf.Tensor4D, 2),
    ]);
    const want = await on('cpu', [x, dy], (xt, dyt) => [
      tf.grad((a) => tf.sum(tf.mul(tf.maxPool(a as tf.Tensor4D, 2, 2, 'valid'), dyt)))(xt),
    ]);
    close(got, want);
    assert.ok(Array.from(want[0]).some((v) => v === 0) && Array.from(want[0]).some((v) => v !== 0));
  });
}

test('denseBackward, reluBackward and softmaxCrossEntropy match cpu autograd', async () => {
  const x = arr(5, 7);
  const w = arr(7, 4);
  const b = arr(4);
  const dy = arr(5, 4);
  const t = { d: Float32Array.from({ length: 20 }, (_, i) => (i % 4 === i % 3 ? 0.5 : 0.25)), s: [5, 4] };
  for (let r = 0; r < 5; r++) {
    const row = t.d.subarray(r * 4, r * 4 + 4);
    const s = row.reduce((a, v) => a + v, 0);
    row.forEach((v, i) => {
      row[i] = v / s;
    });
  }
  const got = await on('wasm', [x, w, b, dy, t], (xt, wt, bt, dyt, tt) => {
    const y = ops.denseForward(xt as tf.Tensor2D, wt as tf.Tensor2D, bt as tf.Tensor1D, true);
    const g = ops.denseBackward(xt as tf.Tensor2D, wt as tf.Tensor2D, ops.reluBackward(y, dyt as tf.Tensor2D), true);
    const ce = ops.softmaxCrossEntropy(dyt as tf.Tensor2D, tt as tf.Tensor2D);
    return [y, g.dx!, g.dw, g.db, ce.loss, ce.dlogits];
  });
  const want = await on('cpu', [x, w, b, dy, t], (xt, wt, bt, dyt, tt) => {
    const f = (a: tf.Tensor, k: tf.Tensor, c: tf.Tensor): tf.Tensor =>
      tf.relu(tf.add(tf.matMul(a as tf.Tensor2D, k as tf.Tensor2D), c));
    const [dx, dw, db] = tf.grads((a, k, c) => tf.sum(tf.mul(f(a, k, c), dyt)))([xt, wt, bt]);
    const loss = (z: tf.Tensor): tf.Scalar => tf.div(tf.neg(tf.sum(tf.mul(tt, tf.logSoftmax(z)))), 5) as tf.Scalar;
    return [f(xt, wt, bt), dx, dw, db, loss(dyt), tf.grad(loss)(dyt)];
  });
  close(got, want);
});

/** The spec's network as plain tfjs ops (original layer order), for cpu autograd. */
function reference(spec: NetworkSpec, x: tf.Tensor, params: tf.Tensor[]): tf.Tensor2D {
  let h = tf.reshape(x, [-1, ...spec.inputShape]);
  let k = 0;
  for (const l of spec.layers as LayerSpec[]) {
    if (l.type === 'dense') h = tf.add(tf.matMul(h as tf.Tensor2D, params[k++] as tf.Tensor2D), params[k++]);
    else if (l.type === 'conv2d')
      h = tf.add(tf.conv2d(h as tf.Tensor4D, params[k++] as tf.Tensor4D, 1, l.padding), params[k++]);
    else if (l.type === 'relu') h = tf.relu(h);
    else if (l.type === 'maxpool2d') h = tf.maxPool(h as tf.Tensor4D, l.size, l.size, 'valid');
    else if (l.type === 'flatten') h = tf.reshape(h, [h.shape[0], -1]);
  }
  return h as tf.Tensor2D;
}

for (const [name, spec] of [
  ['cnn', initWeights(cnnSpec({ inputShape: [12, 12, 2], classes: 5 }), createRng(3))],
  ['mlp', initWeights(mlpSpec({ inputShape: [20], classes: 3, hidden: [16, 8] }), createRng(4))],
] as const) {
  test(`whole ${name}: TfNet gradients on wasm match cpu autograd`, async () => {
    const n = 6;
    const d = spec.inputShape.reduce((a, b) => a * b, 1);
    const x = randn(n * d);
    const t = new Float32Array(n * spec.classes);
    for (let i = 0; i < n; i++) t[i * spec.classes + (i % spec.classes)] = 1;
    await initTfjs();
    const net = new TfNet(spec);
    const got = net.gradients(x, t, n);
    net.dispose();
    const params = spec.layers.flatMap((l) => (l.type === 'dense' || l.type === 'conv2d' ? [l] : []));
    const shapes = params.flatMap((l) =>
      l.type === 'dense'
        ? [[l.inputs, l.units], [l.units]]
        : l.type === 'conv2d'
          ? [[...l.kernelSize, l.inChannels, l.filters], [l.filters]]
          : [],
    );
    const values = params.flatMap((l) => (l.type === 'dense' || l.type === 'conv2d' ? [l.kernel, l.bias] : []));
    const want = await on(
      'cpu',
      [{ d: x, s: [n, d] }, { d: t, s: [n, spec.classes] }, ...values.map((v, i) => ({ d: v, s: shapes[i] }))],
      (xt, tt, ...ps) => {
        const loss = (...qs: tf.Tensor[]): tf.Scalar =>
          tf.div(tf.neg(tf.sum(tf.mul(tt, tf.logSoftmax(reference(spec, xt, qs))))), n) as tf.Scalar;
        const { value, grads } = tf.valueAndGrads(loss)(ps);
        return [value, ...grads];
      },
    );
    assert.ok(Math.abs(got.loss - want[0][0]) < 1e-4, `loss ${got.loss} vs ${want[0][0]}`);
    close(got.grads, want.slice(1));
  });
}

test('JsAdam follows the bias-corrected Adam update', () => {
  const w = Float32Array.from([1, -2]);
  const adam = new JsAdam([2], { learningRate: 0.1, epsilon: 1e-8 });
  const grads = [Float32Array.from([0.5, -1]), Float32Array.from([0.2, 3])];
  const m = [0, 0];
  const v = [0, 0];
  const want = [1, -2];
  grads.forEach((g, step) => {
    adam.beginStep();
    adam.update(0, w, g);
    for (let i = 0; i < 2; i++) {
      m[i] = 0.9 * m[i] + 0.1 * g[i];
      v[i] = 0.999 * v[i] + 0.001 * g[i] * g[i];
      const mh = m[i] / (1 - 0.9 ** (step + 1));
      const vh = v[i] / (1 - 0.999 ** (step + 1));
      want[i] -= (0.1 * mh) / (Math.sqrt(vh) + 1e-8);
    }
  });
  assert.ok(maxDiff(w, Float32Array.from(want)) < 1e-6, `${Array.from(w)} vs ${want}`);
});

test('JsAdam stores moments that decay under 2^-100 as 0, never as float32 denormals', () => {
  const w = Float32Array.from([0.5, 0.25]);
  const adam = new JsAdam([2], { learningRate: 0.01 });
  adam.beginStep();
  adam.update(0, w, Float32Array.from([1e-3, 1e-20]));
  // A weight whose gradient turned zero: m decays by 0.9 a step, from 1e-4 to about 2e-40 (a
  // float32 denormal) after 780 steps.
  for (let step = 0; step < 780; step++) {
    adam.beginStep();
    adam.update(0, w, Float32Array.from([0, 0]));
  }
  const { m, v } = adam as unknown as { m: Float32Array[]; v: Float32Array[] };
  for (const x of [...m[0], ...v[0]]) assert.ok(x === 0 || Math.abs(x) >= 2 ** -126, `denormal moment ${x}`);
  assert.equal(m[0][0], 0);
  assert.ok(v[0][0] > 0, 'the second moment of the 1e-3 gradient is still far from 2^-100');
  assert.equal(v[0][1], 0, 'a 1e-20 gradient squared is under 2^-100 from the start');
});

test('JsAdam.setLearningRate scales the next step and keeps the moments (cosine schedules rely on it)', () => {
  const g = Float32Array.from([0.5, -1]);
  const a = Float32Array.from([1, -2]);
  const b = Float32Array.from([1, -2]);
  const full = new JsAdam([2], { learningRate: 0.1 });
  const halved = new JsAdam([2], { learningRate: 0.1 });
  for (const [opt, w] of [
    [full, a],
    [halved, b],
  ] as const) {
    opt.beginStep();
    opt.update(0, w, g);
  }
  const before = Float32Array.from(b);
  halved.setLearningRate(0.05);
  for (const [opt, w] of [
    [full, a],
    [halved, b],
  ] as const) {
    opt.beginStep();
    opt.update(0, w, g);
  }
  for (let i = 0; i < 2; i++) {
    const stepFull = a[i] - before[i];
    const stepHalf = b[i] - before[i];
    assert.ok(Math.abs(stepHalf - stepFull / 2) < 1e-6, `step ${stepHalf} vs half of ${stepFull}`);
  }
  halved.setLearningRate(0);
  const frozen = Float32Array.from(b);
  halved.beginStep();
  halved.update(0, b, g);
  assert.equal(maxDiff(b, frozen), 0, 'a zero rate leaves the weights alone');
});
