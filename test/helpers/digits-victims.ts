/**
 * Digits victims shared by the extraction tests and benches (not a test file): a softmax regression
 * (the same recipe as test/e2e/extract-digits.test.ts) and a 64-20-10 ReLU MLP, both trained with
 * the tfjs surrogates on the digits-mlp victim split and written as ONNX files.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { networkToOnnx } from '../../src/backends/onnx-writer.js';
import { createRng } from '../../src/core/rng.js';
import { loadScenarioData } from '../../src/datasets/scenarios.js';
import type { NetworkSpec } from '../../src/models/network-spec.js';
import { createSurrogate } from '../../src/surrogates/index.js';

export interface DigitsVictim {
  readonly file: string;
  readonly spec: NetworkSpec;
}

/** Softmax regression on the digits victim split (20 epochs of Adam, as in extract-digits.test.ts). */
export async function digitsSoftmaxVictim(dir: string): Promise<DigitsVictim> {
  const data = loadScenarioData('digits-mlp');
  const s = await createSurrogate('logreg', { inputShape: [64], classes: 10 }, createRng(1));
  await s.fit(
    { x: data.victimTrain.x, labels: data.victimTrain.y! },
    { loss: 'hard', epochs: 20, batchSize: 64, learningRate: 0.05, rng: createRng(2) },
  );
  const spec = s.toSpec();
  s.dispose();
  const file = join(dir, 'digits-softmax.onnx');
  writeFileSync(file, networkToOnnx(spec, { name: 'digits-softmax', domain: { min: 0, max: 1 } }));
  return { file, spec };
}

/** A 64-20-10 ReLU MLP on the digits victim split (hard labels, Adam). */
export async function digitsMlpVictim(dir: string, epochs = 60): Promise<DigitsVictim> {
  const data = loadScenarioData('digits-mlp');
  const s = await createSurrogate('mlp', { inputShape: [64], classes: 10, hidden: [20] }, createRng(11));
  await s.fit(
    { x: data.victimTrain.x, labels: data.victimTrain.y! },
    { loss: 'hard', epochs, batchSize: 32, learningRate: 0.01, rng: createRng(12) },
  );
  const spec = s.toSpec();
  s.dispose();
  const file = join(dir, 'digits-mlp-20.onnx');
  writeFileSync(file, networkToOnnx(spec, { name: 'digits-mlp-20', domain: { min: 0, max: 1 } }));
  return { file, spec };
}
