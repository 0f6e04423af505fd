/**
 * Softmax regression on digits (64 features, 10 classes), trained here on the digits-mlp victim
 * split and served from an ONNX file, extracted by equation solving at Tramèr et al.'s budgets.
 * Tramèr count k (d + 1) = 650 unknowns and report budgets as multiples of it (650 = 1x, 325 =
 * 0.5x). Each answer gives k - 1 = 9 independent log-ratio equations, one for each class's own
 * d + 1 = 65 unknowns, so 65 rows already determine every weight: 325 and 650 rows are 5x and
 * 10x overdetermined, and least squares averages the float32 noise (measured below).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { networkToOnnx } from '../../src/backends/onnx-writer.js';
import { createRng } from '../../src/core/rng.js';
import { loadScenarioData } from '../../src/datasets/scenarios.js';
import type { NetworkSpec } from '../../src/models/network-spec.js';
import { runExtract } from '../../src/runs/extract-run.js';
import { createSurrogate } from '../../src/surrogates/index.js';

const dir = mkdtempSync(join(tmpdir(), 'heist-extract-digits-'));
let victim: { file: string; kernel: Float32Array } | undefined;

/** A softmax regression trained on the victim split, written as ONNX (float32 Gemm + Softmax in onnxruntime). */
async function digitsLogreg(): Promise<{ file: string; kernel: Float32Array }> {
  if (victim) return victim;
  const data = loadScenarioData('digits-mlp');
  const s = await createSurrogate('logreg', { inputShape: [64], classes: 10 }, createRng(1));
  await s.fit(
    { x: data.victimTrain.x, labels: data.victimTrain.y! },
    { loss: 'hard', epochs: 20, batchSize: 64, learningRate: 0.05, rng: createRng(2) },
  );
  const spec: NetworkSpec = s.toSpec();
  s.dispose();
  const dense = spec.layers.find((l) => l.type === 'dense');
  assert.ok(dense && dense.type === 'dense');
  const file = join(dir, 'digits-logreg.onnx');
  writeFileSync(file, networkToOnnx(spec, { name: 'digits-logreg', domain: { min: 0, max: 1 } }));
  victim = { file, kernel: dense.kernel };
  return victim;
}

function maxWeightError(out: string, kernel: Float32Array): number {
  const w = JSON.parse(readFileSync(join(out, 'extracted-weights.json'), 'utf8')) as { weights: number[][] };
  let worst = 0;
  for (let j = 0; j < 64; j++)
    for (let c = 1; c < 10; c++)
      worst = Math.max(worst, Math.abs(w.weights[j][c] - (kernel[j * 10 + c] - kernel[j * 10])));
  return worst;
}

for (const [budget, minTest] of [
  [650, 1],
  [325, 0.999],
  [65, 0.999],
] as const) {
  test(`digits softmax regression, ${budget} queries: >= ${(minTest * 100).toFixed(1)}% agreement (evaluation split and uniform), extraction < 10 s`, async (t) => {
    const { file, kernel } = await digitsLogreg();
    const out = join(dir, `q${budget}`);
    const t0 = performance.now();
    const rec = await runExtract({
      method: 'equation-solving',
      target: file,
      out,
      budget,
      eval: 'digits-mlp',
      seed: 0,
    });
    const wall = performance.now() - t0;
    assert.equal(rec.queries.used, budget);
    assert.equal(rec.queries.eval, 450 + 10_000);
    assert.ok(rec.metrics.evalSplitFidelity! >= minTest, `evaluation-split agreement ${rec.metrics.evalSplitFidelity}`);
    if (budget === 650) assert.equal(rec.metrics.uniformFidelity, 1, '650 queries: 100% on uniform inputs too');
    else assert.ok(rec.metrics.uniformFidelity! >= minTest, `uniform agreement ${rec.metrics.uniformFidelity}`);
    assert.ok(rec.metrics.extractMs! < 10_000, `extraction took ${rec.metrics.extractMs} ms`);
    const err = maxWeightError(out, kernel);
    assert.ok(err < 1e-3, `max weight error ${err}`);
    t.diagnostic(
      `${budget} queries: eval-split ${rec.metrics.evalSplitFidelity}, uniform ${rec.metrics.uniformFidelity}, max |dw| ${err.toExponential(2)}, ` +
        `bound ${rec.metrics.weightErrorBound?.toExponential(2)}, std err ${rec.metrics.weightStdError?.toExponential(2) ?? '-'}, ` +
        `residual ${rec.metrics.residualRms!.toExponential(2)}, extraction ${rec.metrics.extractMs!.toFixed(0)} ms, run ${wall.toFixed(0)} ms`,
    );
  });
}
