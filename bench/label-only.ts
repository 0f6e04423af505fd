/**
 * @file Label-only extraction of the digits softmax regression (Tramèr et al. §6.1): uniform versus
 * adaptive retraining at budgets m x 650 (the k (d + 1) unknowns), m in {1, 5, 10, 50, 100}, each
 * through `heist extract` (runExtract) against the ONNX victim file, scored on the digits-mlp
 * evaluation split (Tramèr's 1 - R_test) and on 10,000 uniform inputs (1 - R_unif).
 * Writes bench/results/label-only.json.
 * Run: node --import tsx bench/label-only.ts [m,m,...]
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runExtract } from '../src/runs/extract-run.js';
import { digitsSoftmaxVictim } from '../test/helpers/digits-victims.js';
import { writeBenchResult } from './results-file.js';

const multiples = (process.argv[2] ?? '1,5,10,50,100').split(',').map(Number);
const dir = mkdtempSync(join(tmpdir(), 'heist-bench-label-only-'));
const victim = await digitsSoftmaxVictim(dir);
const unknowns = 10 * (64 + 1);
const rows: Record<string, unknown>[] = [];
for (const m of multiples) {
  for (const method of ['retraining-uniform', 'retraining-adaptive']) {
    const t0 = performance.now();
    const rec = await runExtract({
      method,
      target: victim.file,
      out: join(dir, `${method}-${m}`),
      budget: m * unknowns,
      eval: 'digits-mlp',
      uniformEval: 10_000,
      seed: 0,
    });
    const row = {
      method,
      multiple: m,
      queries: rec.queries.used,
      evalSplitAgreement: rec.metrics.evalSplitFidelity,
      uniformAgreement: rec.metrics.uniformFidelity,
      rounds: rec.metrics.rounds,
      wallS: Number(((performance.now() - t0) / 1000).toFixed(1)),
    };
    rows.push(row);
    process.stdout.write(`${JSON.stringify(row)}\n`);
  }
}
const path = writeBenchResult('label-only', {
  victim: 'digits softmax regression (test/helpers/digits-victims.ts), 64 features, 10 classes, 650 unknowns',
  command: `node --import tsx bench/label-only.ts ${multiples.join(',')}`,
  target: '>= 99.9% agreement within 65,000 queries; adaptive > uniform at every multiple',
  rows,
});
process.stdout.write(`wrote ${path}\n`);
