/**
 * MLP equation solving (Tramèr et al. §4.1): a small ReLU MLP served from an ONNX file, extracted
 * through `heist extract --method mlp-equation-solving` (exported as ONNX); and a CI-sized run on
 * the 64-20-10 digits MLP (1x its 1,510 unknowns, a short L-BFGS run). The full 1x/2x/3x curve with
 * the default, longer fit: bench/mlp-equation-solving.ts.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { mlpEquationSolving } from '../../src/attacks/extract/relu-network/mlp-equation-solving.js';
import { designRows } from '../../src/attacks/extract/solvers/design-rows.js';
import { networkToOnnx } from '../../src/backends/onnx-writer.js';
import { isHeistError } from '../../src/core/errors.js';
import { createRng } from '../../src/core/rng.js';
import { tensor } from '../../src/core/tensor.js';
import { loadScenarioData } from '../../src/datasets/scenarios.js';
import type { NetworkSpec } from '../../src/models/network-spec.js';
import { loadOnnxModel } from '../../src/backends/onnx-model.js';
import { localOracle } from '../../src/oracle/local.js';
import { runExtract } from '../../src/runs/extract-run.js';
import { digitsMlpVictim } from '../helpers/digits-victims.js';

const dir = mkdtempSync(join(tmpdir(), 'heist-mlp-'));

function randomMlp(d: number, h: number, k: number, seed: number): NetworkSpec {
  const rng = createRng(seed);
  const draw = (n: number, s: number) => Float32Array.from({ length: n }, () => rng.normal() * s);
  return {
    inputShape: [d],
    classes: k,
    layers: [
      { type: 'dense', inputs: d, units: h, kernel: draw(d * h, 2), bias: draw(h, 0.5) },
      { type: 'relu' },
      { type: 'dense', inputs: h, units: k, kernel: draw(h * k, 1.5), bias: draw(k, 0.5) },
      { type: 'softmax' },
    ],
  };
}

test('a 4-6-3 ReLU MLP from an ONNX file: heist extract --method mlp-equation-solving, exported as ONNX', async (t) => {
  const file = join(dir, 'tiny-mlp.onnx');
  writeFileSync(file, networkToOnnx(randomMlp(4, 6, 3, 5), { name: 'tiny-mlp', domain: { min: 0, max: 1 } }));
  // The attacker assumes 20 hidden units (more than the target's 6): 163 unknowns; 3x of them.
  const rec = await runExtract({
    method: 'mlp-equation-solving',
    target: file,
    out: join(dir, 'tiny'),
    budget: 489,
    uniformEval: 5000,
    seed: 0,
  });
  t.diagnostic(
    `tiny MLP: uniform agreement ${rec.metrics.uniformFidelity}, fit loss ${rec.metrics.fitLoss}, ${rec.metrics.fitIterations} iterations`,
  );
  assert.equal(rec.queries.used, 489);
  assert.equal(rec.metrics.unknowns, 163);
  assert.ok(rec.metrics.uniformFidelity! >= 0.99, `uniform agreement ${rec.metrics.uniformFidelity}`);
  assert.ok(existsSync(join(dir, 'tiny', 'extracted.onnx')));
  const [victim, copy] = [await loadOnnxModel(file), await loadOnnxModel(join(dir, 'tiny', 'extracted.onnx'))];
  try {
    const x = tensor(designRows(victim.info, 2000, 'uniform', createRng(4)), [2000, 4]);
    const a = (await victim.predict(x)).labels;
    const b = (await copy.predict(x)).labels;
    assert.ok(a.filter((v, i) => v === b[i]).length / 2000 >= 0.99, 'the exported ONNX is the extracted model');
  } finally {
    await victim.close();
    await copy.close();
  }
  await assert.rejects(
    runExtract({ method: 'mlp-equation-solving', target: file, out: join(dir, 'small'), budget: 10 }),
    (e) => isHeistError(e, 'HEIST_ERR_BAD_CONFIG'),
    'fewer equations than unknowns is refused before any query',
  );
});

test('digits 64-20-10 MLP, CI-sized (1x = 1,510 queries, 400 L-BFGS iterations): >= 97% agreement', async (t) => {
  const victimFile = (await digitsMlpVictim(dir)).file;
  const victim = await loadOnnxModel(victimFile);
  try {
    const r = await mlpEquationSolving({ maxIterations: 400 }).extract(localOracle(victim), {
      budget: 1510,
      rng: createRng(0),
    });
    const evalX = loadScenarioData('digits-mlp').evaluation.x;
    const u = tensor(designRows(victim.info, 5000, 'uniform', createRng(9)), [5000, 64]);
    const agree = async (x: typeof u) => {
      const a = (await victim.predict(x)).labels;
      const b = (await r.model.predict(x)).labels;
      return a.filter((v, i) => v === b[i]).length / a.length;
    };
    const [ev, un] = [await agree(evalX), await agree(u)];
    t.diagnostic(
      `digits MLP at 1x, 400 iterations: eval split ${ev}, uniform ${un}, fit loss ${r.diagnostics!.fitLoss}`,
    );
    assert.equal(r.queriesUsed, 1510);
    assert.ok(ev >= 0.97, `evaluation-split agreement ${ev}`);
    assert.ok(un >= 0.97, `uniform agreement ${un}`);
  } finally {
    await victim.close();
  }
});
