/** @file mergeSpecs: one network whose probabilities are the softmax of its members' mean logits. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { createRng } from '../core/rng.js';
import type { NetworkSpec } from '../models/network-spec.js';
import { forwardRow } from '../models/network.js';
import { cnnSpec } from './cnn.js';
import { initWeights } from './create.js';
import { logregSpec } from './logreg.js';
import { mergeSpecs } from './merge-specs.js';
import { mlpSpec } from './mlp.js';

/** Random biases too, so that a bias that lands in the wrong block shows. */
function randomMember(template: NetworkSpec, seed: number): NetworkSpec {
  const rng = createRng(seed);
  const spec = initWeights(template, rng);
  for (const l of spec.layers)
    if (l.type === 'dense' || l.type === 'conv2d')
      for (let i = 0; i < l.bias.length; i++) l.bias[i] = rng.uniform(-0.3, 0.3);
  return spec;
}

/** softmax(mean_k log p_k) = softmax(mean_k z_k), since log p_k is z_k less a constant per row. */
function meanLogitProbs(members: NetworkSpec[], row: Float32Array): number[] {
  const logs = members.map((m) => Array.from(forwardRow(m, row), Math.log));
  const mean = logs[0].map((_, c) => logs.reduce((s, l) => s + l[c], 0) / members.length);
  const top = Math.max(...mean);
  const e = mean.map((v) => Math.exp(v - top));
  const sum = e.reduce((a, b) => a + b, 0);
  return e.map((v) => v / sum);
}

const cases: [string, NetworkSpec][] = [
  ['cnn on [10, 12, 2] (non-square, two channels)', cnnSpec({ inputShape: [10, 12, 2], classes: 4 })],
  ['mlp on [6, 5, 1] images (flatten first)', mlpSpec({ inputShape: [6, 5, 1], classes: 3, hidden: [7, 5] })],
  ['mlp on flat rows', mlpSpec({ inputShape: [9], classes: 3, hidden: [6] })],
  ['logreg', logregSpec({ inputShape: [9], classes: 3 })],
];

for (const [name, template] of cases) {
  test(`mergeSpecs of 3 ${name} predicts the softmax of the members' mean logits`, () => {
    const members = [11, 12, 13].map((s) => randomMember(template, s));
    const merged = mergeSpecs(members);
    assert.deepEqual(merged.inputShape, template.inputShape);
    assert.equal(merged.classes, template.classes);
    const size = template.inputShape.reduce((a, b) => a * b, 1);
    const rng = createRng(3);
    for (let r = 0; r < 5; r++) {
      const row = Float32Array.from({ length: size }, () => rng.next());
      const want = meanLogitProbs(members, row);
      const got = Array.from(forwardRow(merged, row));
      for (let c = 0; c < want.length; c++)
        assert.ok(Math.abs(got[c] - want[c]) < 1e-6, `${name} row ${r} class ${c}: ${got[c]} vs ${want[c]}`);
    }
  });
}

test('mergeSpecs of one member is that member; members of different structures are refused', () => {
  const a = randomMember(mlpSpec({ inputShape: [9], classes: 3, hidden: [6] }), 1);
  assert.equal(mergeSpecs([a]), a);
  const b = randomMember(mlpSpec({ inputShape: [9], classes: 3, hidden: [5] }), 2);
  assert.throws(() => mergeSpecs([a, b]), { code: 'HEIST_ERR_BAD_MODEL' });
  assert.throws(() => mergeSpecs([]), { code: 'HEIST_ERR_BAD_CONFIG' });
});
