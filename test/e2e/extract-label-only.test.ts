/**
 * Label-only extraction of the digits softmax regression (Tramèr et al. §6.1) through `heist
 * extract`: adaptive retraining beats uniform retraining at 1x and 5x the 650 unknowns on the
 * evaluation split; a label-only target gives exactly the same extraction (only labels are used);
 * the CLI runs the method. Full-size grid (up to 100x): bench/label-only.ts.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Predictor } from '../../src/core/prediction.js';
import { repoRoot } from '../../src/datasets/paths.js';
import { loadOnnxModel } from '../../src/backends/onnx-model.js';
import { localOracle } from '../../src/oracle/local.js';
import type { RunRecord } from '../../src/report/run-record.js';
import { runExtract } from '../../src/runs/extract-run.js';
import { digitsSoftmaxVictim } from '../helpers/digits-victims.js';

const dir = mkdtempSync(join(tmpdir(), 'heist-label-only-'));
const victimP = digitsSoftmaxVictim(dir);

test('digits softmax, labels only: adaptive beats uniform retraining at 1x and 5x (650 and 3,250 queries)', async (t) => {
  const { file } = await victimP;
  const at: Record<string, RunRecord> = {};
  for (const m of [1, 5]) {
    for (const method of ['retraining-uniform', 'retraining-adaptive']) {
      const rec = await runExtract({
        method,
        target: file,
        out: join(dir, `${method}-${m}`),
        budget: 650 * m,
        eval: 'digits-mlp',
        uniformEval: 2000,
        seed: 0,
      });
      assert.equal(rec.queries.used, 650 * m);
      at[`${method}@${m}`] = rec;
    }
    const u = at[`retraining-uniform@${m}`].metrics;
    const a = at[`retraining-adaptive@${m}`].metrics;
    t.diagnostic(
      `${m}x: uniform eval ${u.evalSplitFidelity!.toFixed(4)} / unif ${u.uniformFidelity}, adaptive eval ${a.evalSplitFidelity!.toFixed(4)} / unif ${a.uniformFidelity}`,
    );
    assert.ok(
      a.evalSplitFidelity! > u.evalSplitFidelity!,
      `${m}x: adaptive ${a.evalSplitFidelity} > uniform ${u.evalSplitFidelity} on the evaluation split`,
    );
  }
  assert.ok(at['retraining-adaptive@5'].metrics.evalSplitFidelity! >= 0.93, 'adaptive at 5x: a close copy already');
  assert.ok(at['retraining-adaptive@5'].metrics.uniformFidelity! >= 0.97);
  assert.ok(
    at['retraining-adaptive@5'].metrics.evalSplitFidelity! > at['retraining-adaptive@1'].metrics.evalSplitFidelity!,
    'more queries, closer copy',
  );
  const weights = JSON.parse(readFileSync(join(dir, 'retraining-adaptive-5', 'extracted-weights.json'), 'utf8')) as {
    weights: number[][];
  };
  assert.equal(weights.weights.length, 64, 'the extracted softmax regression is exported like equation solving\u2019s');
});

test('a label-only target gives the same extraction as the probabilities target (only labels are used)', async () => {
  const { file } = await victimP;
  const model = await loadOnnxModel(file);
  try {
    const labelOnly: Predictor = { info: { ...model.info, output: 'label' }, predict: (x) => model.predict(x) };
    const viaLabels = await runExtract(
      {
        method: 'retraining-adaptive',
        target: 'label-only (in process)',
        out: join(dir, 'labels'),
        budget: 650,
        uniformEval: 1000,
        seed: 3,
      },
      { oracle: localOracle(labelOnly) },
    );
    const viaProbs = await runExtract({
      method: 'retraining-adaptive',
      target: file,
      out: join(dir, 'probs'),
      budget: 650,
      uniformEval: 1000,
      seed: 3,
    });
    assert.equal(viaLabels.target.output, 'label');
    assert.equal(viaLabels.metrics.uniformFidelity, viaProbs.metrics.uniformFidelity);
    assert.equal(
      readFileSync(join(dir, 'labels', 'extracted-weights.json'), 'utf8').replace(/"name":"[^"]*"/, ''),
      readFileSync(join(dir, 'probs', 'extracted-weights.json'), 'utf8').replace(/"name":"[^"]*"/, ''),
    );
  } finally {
    await model.close();
  }
});

test('CLI: heist extract --method retraining-uniform / --list', async () => {
  const { file } = await victimP;
  const heist = (...args: string[]) =>
    spawnSync(process.execPath, [join(repoRoot, 'bin/heist.js'), 'extract', ...args], {
      encoding: 'utf8',
      timeout: 60_000,
    });
  const list = heist('--list');
  assert.equal(list.status, 0, list.stderr);
  for (const m of ['retraining-uniform', 'retraining-adaptive', 'equation-solving-rounded', 'mlp-equation-solving'])
    assert.match(list.stdout, new RegExp(m));
  const run = heist(
    '--method',
    'retraining-uniform',
    '--target',
    file,
    '--out',
    join(dir, 'cli'),
    '--budget',
    '650',
    '--uniform-eval',
    '1000',
  );
  assert.equal(run.status, 0, run.stderr);
  assert.match(run.stdout, /fidelity 0\.\d{4} .*queries 650\/650 \(\+1000 eval\)/);
});
