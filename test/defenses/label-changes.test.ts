/**
 * @file The numbers behind `changesLabels: true`: for reverse-sigmoid and gaussian-noise, the share
 * of the digits-mlp victim's evaluation rows whose served top-1 label is still the model's, at the
 * entry's example options and at the other settings the stage's file comment reports. The figures
 * live in each file's @file comment; this test measures them and fails when they drift.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { type OnnxPredictor, loadOnnxModel } from '../../src/backends/onnx-model.js';
import type { Prediction } from '../../src/core/prediction.js';
import type { Tensor } from '../../src/core/tensor.js';
import { silentLogger } from '../../src/core/types.js';
import { modelsDir, repoRoot } from '../../src/datasets/paths.js';
import { loadScenarioData } from '../../src/datasets/scenarios.js';
import { createDefenses, defendPredictor, defenses } from '../../src/defenses/index.js';

/** The secret the gaussian-noise figures were measured with (another secret: other noise, a similar rate). */
const deps = {
  clock: { now: () => 0, sleep: async () => {} },
  log: silentLogger,
  secret: Buffer.from('label-changes-test-secret'),
};

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
});

/** How many rows keep the model's top-1 label behind the stage. */
async function kept(name: string, options: unknown): Promise<number> {
  const defended = defendPredictor(victim, createDefenses([{ name, options }], deps));
  const out = await defended.predict(x);
  await defended.close();
  return out.labels.reduce((n, label, i) => n + (label === raw.labels[i] ? 1 : 0), 0);
}

const literal = (s: string): string => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/** The "K/N (P%) at TEXT" figure of `file`'s @file comment. */
function documented(file: string, text: string): { kept: number; of: number; percent: string } {
  const source = readFileSync(join(repoRoot, 'src/defenses', file), 'utf8');
  const comment = source.slice(0, source.indexOf('*/'));
  const m = new RegExp(`(\\d+)/(\\d+) \\((\\d+\\.\\d\\d)%\\) at ${literal(text)}\\b`).exec(
    comment.replace(/\n \* /g, ' '),
  );
  assert.ok(m, `${file}'s @file comment reports no "K/N (P%) at ${text}"`);
  return { kept: Number(m[1]), of: Number(m[2]), percent: m[3] };
}

const cases = [
  { name: 'reverse-sigmoid', options: { beta: 1, gamma: 0.1 }, text: 'beta = 1, gamma = 0.1', example: true },
  { name: 'reverse-sigmoid', options: { beta: 1, gamma: 0.5 }, text: 'beta = 1, gamma = 0.5', example: false },
  { name: 'reverse-sigmoid', options: { beta: 2, gamma: 0.1 }, text: 'beta = 2, gamma = 0.1', example: false },
  { name: 'gaussian-noise', options: { sigma: 0.1 }, text: 'sigma = 0.1', example: true },
  { name: 'gaussian-noise', options: { sigma: 0.05 }, text: 'sigma = 0.05', example: false },
  { name: 'gaussian-noise', options: { sigma: 0.2 }, text: 'sigma = 0.2', example: false },
];

for (const c of cases) {
  test(`${c.name} at ${c.text}: the top-1 preservation rate its file comment reports`, async () => {
    const entry = defenses.get(c.name);
    assert.equal(entry.changesLabels, true);
    if (c.example) assert.deepEqual(entry.example, c.options, 'the first figure is at the example options');
    const doc = documented(`${c.name}.ts`, c.text);
    const n = raw.labels.length;
    const measured = await kept(c.name, c.options);
    assert.equal(doc.of, n);
    assert.equal(measured, doc.kept, `measured ${measured}/${n}, documented ${doc.kept}/${doc.of}`);
    assert.equal(((100 * measured) / n).toFixed(2), doc.percent);
  });
}
