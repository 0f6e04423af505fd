/**
 * @file The gaussian-noise stage on its own: ART's formula (p + N(0, sigma^2), floored, renormalised)
 * with per-row noise from the seeded Rng keyed by HMAC-SHA-256(secret, the row's bytes): identical
 * inputs get identical answers (alone, again, or in any batch), another secret or another input
 * gets other noise, and without a secret the stage is refused (the secret never shows in the error).
 */
import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { test } from 'node:test';
import { isHeistError } from '../../src/core/errors.js';
import { createRng } from '../../src/core/rng.js';
import { tensor } from '../../src/core/tensor.js';
import { silentLogger } from '../../src/core/types.js';
import { MIN_SECRET_BYTES, NOISE_FLOOR, gaussianNoise, noisyRows, rowSeed } from '../../src/defenses/gaussian-noise.js';
import { createDefenses, defenses } from '../../src/defenses/index.js';
import { scoresRow, serveRows, testDeps } from './serve.js';

const secret = Buffer.from('gaussian-noise-test-secret-0001');
const probs = [
  [0.5, 0.3, 0.2],
  [0.1, 0.1, 0.8],
  [0.34, 0.33, 0.33],
];
const inputs = [
  [0.25, -0.5],
  [1, 2],
  [3, 4],
];

test('the noise is ART\u2019s formula with a generator seeded by HMAC-SHA-256(secret, little-endian row bytes)', async () => {
  const sigma = 0.1;
  const out = await serveRows(gaussianNoise({ sigma }, secret), probs, { inputs });
  for (let i = 0; i < probs.length; i++) {
    const bytes = new Uint8Array(8);
    const view = new DataView(bytes.buffer);
    for (let j = 0; j < inputs[i].length; j++) view.setFloat32(j * 4, inputs[i][j], true);
    const seed = createHmac('sha256', secret).update(bytes).digest().readUInt32LE(0);
    assert.equal(rowSeed(secret, Float32Array.from(inputs[i])), seed);
    const rng = createRng(seed);
    const noisy = probs[i].map((p) => Math.max(Math.fround(p) + sigma * rng.normal(), NOISE_FLOOR));
    const sum = noisy.reduce((a, b) => a + b, 0);
    assert.deepEqual(
      scoresRow(out, i),
      noisy.map((x) => Math.fround(x / sum)),
      `row ${i}`,
    );
    const got = scoresRow(out, i);
    assert.equal(out.labels[i], got.indexOf(Math.max(...got)), 'the served label is the served argmax');
  }
});

test('identical inputs get identical answers; another input or another secret gets other noise', async () => {
  const stage = gaussianNoise({ sigma: 0.2 }, secret);
  const a = await serveRows(stage, probs, { inputs });
  assert.deepEqual(await serveRows(stage, probs, { inputs }), a, 'again');
  // Row 1 alone, and inside a batch in another position, gets the same answer.
  const alone = await serveRows(stage, [probs[1]], { inputs: [inputs[1]] });
  assert.deepEqual(scoresRow(alone, 0), scoresRow(a, 1));
  const mixed = await serveRows(stage, [probs[2], probs[1]], { inputs: [[9, 9], inputs[1]] });
  assert.deepEqual(scoresRow(mixed, 1), scoresRow(a, 1));
  // -0 and +0 are the same input to the model, so they get the same noise.
  const neg = await serveRows(stage, [probs[0]], { inputs: [[-0, 1]] });
  const pos = await serveRows(stage, [probs[0]], { inputs: [[0, 1]] });
  assert.deepEqual(scoresRow(neg, 0), scoresRow(pos, 0));
  // Same scores, different input: different noise. Same input, different secret: different noise.
  const other = await serveRows(stage, [probs[1]], { inputs: [[1, 2.5]] });
  assert.notDeepEqual(scoresRow(other, 0), scoresRow(a, 1));
  const rekeyed = await serveRows(gaussianNoise({ sigma: 0.2 }, Buffer.from('another-secret-of-enough-bytes')), probs, {
    inputs,
  });
  assert.notDeepEqual(scoresRow(rekeyed, 1), scoresRow(a, 1));
});

test('the stage keeps its own copy of the secret', async () => {
  const key = Buffer.from(secret);
  const stage = gaussianNoise({ sigma: 0.2 }, key);
  const before = await serveRows(stage, probs, { inputs });
  key.fill(0);
  assert.deepEqual(await serveRows(stage, probs, { inputs }), before);
});

test('every served vector is a distribution, even when the noise drowns the signal', () => {
  const scores = tensor(Float32Array.from(probs.flat()), [3, 3]);
  const x = tensor(Float32Array.from(inputs.flat()), [3, 2]);
  for (const sigma of [0.01, 1, 100]) {
    const out = noisyRows(scores, x, sigma, secret);
    for (let i = 0; i < 3; i++) {
      const v = out.subarray(i * 3, i * 3 + 3);
      assert.ok(
        v.every((p) => p > 0 && p <= 1),
        `sigma ${sigma} row ${i}: ${v}`,
      );
      assert.ok(Math.abs(v.reduce((a, b) => a + b, 0) - 1) <= 1e-6);
    }
  }
});

test('without a secret (or with a short one) the stage is refused, naming the need and not the secret', () => {
  const short = Buffer.from('tiny-secret');
  assert.ok(short.length < MIN_SECRET_BYTES);
  for (const make of [
    () => gaussianNoise({ sigma: 0.1 }, undefined),
    () => gaussianNoise({ sigma: 0.1 }, short),
    () => createDefenses([{ name: 'gaussian-noise', options: { sigma: 0.1 } }]),
    () => defenses.create('gaussian-noise', { sigma: 0.1 }, { clock: testDeps.clock, log: silentLogger }),
  ]) {
    assert.throws(make, (e: unknown) => {
      assert.ok(isHeistError(e, 'HEIST_ERR_BAD_CONFIG'));
      assert.match((e as Error).message, /needs a secret/);
      assert.doesNotMatch((e as Error).message, /tiny-secret/);
      return true;
    });
  }
  for (const bad of [{ sigma: 0 }, { sigma: -0.1 }, {}, { sigma: 0.1, scale: 0.1 }])
    assert.throws(
      () => defenses.create('gaussian-noise', bad, testDeps),
      (e: unknown) => isHeistError(e, 'HEIST_ERR_BAD_CONFIG'),
      JSON.stringify(bad),
    );
  assert.equal(defenses.get('gaussian-noise').changesLabels, true);
  assert.deepEqual(defenses.create('gaussian-noise', { sigma: 0.1 }, testDeps).requires, { scores: true });
});
