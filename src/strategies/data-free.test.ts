/**
 * @file The data-free strategy's balance by the target's answers: against a target that answers one
 * class to everything (the collapse seen at 100,000 queries on mnist-cnn), the generator moves the
 * substitute's probability off that class when `answerBalance` is on, and stays near the class
 * balance's even spread when it is off. Same seeds both ways.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { ModelInfo } from '../core/prediction.js';
import { createRng } from '../core/rng.js';
import { rowCount, tensor } from '../core/tensor.js';
import { createSurrogate } from '../surrogates/index.js';
import { dataFreeOptions, dataFreeStrategy } from './data-free.js';
import type { BoughtRows } from './types.js';

const info: ModelInfo = {
  name: 'collapsed',
  inputShape: [8],
  classes: 3,
  output: 'probs',
  domain: { min: 0, max: 1 },
};

/** The substitute's mean probability of class 0 on the generator's rows after `batches` batches. */
async function classZeroMass(answerBalance: number, batches = 60): Promise<number> {
  const substitute = await createSurrogate('logreg', { inputShape: [8], classes: 3 }, createRng(3));
  const strategy = dataFreeStrategy(
    dataFreeOptions.parse({
      disagreement: 'none',
      batch: 64,
      hidden: 32,
      latent: 8,
      learningRate: 0.01,
      answerBalance,
    }),
    createRng(4),
  );
  const rng = createRng(5);
  let latest: BoughtRows | undefined;
  let mass = 0;
  for (let b = 0; b < batches; b++) {
    const x = await strategy.propose(
      { info, round: 1, bought: b * 64, rng, substitute, ...(latest ? { latest } : {}) },
      64,
    );
    const n = rowCount(x);
    const p = (await substitute.predict(x)).scores!.data;
    mass = 0;
    for (let i = 0; i < n; i++) mass += p[i * 3] / n;
    // The target calls every row class 0.
    latest = {
      x,
      labels: new Int32Array(n),
      soft: tensor(
        Float32Array.from({ length: n * 3 }, (_, j) => (j % 3 === 0 ? 0.98 : 0.01)),
        [n, 3],
      ),
    };
  }
  substitute.dispose();
  return mass;
}

test('balance by the answers: a target that answers one class drives the generator off it', async () => {
  const off = await classZeroMass(0);
  const on = await classZeroMass(1);
  // Off: the class balance alone keeps the substitute's spread near even (1/3 a class).
  assert.ok(Math.abs(off - 1 / 3) < 0.1, `off: ${off}`);
  assert.ok(on < off - 0.1, `class 0 mass with the answers' balance ${on}, without ${off}`);
});
