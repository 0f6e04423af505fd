/**
 * @file The reverse-sigmoid stage on its own: the paper's formula, renormalised; the served label
 * is the argmax of the served vector, so it can differ from the model's (and does, for a strong
 * beta); a row left with no mass is served one-hot at the model's label; options are checked.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { isHeistError } from '../../src/core/errors.js';
import { labelPrediction } from '../../src/core/prediction.js';
import { defenses } from '../../src/defenses/index.js';
import { reverseSigmoid, reverseSigmoidRows } from '../../src/defenses/reverse-sigmoid.js';
import { near, scoresRow, serveRows, testDeps } from './serve.js';

/** The formula written out once more, independently: q - beta (sigmoid(gamma logit q) - 1/2), clipped, renormalised. */
function expected(q: readonly number[], beta: number, gamma: number): number[] {
  const v = q.map((x) => {
    const c = Math.min(Math.max(x, 1e-9), 1 - 1e-9);
    const s = 1 / (1 + ((1 - c) / c) ** gamma); // sigmoid(gamma * log(c / (1 - c)))
    return Math.min(Math.max(x - beta * (s - 0.5), 0), 1);
  });
  const sum = v.reduce((a, b) => a + b, 0);
  return v.map((x) => x / sum);
}

test('reverse-sigmoid serves the perturbed, renormalised vector', async () => {
  const rows = [
    [0.7, 0.2, 0.1],
    [0.98, 0.02, 0],
    [1 / 3, 1 / 3, 1 / 3],
  ];
  for (const [beta, gamma] of [
    [1, 0.1],
    [0.5, 1],
    [1.5, 0.3],
  ]) {
    const out = await serveRows(reverseSigmoid({ beta, gamma }), rows);
    assert.equal(out.kind, 'probs');
    for (let i = 0; i < rows.length; i++) {
      const got = scoresRow(out, i);
      assert.ok(near(got, expected(rows[i], beta, gamma), 1e-6), `beta ${beta} gamma ${gamma} row ${i}: ${got}`);
      assert.ok(Math.abs(got.reduce((a, b) => a + b, 0) - 1) <= 1e-6);
    }
  }
  // A uniform row stays uniform (r(1/3) is the same for every class); small values are lifted.
  const out = await serveRows(reverseSigmoid({ beta: 1, gamma: 0.1 }), rows);
  assert.ok(near(scoresRow(out, 2), [1 / 3, 1 / 3, 1 / 3], 1e-6));
  assert.ok(scoresRow(out, 1)[2] > 0.1, 'a zero probability is served well above zero');
});

test('reverse-sigmoid can change the top-1 label: the served label is the served argmax', async () => {
  // beta = 2: the confident 0.99 drops to about 0.76 before renormalising, the 0 rises to about 0.78.
  const out = await serveRows(reverseSigmoid({ beta: 2, gamma: 0.1 }), [[0.99, 0.01, 0]]);
  assert.equal(out.labels[0], 2);
  const got = scoresRow(out, 0);
  assert.equal(got.indexOf(Math.max(...got)), 2);
  assert.equal(defenses.get('reverse-sigmoid').changesLabels, true);
  // A client asking for labels only gets the served (perturbed) label, not the model's.
  const asked = await serveRows(reverseSigmoid({ beta: 2, gamma: 0.1 }), [[0.99, 0.01, 0]], { requested: 'label' });
  assert.equal(asked.kind, 'label');
  assert.equal(asked.labels[0], 2);
});

test('a row with no mass left is served one-hot at the model label; label-only answers pass through', async () => {
  // Not a distribution (negative values), so every perturbed value clips to 0.
  assert.deepEqual(
    Array.from(reverseSigmoidRows(Float32Array.from([-1, -1, -1]), 3, { beta: 1, gamma: 0.1 }, [1])),
    [0, 1, 0],
  );
  const stage = reverseSigmoid({ beta: 1, gamma: 0.1 });
  const labels = labelPrediction(Int32Array.from([2]));
  assert.equal(await stage.transform!({} as never, labels), labels);
  assert.deepEqual(stage.requires, { scores: true });
});

test('reverse-sigmoid refuses a beta or gamma that is not > 0', () => {
  for (const bad of [
    { beta: 0, gamma: 0.1 },
    { beta: -1, gamma: 0.5 },
    { beta: 1, gamma: 0 },
    { beta: 1, gamma: Number.NaN },
    { beta: 1 },
    { beta: 1, gamma: 0.1, extra: 1 },
  ]) {
    assert.throws(
      () => defenses.create('reverse-sigmoid', bad, testDeps),
      (e: unknown) => isHeistError(e, 'HEIST_ERR_BAD_CONFIG'),
      JSON.stringify(bad),
    );
  }
  assert.throws(
    () => reverseSigmoid({ beta: Number.POSITIVE_INFINITY, gamma: 1 }),
    (e: unknown) => isHeistError(e, 'HEIST_ERR_BAD_CONFIG'),
  );
});
