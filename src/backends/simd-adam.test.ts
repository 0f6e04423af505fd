/**
 * @file SimdAdam (simd-adam.ts) against JsAdam, the scalar reference: the same steps on the same
 * gradients, sizes that are and are not multiples of four lanes, a learning-rate change, a reset,
 * and the moments flushed to 0 below 2^-100 as JsAdam does.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { createRng } from '../core/rng.js';
import { SimdAdam } from './simd-adam.js';
import { JsAdam } from './tfjs-adam.js';

const rng = createRng(11);
const values = (n: number, scale: number) => Float32Array.from({ length: n }, () => (rng.next() - 0.5) * scale);

function maxAbsDiff(a: Float32Array, b: Float32Array): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}

test('SimdAdam takes the same steps as JsAdam, within float32 rounding', () => {
  const sizes = [1, 3, 4, 37, 1000];
  const simd = new SimdAdam(sizes, { learningRate: 0.01 });
  const js = new JsAdam(sizes, { learningRate: 0.01 });
  const w = sizes.map((n) => values(n, 1));
  w.forEach((x, k) => {
    simd.weights[k].set(x);
  });
  for (let step = 0; step < 30; step++) {
    if (step === 20) {
      simd.setLearningRate(0.003);
      js.setLearningRate(0.003);
    }
    const g = sizes.map((n) => values(n, 0.1));
    simd.step(g);
    js.beginStep();
    w.forEach((x, k) => {
      js.update(k, x, g[k]);
    });
  }
  w.forEach((x, k) => {
    assert.ok(maxAbsDiff(x, simd.weights[k]) < 1e-6, `param ${k}: ${maxAbsDiff(x, simd.weights[k])}`);
  });
});

test('SimdAdam.reset makes the next step a first step (as a fresh JsAdam)', () => {
  const simd = new SimdAdam([5], { learningRate: 0.1 });
  const w0 = values(5, 1);
  simd.weights[0].set(w0);
  simd.step([values(5, 1)]);
  simd.reset();
  const start = Float32Array.from(simd.weights[0]);
  const g = values(5, 1);
  simd.step([g]);
  const js = new JsAdam([5], { learningRate: 0.1 });
  js.beginStep();
  js.update(0, start, g);
  assert.ok(maxAbsDiff(start, simd.weights[0]) < 1e-6);
  // A first Adam step moves every weight by about the learning rate.
  assert.ok(Math.abs(Math.abs(simd.weights[0][0] - w0[0]) - 0.1) < 0.11);
});

test('SimdAdam stores moments under 2^-100 as 0, never as float32 denormals', () => {
  const simd = new SimdAdam([4], { learningRate: 0.01 });
  simd.weights[0].set([0.5, 0.25, -0.5, 1]);
  simd.step([Float32Array.from([1e-3, 1e-20, -1e-3, 0])]);
  // m of a weight whose gradient turned zero decays by 0.9 a step: from 1e-4 to about 2e-40, a
  // float32 denormal, after 780 steps.
  for (let step = 0; step < 780; step++) simd.step([new Float32Array(4)]);
  const { moments } = simd as unknown as { moments: Float32Array[] };
  const [m, v] = moments;
  for (const x of [...m, ...v]) assert.ok(x === 0 || Math.abs(x) >= 2 ** -126, `denormal moment ${x}`);
  assert.deepEqual(Array.from(m), [0, 0, 0, 0]);
  assert.ok(v[0] > 0 && v[2] > 0, 'the second moments of the 1e-3 gradients are far from 2^-100');
  assert.equal(v[1], 0, 'a 1e-20 gradient squared is under 2^-100 from the start');
});

test('SimdAdam with two gradients steps on their float32 sum, as one gradient would', () => {
  const sizes = [3, 8, 37];
  const two = new SimdAdam(sizes, { learningRate: 0.01 }, { twoGradients: true });
  const one = new SimdAdam(sizes, { learningRate: 0.01 });
  const w = sizes.map((n) => values(n, 1));
  w.forEach((x, k) => {
    two.weights[k].set(x);
    one.weights[k].set(x);
  });
  for (let step = 0; step < 12; step++) {
    sizes.forEach((n, k) => {
      const a = values(n, 0.1);
      const b = values(n, 0.1);
      two.gradients[k].set(a);
      two.secondGradients[k].set(b);
      one.gradients[k].set(Float32Array.from(a, (v, i) => v + b[i]));
    });
    two.stepFromGradients(true);
    one.stepFromGradients();
  }
  sizes.forEach((_, k) => {
    assert.deepEqual(two.weights[k], one.weights[k], `param ${k}`);
  });
  assert.throws(() => one.stepFromGradients(true), /without twoGradients/);
});
