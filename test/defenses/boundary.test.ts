/**
 * @file The boundary-probing signal on real victims, through the defense pipeline, at its default
 * options (window 200, margin 0.2, share 0.1, minQueries 100): (a) line-search attackers on
 * mnist-cnn (bisection between pool rows of different classes, as Tramer et al.'s boundary
 * searches) are flagged; uniform random-input and JBDA-like attackers (on mnist-cnn and, as in
 * PRADA's test, on digits-mlp) are measured; (b) 100 honest clients replaying distinct held-out
 * MNIST rows (mnist-cnn's 2000-row evaluation split, 1,000 rows each) are not flagged; (c) how many
 * natural-pool attackers it misses. Also: block, the margin of probabilities and logits, label-only
 * answers, the sliding window, bounds, option checks. The measured numbers are printed
 * (t.diagnostic) and recorded in docs/detectors.md.
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { test } from 'node:test';
import { loadOnnxModel } from '../../src/backends/onnx-model.js';
import type { ModelInfo, Prediction } from '../../src/core/prediction.js';
import { createRng } from '../../src/core/rng.js';
import { tensor } from '../../src/core/tensor.js';
import { silentLogger } from '../../src/core/types.js';
import { modelsDir } from '../../src/datasets/paths.js';
import { loadScenarioData } from '../../src/datasets/scenarios.js';
import {
  type BoundaryDefense,
  boundary,
  checkOrder,
  createDefenses,
  defenses,
  marginOf,
} from '../../src/defenses/index.js';
import {
  type Labelled,
  type Rng,
  answered,
  distinctIndices,
  jbdaQueries,
  labelled,
  lineSearchQueries,
  rowAt,
  sourceAnswer,
  stream,
  uniformQueries,
} from './streams.js';

const deps = { clock: { now: () => 0, sleep: async () => {} }, log: silentLogger };

/** Sends every row of `source` (in order, `batch` per request) as client `key:<key>`. */
async function sendAll(stage: BoundaryDefense, source: Labelled, key: string, order?: readonly number[], batch = 10) {
  const idx = order ?? Array.from({ length: source.labels.length }, (_, i) => i);
  return stream(
    stage,
    source.info,
    key,
    idx.map((i) => rowAt(source, i)),
    sourceAnswer(source, (i) => idx[i]!),
    { batch },
  );
}

test('(a) line-search attackers are flagged; random-input and JBDA-like attackers are measured', async (t) => {
  const mnist = loadScenarioData('mnist-cnn');
  const digits = loadScenarioData('digits-mlp');
  const cnn = await loadOnnxModel(join(modelsDir, 'mnist-cnn.onnx'));
  const mlp = await loadOnnxModel(join(modelsDir, 'digits-mlp.onnx'));
  const rng = createRng(7);
  const run = async (
    victim: typeof cnn,
    make: (r: Rng) => Promise<Float32Array[]> | Float32Array[],
  ): Promise<{ firsts: (number | undefined)[]; maxShares: number[] }> => {
    const firsts: (number | undefined)[] = [];
    const maxShares: number[] = [];
    for (let a = 0; a < 5; a++) {
      const source = await answered(victim, await make(rng));
      const stage = boundary();
      await sendAll(stage, source, `a${a}`);
      const v = stage.client(`key:a${a}`)!;
      firsts.push(v.flaggedAt);
      maxShares.push(v.maxShare);
    }
    return { firsts, maxShares };
  };
  const show = (r: { firsts: (number | undefined)[]; maxShares: number[] }): string =>
    `${r.firsts.filter((x) => x !== undefined).length}/5 flagged; queries to first flag: ${r.firsts.map((x) => x ?? '-').join(', ')}; highest window share ${r.maxShares.map((x) => x.toFixed(3)).join(', ')}`;
  const line = await run(cnn, (r) => lineSearchQueries(cnn, mnist.pool.x, r, 1000));
  const uniform = await run(cnn, (r) => uniformQueries(cnn.info, 784, r, 1000));
  const jbdaCnn = await run(cnn, (r) => jbdaQueries(mnist.pool.x, r, 1280));
  const jbdaMlp = await run(mlp, (r) => jbdaQueries(digits.pool.x, r, 1280));
  t.diagnostic(`line-search attackers on mnist-cnn (1000 queries each): ${show(line)}`);
  t.diagnostic(`uniform random-input attackers on mnist-cnn (1000 queries each): ${show(uniform)}`);
  t.diagnostic(`JBDA-like attackers on mnist-cnn (1280 queries each): ${show(jbdaCnn)}`);
  t.diagnostic(`JBDA-like attackers on digits-mlp (1280 queries each): ${show(jbdaMlp)}`);
  assert.ok(
    line.firsts.every((x) => x !== undefined),
    'every line-search attacker is flagged',
  );
  assert.ok(
    uniform.firsts.every((x) => x !== undefined),
    'every random-input attacker is flagged',
  );
});

test('(b) honest clients replaying distinct held-out MNIST rows, and (c) natural-pool attackers', async (t) => {
  const { evaluation, pool } = loadScenarioData('mnist-cnn');
  const held = await labelled('mnist-cnn.onnx', evaluation.x);
  const natural = await labelled('mnist-cnn.onnx', pool.x);
  const rng = createRng(11);
  const judge = async (source: Labelled, clients: number, prefix: string) => {
    const stage = boundary();
    const views = [];
    for (let c = 0; c < clients; c++) {
      await sendAll(stage, source, `${prefix}-${c}`, distinctIndices(rng, source.labels.length, 1000), 50);
      views.push(stage.client(`key:${prefix}-${c}`)!);
    }
    return views;
  };
  const honest = await judge(held, 100, 'honest');
  const flagged = honest.filter((v) => v.flagged).length;
  const top = Math.max(...honest.map((v) => v.maxShare));
  t.diagnostic(
    `honest clients (1000 distinct held-out MNIST rows each) flagged: ${flagged}/100; highest window share ${top.toFixed(3)}`,
  );
  assert.equal(flagged, 0, 'no honest client is flagged');
  const attackers = await judge(natural, 20, 'pool');
  const missed = attackers.filter((v) => !v.flagged).length;
  t.diagnostic(`natural-pool attackers (1000 distinct MNIST pool rows each) missed: ${missed}/20`);
});

test('block refuses a flagged client from then on, and no other client', async () => {
  const { pool } = loadScenarioData('mnist-cnn');
  const cnn = await loadOnnxModel(join(modelsDir, 'mnist-cnn.onnx'));
  const source = await answered(cnn, await lineSearchQueries(cnn, pool.x, createRng(3), 300));
  const stage = defenses.create('boundary', { action: 'block' }, deps) as BoundaryDefense;
  const r = await sendAll(stage, source, 'thief');
  assert.equal(r.rejected, true);
  assert.equal(stage.client('key:thief')?.flagged, true);
  assert.equal((await sendAll(stage, source, 'thief', [0])).rejected, true);
  assert.equal((await sendAll(stage, source, 'someone', [0, 1, 2])).rejected, false);
});

test('the margin is top-1 minus top-2 probability, through a softmax for logits', () => {
  const probs: Prediction = {
    kind: 'probs',
    labels: Int32Array.from([0, 2]),
    scores: tensor([0.5, 0.3, 0.2, 0.1, 0.1, 0.8], [2, 3]),
  };
  assert.ok(Math.abs(marginOf(probs, 0) - 0.2) < 1e-6);
  assert.ok(Math.abs(marginOf(probs, 1) - 0.7) < 1e-6);
  const z = [2, 1, 0];
  const e = z.map((v) => Math.exp(v));
  const sum = e.reduce((a, b) => a + b, 0);
  const logits: Prediction = { kind: 'logits', labels: Int32Array.from([0]), scores: tensor(z, [1, 3]) };
  assert.ok(Math.abs(marginOf(logits, 0) - (e[0]! - e[1]!) / sum) < 1e-9);
  assert.ok(Number.isNaN(marginOf({ kind: 'label', labels: Int32Array.from([1]) }, 0)));
});

test('needs scores: it comes after no score-dropping stage, and label-only answers are not counted', async () => {
  assert.equal(boundary().requires?.scores, true);
  assert.throws(() => checkOrder(createDefenses([{ name: 'label-only' }, { name: 'boundary' }], deps)), {
    code: 'HEIST_ERR_BAD_CONFIG',
  });
  const info: ModelInfo = { name: 'm', inputShape: [2], classes: 2, output: 'probs', domain: { min: 0, max: 1 } };
  const stage = boundary({ minQueries: 1 });
  const rows = [Float32Array.from([0, 0])];
  await stream(stage, info, 'a', rows, () => ({ kind: 'label', labels: Int32Array.from([0]) }));
  assert.equal(stage.client('key:a')?.queries, 0);
});

test('the share is over the latest `window` queries; bounds: clients beyond maxClients are forgotten', async () => {
  const info: ModelInfo = { name: 'm', inputShape: [1], classes: 2, output: 'probs', domain: { min: 0, max: 1 } };
  // 30 low-margin answers (0.55 / 0.45), then 70 confident ones (0.95 / 0.05).
  const rows = Array.from({ length: 100 }, (_, i) => Float32Array.from([i / 100]));
  const answer = (start: number, count: number): Prediction => {
    const s = Array.from({ length: count }, (_, k) => (start + k < 30 ? [0.55, 0.45] : [0.95, 0.05])).flat();
    return { kind: 'probs', labels: new Int32Array(count), scores: tensor(s, [count, 2]) };
  };
  const stage = boundary({ window: 50, share: 0.5, minQueries: 20, maxClients: 2 });
  await stream(stage, info, 'a', rows, answer);
  const a = stage.client('key:a')!;
  assert.equal(a.flaggedAt, 20, 'flagged at minQueries: 20 of 20 low');
  assert.equal(a.size, 50);
  assert.equal(a.low, 0, 'the low-margin answers left the window');
  assert.equal(a.maxShare, 1);
  assert.equal(a.flagged, true, 'the verdict is sticky');
  await stream(stage, info, 'b', rows.slice(0, 1), answer);
  await stream(stage, info, 'c', rows.slice(0, 1), answer);
  assert.equal(stage.client('key:a'), undefined);
  assert.ok(stage.client('key:b') && stage.client('key:c'));
});

test('options are validated', () => {
  for (const bad of [
    { window: 0 },
    { margin: 0 },
    { margin: 1.5 },
    { share: 1 },
    { share: -0.1 },
    { minQueries: 0 },
    { action: 'warn' },
    { degradeTo: { name: 'label-only' } },
    { maxClients: 0 },
    { other: 1 },
  ])
    assert.throws(() => defenses.create('boundary', bad, deps), { code: 'HEIST_ERR_BAD_CONFIG' }, JSON.stringify(bad));
});
