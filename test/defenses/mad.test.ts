/**
 * @file The MAD stages (`mad`, `mad-argmax`): the closed-form Gram matrix against a brute-force
 * (finite-difference) Jacobian of a tiny proxy; served vectors are distributions within the L1
 * budget, `mad-argmax` keeps every argmax, and the chosen vertex is the best one; options are
 * checked; and the figures the file comment reports at epsilon = 2 on the digits-mlp victim.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { type OnnxPredictor, loadOnnxModel } from '../../src/backends/onnx-model.js';
import { isHeistError } from '../../src/core/errors.js';
import { type Prediction, labelPrediction } from '../../src/core/prediction.js';
import { createRng } from '../../src/core/rng.js';
import { type Tensor, argmaxRows, tensor } from '../../src/core/tensor.js';
import { modelsDir } from '../../src/datasets/paths.js';
import { loadScenarioData } from '../../src/datasets/scenarios.js';
import {
  type MadProxy,
  type MadVariant,
  createMadProxy,
  defendPredictor,
  defenses,
  mad,
  madGram,
  madObjective,
  madRow,
} from '../../src/defenses/index.js';
import { localOracle } from '../../src/oracle/local.js';
import { runSteal } from '../../src/runs/steal-run.js';
import { scoresRow, serveRows, testDeps } from './serve.js';

// ---------- 1. The Gram matrix against a materialised Jacobian

/** log softmax of the proxy at x, written out independently of src/defenses/mad.ts. */
function logProbs(p: MadProxy, x: readonly number[]): number[] {
  let r = x;
  if (p.hidden > 0)
    r = Array.from({ length: p.hidden }, (_, u) =>
      Math.max(0, p.b1[u] + x.reduce((s, xi, i) => s + p.w1[u * p.inputs + i] * xi, 0)),
    );
  const z = Array.from(
    { length: p.classes },
    (_, k) => p.b2[k] + r.reduce((s, ru, u) => s + p.w2[k * r.length + u] * ru, 0),
  );
  const top = Math.max(...z);
  const lse = top + Math.log(z.reduce((s, v) => s + Math.exp(v - top), 0));
  return z.map((v) => v - lse);
}

/** G ([classes][params]): d log p_k / d w for every parameter, by central differences. */
function bruteJacobian(p: MadProxy, x: readonly number[]): number[][] {
  const params = [p.w1, p.b1, p.w2, p.b2];
  const G: number[][] = Array.from({ length: p.classes }, () => []);
  const h = 1e-6;
  for (const arr of params) {
    for (let i = 0; i < arr.length; i++) {
      const keep = arr[i];
      arr[i] = keep + h;
      const up = logProbs(p, x);
      arr[i] = keep - h;
      const down = logProbs(p, x);
      arr[i] = keep;
      for (let k = 0; k < p.classes; k++) G[k].push((up[k] - down[k]) / (2 * h));
    }
  }
  return G;
}

const dot = (a: readonly number[], b: readonly number[]): number => a.reduce((s, v, i) => s + v * b[i], 0);
const gTimes = (G: number[][], a: readonly number[]): number[] =>
  G[0].map((_, w) => G.reduce((s, row, k) => s + a[k] * row[w], 0));

for (const hidden of [4, 0]) {
  test(`the closed-form Gram matrix equals G G^T of a brute-force Jacobian (d = 3, hidden ${hidden}, 3 classes)`, () => {
    const proxy = createMadProxy(3, 3, hidden, 7);
    assert.equal(proxy.w1.length, hidden * 3);
    assert.equal(proxy.w2.length, 3 * (hidden || 3));
    const x = [0.3, -0.8, 1.1];
    // No hidden pre-activation near the ReLU kink, where finite differences would be meaningless.
    for (let u = 0; u < hidden; u++) {
      const z = proxy.b1[u] + x.reduce((s, xi, i) => s + proxy.w1[u * 3 + i] * xi, 0);
      assert.ok(Math.abs(z) > 1e-3, `pre-activation ${u} is ${z}`);
    }
    const G = bruteJacobian(proxy, x);
    assert.equal(G[0].length, hidden * 3 + hidden + 3 * (hidden || 3) + 3);
    const Q = madGram(proxy, x);
    for (let j = 0; j < 3; j++)
      for (let k = 0; k < 3; k++) {
        const want = dot(G[j], G[k]);
        assert.ok(
          Math.abs(Q[j * 3 + k] - want) <= 1e-6 * (1 + Math.abs(want)),
          `Q[${j},${k}] ${Q[j * 3 + k]} vs ${want}`,
        );
      }
    // The objective from Q equals ||unit(G^T a) - unit(G^T y)||^2 computed from G itself.
    const unit = (v: number[]): number[] => v.map((vi) => vi / Math.sqrt(dot(v, v)));
    for (const [a, y] of [
      [
        [1, 0, 0],
        [0.2, 0.5, 0.3],
      ],
      [
        [0.1, 0.1, 0.8],
        [0.7, 0.2, 0.1],
      ],
    ]) {
      const u = unit(gTimes(G, a));
      const v = unit(gTimes(G, y));
      const want = dot(u, u) + dot(v, v) - 2 * dot(u, v);
      assert.ok(Math.abs(madObjective(Q, 3, a, y) - want) <= 1e-6, `${madObjective(Q, 3, a, y)} vs ${want}`);
    }
  });
}

// ---------- 2. Properties on random probability rows

/** n seeded probability rows of k classes, from flat to sharply peaked. */
function randomRows(seed: number, n: number, k: number): number[][] {
  const rng = createRng(seed);
  return Array.from({ length: n }, (_, i) => {
    const power = [1, 3, 8][i % 3];
    const v = Array.from({ length: k }, () => (-Math.log(1 - rng.next())) ** power);
    const s = v.reduce((a, b) => a + b, 0);
    return Array.from(Float32Array.from(v.map((x) => x / s)));
  });
}

function randomInputs(seed: number, n: number, d: number): number[][] {
  const rng = createRng(seed);
  return Array.from({ length: n }, () => Array.from({ length: d }, () => rng.uniform(-1, 2)));
}

const oneHot = (k: number, j: number): number[] => Array.from({ length: k }, (_, i) => (i === j ? 1 : 0));
const l1 = (a: readonly number[], b: readonly number[]): number => a.reduce((s, v, i) => s + Math.abs(v - b[i]), 0);
const top1 = (v: readonly number[]): number => argmaxRows(tensor(v.slice(), [1, v.length]))[0];

/** Every set vertex holding t (mass even over the set, t up-weighted by 1e-5), built independently. */
function setVertices(k: number, t: number): number[][] {
  const out: number[][] = [];
  for (let mask = 0; mask < 1 << k; mask++) {
    if (!(mask & (1 << t))) continue;
    const v = Array.from({ length: k }, (_, j): number => (mask & (1 << j) ? 1 : 0));
    v[t] += 1e-5;
    const s = v.reduce((a, b) => a + b, 0);
    out.push(v.map((x) => x / s));
  }
  return out;
}

for (const variant of ['mad', 'mad-argmax'] as const) {
  test(`${variant}: distributions within the L1 budget, the best vertex, labels as declared`, async () => {
    const k = 4;
    const d = 5;
    const rows = randomRows(11, 60, k);
    const inputs = randomInputs(12, 60, d);
    const proxy = createMadProxy(d, k, 64, 0); // what the stage builds by default
    for (const epsilon of [0.05, 0.3, 1, 2]) {
      const out = await serveRows(mad({ epsilon }, variant), rows, { inputs });
      assert.equal(out.kind, 'probs');
      const served = Array.from({ length: rows.length }, (_, i) => scoresRow(out, i));
      const labels = argmaxRows(out.scores!);
      for (let i = 0; i < rows.length; i++) {
        const y = rows[i];
        const v = served[i];
        const at = `epsilon ${epsilon} row ${i}`;
        assert.ok(
          v.every((p) => p >= 0 && p <= 1),
          `${at}: ${v}`,
        );
        assert.ok(Math.abs(v.reduce((a, b) => a + b, 0) - 1) <= 1e-5, `${at}: sums to ${v}`);
        assert.ok(l1(v, y) <= epsilon + 1e-6, `${at}: L1 ${l1(v, y)} > ${epsilon}`);
        const gram = madGram(proxy, inputs[i]);
        const r = madRow(gram, y, epsilon, variant);
        assert.deepEqual(v, Array.from(Float32Array.from(r.served)), `${at}: the stage serves madRow's vector`);
        assert.ok(madObjective(gram, k, r.served, y) >= 0);
        assert.ok(Math.abs(madObjective(gram, k, r.vertex, y) - r.vertexObjective) <= 1e-9);
        if (variant === 'mad') {
          assert.equal(out.labels[i], labels[i], `${at}: the served label is the served argmax`);
          const best = Array.from({ length: k }, (_, j) => madObjective(gram, k, oneHot(k, j), y));
          const chosen = r.vertex.indexOf(1);
          assert.ok(chosen >= 0 && r.vertex.every((p, j) => p === (j === chosen ? 1 : 0)), `${at}: a one-hot vertex`);
          assert.ok(
            best.every((o, j) => o <= best[chosen] + 1e-12 && (j >= chosen || o < best[chosen])),
            `${at}: vertex ${chosen} is not the best (lowest id on ties): ${best}`,
          );
        } else {
          const t = top1(y);
          assert.equal(labels[i], t, `${at}: the served argmax moved`);
          assert.equal(out.labels[i], t, `${at}: the served label moved`);
          const all = setVertices(k, t).map((w) => madObjective(gram, k, w, y));
          assert.ok(
            all.every((o) => o <= r.vertexObjective + 1e-9),
            `${at}: a set vertex beats ${r.vertexObjective}: ${all}`,
          );
          assert.equal(top1(Array.from(r.vertex)), t);
        }
      }
    }
  });
}

test('mad-argmax keeps the argmax with many classes (greedy vertex sets) and on ties (lower class id)', async () => {
  const k = 14;
  const rows = randomRows(21, 30, k);
  const inputs = randomInputs(22, 30, 3);
  const proxy = createMadProxy(3, k, 64, 0);
  for (const epsilon of [0.5, 2]) {
    const out = await serveRows(mad({ epsilon }, 'mad-argmax'), rows, { inputs });
    const labels = argmaxRows(out.scores!);
    for (let i = 0; i < rows.length; i++) {
      assert.equal(labels[i], top1(rows[i]));
      assert.ok(l1(scoresRow(out, i), rows[i]) <= epsilon + 1e-6);
      const gram = madGram(proxy, inputs[i]);
      const r = madRow(gram, rows[i], epsilon, 'mad-argmax');
      assert.ok(Math.abs(madObjective(gram, k, r.vertex, rows[i]) - r.vertexObjective) <= 1e-9);
    }
  }
  // Ties at the top: class 0 (the lower id) stays the argmax.
  const tied = [
    [0.4, 0.4, 0.2],
    [1 / 3, 1 / 3, 1 / 3],
  ];
  for (const epsilon of [0.1, 1, 2]) {
    const out = await serveRows(mad({ epsilon }, 'mad-argmax'), tied);
    assert.deepEqual(Array.from(argmaxRows(out.scores!)), [0, 0]);
    assert.deepEqual(Array.from(out.labels), [0, 0]);
  }
});

test('mad: the same input gets the same answer; logits and label-only answers pass through', async () => {
  const rows = randomRows(31, 6, 5);
  const inputs = randomInputs(32, 6, 4);
  const stage = mad({ epsilon: 1 });
  const a = await serveRows(stage, rows, { inputs });
  const b = await serveRows(stage, [rows[3], rows[0]], { inputs: [inputs[3], inputs[0]] });
  assert.deepEqual(scoresRow(b, 0), scoresRow(a, 3));
  assert.deepEqual(scoresRow(b, 1), scoresRow(a, 0));
  const labels = labelPrediction(Int32Array.from([2]));
  assert.equal(await stage.transform!({} as never, labels), labels);
  const logits: Prediction = { ...labels, kind: 'logits', scores: tensor([1, 2, 3], [1, 3]) };
  assert.equal(await stage.transform!({} as never, logits), logits);
  assert.deepEqual(stage.requires, { scores: true });
  assert.equal(defenses.get('mad').changesLabels, true);
  assert.equal(defenses.get('mad-argmax').changesLabels, false);
});

// ---------- 3. Options

test('mad and mad-argmax refuse bad options (HEIST_ERR_BAD_CONFIG)', () => {
  for (const name of ['mad', 'mad-argmax']) {
    for (const bad of [
      {},
      { epsilon: 0 },
      { epsilon: -0.5 },
      { epsilon: 2.5 },
      { epsilon: Number.NaN },
      { epsilon: 1, proxyHidden: -1 },
      { epsilon: 1, proxyHidden: 1.5 },
      { epsilon: 1, proxySeed: -1 },
      { epsilon: 1, proxySeed: 0.5 },
      { epsilon: 1, extra: true },
    ]) {
      assert.throws(
        () => defenses.create(name, bad, testDeps),
        (e: unknown) => isHeistError(e) && e.code === 'HEIST_ERR_BAD_CONFIG',
        `${name} ${JSON.stringify(bad)}`,
      );
    }
    assert.equal(defenses.create(name, { epsilon: 2, proxyHidden: 0, proxySeed: 3 }, testDeps).name, name);
  }
  for (const epsilon of [0, 3, Number.POSITIVE_INFINITY])
    assert.throws(
      () => mad({ epsilon }, 'mad-argmax'),
      (e: unknown) => isHeistError(e) && e.code === 'HEIST_ERR_BAD_CONFIG',
    );
});

// ---------- 4. Measurement on the digits-mlp victim (the file comment's figures at epsilon = 2)

const dir = mkdtempSync(join(tmpdir(), 'heist-mad-'));
let victim: OnnxPredictor;
let x: Tensor;
let raw: Prediction;
before(async () => {
  victim = await loadOnnxModel(join(modelsDir, 'digits-mlp.onnx'));
  x = loadScenarioData('digits-mlp').evaluation.x;
  raw = await victim.predict(x);
});
after(async () => {
  await victim?.close();
  rmSync(dir, { recursive: true, force: true });
});

async function stealAgainst(variant: MadVariant | undefined, labels: 'soft' | 'hard') {
  const stage = variant ? [mad({ epsilon: 2 }, variant)] : [];
  const target = variant ? `digits-mlp (${variant})` : 'digits-mlp';
  // The answers as bought (temperature 1, no label smoothing), as mad.ts measured.
  const config = {
    target,
    budget: 449,
    pool: 'digits-mlp',
    checkpoints: [449],
    labels,
    seed: 0,
    temperature: 1,
    labelSmoothing: 0,
  };
  const r = await runSteal(
    { ...config, out: join(dir, `${variant ?? 'none'}-${labels}`) },
    { oracle: localOracle(defendPredictor(victim, stage)) },
  );
  return { accuracy: r.metrics.accuracy!, fidelity: r.metrics.fidelity! };
}

test('mad-argmax at epsilon 2 on digits-mlp: honest top-1 all kept, soft-label attacker error >= 10x', async () => {
  const defended = defendPredictor(victim, [mad({ epsilon: 2 }, 'mad-argmax')]);
  const served = await defended.predict(x);
  const n = raw.labels.length;
  assert.equal(n, 450);
  assert.deepEqual(Array.from(served.labels), Array.from(raw.labels), 'every honest top-1 label is kept');
  assert.deepEqual(Array.from(argmaxRows(served.scores!)), Array.from(raw.labels));
  let distortion = 0;
  for (let i = 0; i < n * 10; i++) distortion += Math.abs(served.scores!.data[i] - raw.scores!.data[i]);
  assert.ok(distortion / n <= 1.8 + 1e-6, `mean L1 ${distortion / n}`); // measured 1.738

  const plain = await stealAgainst(undefined, 'soft'); // measured accuracy 0.9444, fidelity 0.9422
  const poisoned = await stealAgainst('mad-argmax', 'soft'); // measured accuracy 0.1089, fidelity 0.1067
  assert.ok(plain.accuracy >= 0.9, `undefended clone accuracy ${plain.accuracy}`);
  assert.ok(poisoned.accuracy <= 0.25, `defended clone accuracy ${poisoned.accuracy}`);
  const ratio = (1 - poisoned.accuracy) / (1 - plain.accuracy); // measured 16.0
  assert.ok(ratio >= 10, `attacker error only ${ratio.toFixed(1)}x the undefended attacker's`);
});

test('mad-argmax does not stop a hard-label attacker: the labels it buys are the undefended ones', async () => {
  const plain = await stealAgainst(undefined, 'hard'); // measured accuracy 0.9311
  const poisoned = await stealAgainst('mad-argmax', 'hard');
  assert.deepEqual(poisoned, plain);
});
