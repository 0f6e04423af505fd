/**
 * @file The watermark stage's own properties, through the real pipeline: the keyed selection rate
 * sits in the binomial 99% interval, repeated inputs get the same mark, label mode serves the
 * watermark class as top-1 (scores swapped, label-only answers relabelled), runner-up mode keeps
 * the top-1 and makes the watermark class the runner-up, other rows are untouched, the key is
 * derived from (never equal to) the secret, and a missing or short secret is refused.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { binomialInterval } from '../../src/core/binomial.js';
import { labelPrediction } from '../../src/core/prediction.js';
import { createRng } from '../../src/core/rng.js';
import { tensor } from '../../src/core/tensor.js';
import { silentLogger } from '../../src/core/types.js';
import { createContext, createPipeline, defenses, watermarkKey, watermarkMark } from '../../src/defenses/index.js';
import { scoresRow, serveRows, testDeps } from './serve.js';

const K = 5;
const N = 2000;
const rng = createRng(11);
const rows = Array.from({ length: N }, () => {
  const v = Array.from({ length: K }, () => rng.next() ** 3);
  const s = v.reduce((a, b) => a + b, 0);
  return v.map((x) => x / s);
});
const inputs = Array.from({ length: N }, (_, i) => [i / N, (i % 7) / 7, rng.next()]);
const key = watermarkKey(testDeps.secret!);
const marks = inputs.map((x, i) => {
  const y = rows[i].indexOf(Math.max(...rows[i]));
  return { y, ...watermarkMark(key, Float32Array.from(x), 0.1, K, y) };
});

test('the selection rate is in the 99% interval, and the mark is uniform over the other classes', () => {
  const selected = marks.filter((m) => m.selected);
  const [lo, hi] = binomialInterval(N, 0.1, 0.99);
  assert.ok(selected.length >= lo && selected.length <= hi, `${selected.length} not in [${lo}, ${hi}]`);
  assert.ok(marks.every((m) => m.target !== m.y));
  const offsets = new Array(K).fill(0);
  for (const m of marks) offsets[(m.target - m.y + K) % K]++;
  assert.equal(offsets[0], 0);
  for (let o = 1; o < K; o++) assert.ok(Math.abs(offsets[o] / N - 1 / (K - 1)) < 0.05, `offset ${o}: ${offsets[o]}`);
});

test('label mode: selected rows serve the watermark class as top-1 (scores swapped), the rest are untouched', async () => {
  const stage = defenses.create('watermark', { rate: 0.1 }, testDeps);
  const out = await serveRows(stage, rows, { inputs });
  for (let i = 0; i < N; i++) {
    const served = scoresRow(out, i);
    if (!marks[i].selected) {
      assert.deepEqual(served, Array.from(Float32Array.from(rows[i])));
      assert.equal(out.labels[i], marks[i].y);
      continue;
    }
    const { y, target } = marks[i];
    assert.equal(out.labels[i], target);
    assert.equal(served[target], Math.fround(rows[i][y]));
    assert.equal(served[y], Math.fround(rows[i][target]));
  }
  const again = await serveRows(defenses.create('watermark', { rate: 0.1 }, testDeps), rows, { inputs });
  assert.deepEqual(Array.from(again.labels), Array.from(out.labels), 'the same inputs get the same marks');
});

test('runner-up mode: top-1 kept, the watermark class becomes the runner-up with more mass', async () => {
  const stage = defenses.create('watermark', { rate: 0.1, mode: 'runner-up', strength: 0.5 }, testDeps);
  const out = await serveRows(stage, rows, { inputs });
  for (let i = 0; i < N; i++) {
    const served = scoresRow(out, i);
    const { y, target, selected } = marks[i];
    assert.equal(out.labels[i], y, 'top-1 never moves');
    if (!selected) continue;
    const others = served.map((v, j) => (j === y ? -1 : v));
    if (rows[i][y] > Math.max(...rows[i].filter((_, j) => j !== y)))
      assert.equal(others.indexOf(Math.max(...others)), target, `row ${i}: the mark is the runner-up`);
    assert.ok(Math.abs(served.reduce((a, b) => a + b, 0) - 1) < 1e-5);
  }
});

test('label-only answers are relabelled in label mode and left alone in runner-up mode', async () => {
  const labels = Int32Array.from(marks.map((m) => m.y));
  const run = async (options: object) => {
    const ctx = createContext({
      requestId: 't',
      model: { name: 't', inputShape: [3], classes: K, output: 'label', domain: { min: -1e9, max: 1e9 } },
      inputs: tensor(inputs.flat(), [N, 3]),
      at: 0,
      credentials: { ip: '127.0.0.1' },
    });
    return createPipeline([defenses.create('watermark', options, testDeps)], { log: silentLogger }).run(ctx, () =>
      labelPrediction(labels),
    );
  };
  const label = await run({ rate: 0.1 });
  assert.deepEqual(
    Array.from(label.labels),
    marks.map((m) => (m.selected ? m.target : m.y)),
  );
  assert.deepEqual(Array.from((await run({ rate: 0.1, mode: 'runner-up' })).labels), Array.from(labels));
});

test('the key is derived from the secret; a missing or short secret and bad options are refused', () => {
  assert.notDeepEqual(key, testDeps.secret);
  assert.equal(key.length, 32);
  for (const deps of [
    { clock: testDeps.clock, log: silentLogger },
    { ...testDeps, secret: Buffer.from('short') },
  ])
    assert.throws(() => defenses.create('watermark', { rate: 0.1 }, deps), /HEIST_ERR_BAD_CONFIG|secret/);
  for (const bad of [{ rate: 0 }, { rate: 0.6 }, { rate: 0.1, strength: 0.9 }, { rate: 0.1, mode: 'other' }, {}])
    assert.throws(
      () => defenses.create('watermark', bad, testDeps),
      (e: { code?: string }) => e.code === 'HEIST_ERR_BAD_CONFIG',
    );
});
