/** @file The attack class of a steal: by the labels it trained on and the fidelity it reached. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ATTACK_CLASSES, classifyAttack } from './attack-class.js';

test('probabilities and fidelity >= 0.90: functionally equivalent; labels and >= 0.80: task accuracy; else approximation', () => {
  assert.equal(classifyAttack('soft', 0.97)?.name, 'functionally-equivalent');
  assert.equal(classifyAttack('soft', 0.9)?.name, 'functionally-equivalent');
  assert.equal(classifyAttack('soft', 0.8999)?.name, 'approximation');
  assert.equal(classifyAttack('hard', 0.97)?.name, 'task-accuracy');
  assert.equal(classifyAttack('hard', 0.8)?.name, 'task-accuracy');
  assert.equal(classifyAttack('hard', 0.75)?.name, 'approximation');
  assert.equal(classifyAttack('soft', undefined), undefined);
  assert.equal(classifyAttack('soft', Number.NaN), undefined);
  const c = classifyAttack('hard', 0.85)!;
  assert.deepEqual(c.typicalFidelity, [0.8, 0.95]);
  assert.match(c.reason, /labels only, fidelity 0\.8500/);
  assert.deepEqual(
    ATTACK_CLASSES.map((k) => k.typicalFidelity),
    [
      [0.9, 0.99],
      [0.8, 0.95],
      [0.7, 0.9],
    ],
  );
});
