/**
 * Tramèr et al.'s rounding countermeasure against equation solving, on the digits softmax
 * regression served by the real gateway (`heist serve --round`, 127.0.0.1, port 0), 650 queries
 * (1x the k (d + 1) unknowns) each: probabilities rounded to 4-5 decimals are as good as none
 * (100% agreement on the evaluation split); 2-3 decimals are worse (larger weight error) but still
 * beat label-only retraining at the same budget.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { RunRecord } from '../../src/report/run-record.js';
import { runExtract } from '../../src/runs/extract-run.js';
import { startGateway } from '../../src/runs/serve-run.js';
import { digitsSoftmaxVictim } from '../helpers/digits-victims.js';

const dir = mkdtempSync(join(tmpdir(), 'heist-rounding-'));
const BUDGET = 650;

function maxWeightError(out: string, kernel: Float32Array): number {
  const w = JSON.parse(readFileSync(join(out, 'extracted-weights.json'), 'utf8')) as { weights: number[][] };
  let worst = 0;
  for (let j = 0; j < 64; j++)
    for (let c = 1; c < 10; c++)
      worst = Math.max(worst, Math.abs(w.weights[j][c] - (kernel[j * 10 + c] - kernel[j * 10])));
  return worst;
}

async function against(file: string, round: number | undefined, method: string, name: string): Promise<RunRecord> {
  const gw = await startGateway({ anonymous: true, models: [file], port: 0, round });
  try {
    const target = `${gw.url}/v1/models/digits-softmax`;
    return await runExtract({
      method,
      target,
      out: join(dir, name),
      budget: BUDGET,
      eval: 'digits-mlp',
      uniformEval: 5000,
      seed: 0,
    });
  } finally {
    await gw.close();
  }
}

test('digits softmax behind `serve --round`: 4-5 decimals as good as none, 2-3 worse, all better than label-only retraining', async (t) => {
  const victim = await digitsSoftmaxVictim(dir);
  const dense = victim.spec.layers.find((l) => l.type === 'dense');
  assert.ok(dense && dense.type === 'dense');
  const rows: { decimals: number | undefined; rec: RunRecord; err: number }[] = [];
  for (const decimals of [undefined, 5, 4, 3, 2]) {
    const name = `round-${decimals ?? 'none'}`;
    const rec = await against(victim.file, decimals, 'equation-solving-rounded', name);
    assert.equal(rec.queries.used, BUDGET);
    assert.equal(rec.metrics.roundingDecimals, decimals ?? -1, 'the attack reads the rounding off the answers');
    rows.push({ decimals, rec, err: maxWeightError(join(dir, name), dense.kernel) });
  }
  const labelOnly = await against(victim.file, undefined, 'retraining-uniform', 'label-only');
  assert.equal(labelOnly.queries.used, BUDGET);
  for (const r of rows) {
    t.diagnostic(
      `decimals ${r.decimals ?? 'none'}: eval split ${r.rec.metrics.evalSplitFidelity}, uniform ${r.rec.metrics.uniformFidelity}, max |dw| ${r.err.toExponential(2)}`,
    );
  }
  t.diagnostic(
    `label-only uniform retraining: eval split ${labelOnly.metrics.evalSplitFidelity}, uniform ${labelOnly.metrics.uniformFidelity}`,
  );
  const [none, five, four, three, two] = rows;
  for (const r of [none, five, four])
    assert.equal(r.rec.metrics.evalSplitFidelity, 1, `decimals ${r.decimals ?? 'none'}: 100% on the evaluation split`);
  assert.ok(
    none.err < 1e-4 && five.err < 1e-3 && four.err < 1e-2,
    'unrounded and 4-5 decimals recover the weights closely',
  );
  for (let i = 1; i < rows.length; i++)
    assert.ok(
      rows[i].err > rows[i - 1].err,
      `coarser rounding, larger weight error (${rows[i].err} vs ${rows[i - 1].err})`,
    );
  assert.ok(two.rec.metrics.uniformFidelity! < 1, '2 decimals: visibly worse on uniform inputs');
  assert.ok(two.rec.metrics.uniformFidelity! <= three.rec.metrics.uniformFidelity!);
  for (const r of [three, two]) {
    assert.ok(
      r.rec.metrics.evalSplitFidelity! >= 0.98,
      `decimals ${r.decimals}: still a close copy (${r.rec.metrics.evalSplitFidelity})`,
    );
    assert.ok(
      r.rec.metrics.evalSplitFidelity! > labelOnly.metrics.evalSplitFidelity!,
      'better than label-only retraining at the same budget',
    );
    assert.ok(r.rec.metrics.uniformFidelity! > labelOnly.metrics.uniformFidelity!);
  }
});
