/**
 * @file The data-free strategy's parts: the bilinear upsampling is a linear map whose backward is
 * its exact transpose, and one generator step climbs the objective it is handed.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { createRng } from '../core/rng.js';
import { MlpGenerator } from './generator.js';
import { Bilinear } from './upsample.js';

test('bilinear upsampling: constants stay constant, and backward is the transpose of forward', () => {
  const up = new Bilinear([28, 28, 2], 4);
  assert.equal(up.coarseSize, 7 * 7 * 2);
  assert.equal(up.fineSize, 28 * 28 * 2);
  const fine = up.forward(new Float32Array(up.coarseSize).fill(0.3), 1);
  for (const v of fine) assert.ok(Math.abs(v - 0.3) < 1e-6);
  // <U x, y> = <x, U^T y> for random x and y, over two rows.
  const rng = createRng(5);
  const x = Float32Array.from({ length: 2 * up.coarseSize }, () => rng.normal());
  const y = Float32Array.from({ length: 2 * up.fineSize }, () => rng.normal());
  const ux = up.forward(x, 2);
  const uty = up.backward(y, 2);
  let a = 0;
  let b = 0;
  for (let i = 0; i < y.length; i++) a += ux[i] * y[i];
  for (let i = 0; i < x.length; i++) b += x[i] * uty[i];
  assert.ok(Math.abs(a - b) < 1e-3 * Math.max(1, Math.abs(a)), `${a} vs ${b}`);
});

test('a generator step climbs the objective whose gradient it is handed', () => {
  const rng = createRng(1);
  const g = new MlpGenerator({ latent: 8, hidden: 16, outputs: 12 }, rng, 0.01);
  const z = g.sampleLatent(32, createRng(2));
  // Objective: sum of a . c for a fixed c; its gradient with respect to a is c per row.
  const c = Float32Array.from({ length: 12 }, (_, i) => (i % 2 === 0 ? 1 : -1));
  const objective = () => {
    const a = g.forward(z).a;
    let s = 0;
    for (let i = 0; i < a.length; i++) s += a[i] * c[i % 12];
    return s;
  };
  const before = objective();
  for (let step = 0; step < 20; step++) {
    const pass = g.forward(z);
    const da = new Float32Array(pass.a.length);
    for (let i = 0; i < da.length; i++) da[i] = c[i % 12] / 32;
    g.ascend(pass, da);
  }
  assert.ok(objective() > before + 1, `${before} -> ${objective()}`);
  // Same seed, same generator.
  const twin = new MlpGenerator({ latent: 8, hidden: 16, outputs: 12 }, createRng(1), 0.01);
  assert.deepEqual(
    twin.forward(z).a,
    new MlpGenerator({ latent: 8, hidden: 16, outputs: 12 }, createRng(1), 0.01).forward(z).a,
  );
});
