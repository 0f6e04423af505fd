/**
 * Exact extraction of the shipped binary LR victim (breast-cancer-logreg.onnx, 30 features, a
 * 2-way softmax) by equation solving: from the local file, through the real HTTP gateway (float32
 * probabilities as JSON numbers), from the CLI; and a label-only target refused before any query.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readOnnxInitializers } from '../../src/backends/onnx-graph.js';
import { isHeistError } from '../../src/core/errors.js';
import type { Prediction, Predictor } from '../../src/core/prediction.js';
import { createRng } from '../../src/core/rng.js';
import { modelsDir, repoRoot } from '../../src/datasets/paths.js';
import { loadScenarioData } from '../../src/datasets/scenarios.js';
import { randomLinearModel } from '../../src/models/linear.js';
import { loadOnnxModel } from '../../src/backends/onnx-model.js';
import { localOracle } from '../../src/oracle/local.js';
import { readRunRecord } from '../../src/report/run-record.js';
import { runExtract } from '../../src/runs/extract-run.js';
import { startGateway } from '../../src/runs/serve-run.js';

const victimFile = join(modelsDir, 'breast-cancer-logreg.onnx');
const tmp = (): string => mkdtempSync(join(tmpdir(), 'heist-extract-'));

interface WeightsFile {
  weights: number[][];
  bias: number[];
}

/** max |extracted - (w_1 - w_0)| over the 30 weights and the bias, against the ONNX file's own float32 initializers. */
function maxWeightError(w: WeightsFile): number {
  const init = readOnnxInitializers(readFileSync(victimFile));
  const kernel = Object.values(init).find((t) => t.dims.length === 2)!;
  const bias = Object.values(init).find((t) => t.dims.length === 1)!;
  assert.deepEqual(kernel.dims, [30, 2]);
  let worst = Math.abs(w.bias[1] - (bias.data[1] - bias.data[0]));
  for (let j = 0; j < 30; j++) {
    assert.equal(w.weights[j][0], 0, 'class 0 fixed to zero');
    worst = Math.max(worst, Math.abs(w.weights[j][1] - (kernel.data[j * 2 + 1] - kernel.data[j * 2])));
  }
  return worst;
}

test('binary LR from a local file: exactly 31 paid queries, 100% agreement on the evaluation split and on 10,000 uniform inputs', async (t) => {
  const out = tmp();
  const rec = await runExtract({
    method: 'equation-solving',
    target: victimFile,
    out,
    eval: 'breast-cancer-logreg',
    seed: 0,
  });
  assert.equal(rec.kind, 'extract');
  assert.equal(rec.queries.used, 31, 'd + 1 = 31 paid attack queries');
  assert.equal(rec.queries.budget, 31);
  assert.equal(rec.queries.eval, 142 + 10_000, 'evaluation split + uniform rows, counted apart');
  assert.equal(rec.queries.total, 31 + 142 + 10_000);
  assert.equal(rec.metrics.evalSplitFidelity, 1);
  assert.equal(rec.metrics.fidelity, 1);
  assert.equal(rec.metrics.uniformFidelity, 1);
  assert.equal(rec.metrics.accuracy, rec.metrics.targetAccuracy, 'same labels, same accuracy');
  assert.ok(rec.metrics.extractMs! < 10_000);
  assert.deepEqual(await readRunRecord(join(out, 'run.json')), rec);
  for (const f of ['run.json', 'report.html', 'extracted.onnx', 'extracted-weights.json', 'transcript.jsonl'])
    assert.ok(existsSync(join(out, f)), f);
  assert.equal(
    readFileSync(join(out, 'transcript.jsonl'), 'utf8').trim().split('\n').length,
    1 + rec.queries.total,
    'header + one line per paid row',
  );

  const err = maxWeightError(JSON.parse(readFileSync(join(out, 'extracted-weights.json'), 'utf8')) as WeightsFile);
  t.diagnostic(
    `local file: max abs weight error ${err.toExponential(2)} (float32 answer-rounding bound ${rec.metrics.weightErrorBound?.toExponential(2)})`,
  );
  assert.ok(err < 1e-4, `max weight error ${err}`);

  // The exported ONNX is the same classifier.
  const extracted = await loadOnnxModel(join(out, 'extracted.onnx'));
  const victim = await loadOnnxModel(victimFile);
  try {
    const x = loadScenarioData('breast-cancer-logreg').evaluation.x;
    assert.deepEqual((await extracted.predict(x)).labels, (await victim.predict(x)).labels);
    assert.equal(extracted.info.classes, 2);
  } finally {
    await extracted.close();
    await victim.close();
  }
});

test('through the real HTTP gateway: float32 probabilities as JSON lose nothing (same weights as the local file), 100% agreement', async (t) => {
  const dir = tmp();
  const gw = await startGateway({ anonymous: true, models: [victimFile], port: 0 });
  try {
    const target = `${gw.url}/v1/models/breast-cancer-logreg`;
    const rec = await runExtract({
      method: 'equation-solving',
      target,
      out: join(dir, 'http'),
      eval: 'breast-cancer-logreg',
      seed: 0,
    });
    assert.equal(rec.target.url, target);
    assert.equal(rec.queries.used, 31);
    assert.equal(rec.metrics.fidelity, 1);
    assert.equal(rec.metrics.uniformFidelity, 1);
    const local = await runExtract({
      method: 'equation-solving',
      target: victimFile,
      out: join(dir, 'file'),
      uniformEval: 0,
      seed: 0,
    });
    const overHttp = JSON.parse(readFileSync(join(dir, 'http', 'extracted-weights.json'), 'utf8')) as WeightsFile;
    const inProcess = JSON.parse(readFileSync(join(dir, 'file', 'extracted-weights.json'), 'utf8')) as WeightsFile;
    assert.deepEqual(
      overHttp.weights,
      inProcess.weights,
      'bit-identical: a float32 printed as a JSON number parses back to the same float32',
    );
    assert.deepEqual(overHttp.bias, inProcess.bias);
    assert.equal(local.queries.used, 31);
    const err = maxWeightError(overHttp);
    t.diagnostic(
      `over HTTP: max abs weight error ${err.toExponential(2)} (float32 answer-rounding bound ${rec.metrics.weightErrorBound?.toExponential(2)})`,
    );
    assert.ok(err < 1e-4, `max weight error ${err}`);
  } finally {
    await gw.close();
  }
});

test('a label-only target is refused before any query', async () => {
  const model = randomLinearModel(createRng(3), 30, 2, { output: 'label' });
  let predicted = 0;
  const counting: Predictor = {
    info: model.info,
    predict: (x) => {
      predicted++;
      return model.predict(x) as Prediction;
    },
  };
  const out = tmp();
  await assert.rejects(
    runExtract(
      { method: 'equation-solving', target: 'label-only (in process)', out, eval: 'breast-cancer-logreg' },
      { oracle: localOracle(counting) },
    ),
    (e) => isHeistError(e, 'HEIST_ERR_REQUIREMENTS'),
  );
  assert.equal(predicted, 0, 'no row was bought, evaluation rows included');
  assert.equal(existsSync(join(out, 'transcript.jsonl')), false);
  await assert.rejects(
    runExtract({ method: 'equation-solving', target: victimFile, out: tmp(), budget: 30 }),
    (e) => isHeistError(e, 'HEIST_ERR_BAD_CONFIG'),
    'fewer than d + 1 queries cannot determine the weights',
  );
});

test('CLI: heist extract --list names the method and its paper; a run prints fidelity and writes the report', () => {
  const heist = (...args: string[]) =>
    spawnSync(process.execPath, [join(repoRoot, 'bin/heist.js'), 'extract', ...args], {
      encoding: 'utf8',
      timeout: 60_000,
    });
  const list = heist('--list');
  assert.equal(list.status, 0, list.stderr);
  assert.match(list.stdout, /equation-solving/);
  assert.match(list.stdout, /Tramèr et al\..*arXiv:1609\.02943.*§4\.1/);
  const bad = heist('--target', victimFile);
  assert.equal(bad.status, 2);
  assert.match(bad.stderr, /HEIST_ERR_BAD_CONFIG.*--method/);
  const out = tmp();
  const run = heist('--method', 'equation-solving', '--target', victimFile, '--out', out, '--uniform-eval', '1000');
  assert.equal(run.status, 0, run.stderr);
  assert.match(run.stdout, /fidelity 1\.0000 .*uniform 1\.0000.*queries 31\/31 \(\+1000 eval\)/);
  assert.ok(existsSync(join(out, 'report.html')));
});
