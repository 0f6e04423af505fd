/**
 * @file MLP equation solving (Tramèr et al. §4.1) on a 64-20-10 ReLU MLP trained on digits:
 * agreement versus queries at 1x, 2x and 3x its 1,510 unknowns, each through `heist extract
 * --method mlp-equation-solving` (runExtract) against the ONNX victim file, scored on the
 * digits-mlp evaluation split (1 - R_test) and on 10,000 uniform inputs (1 - R_unif).
 * Writes bench/results/mlp-equation-solving.json.
 * Run: node --import tsx bench/mlp-equation-solving.ts [multiple,multiple,...]
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runExtract } from '../src/runs/extract-run.js';
import { digitsMlpVictim } from '../test/helpers/digits-victims.js';
import { writeBenchResult } from './results-file.js';

const multiples = (process.argv[2] ?? '1,2,3').split(',').map(Number);
const dir = mkdtempSync(join(tmpdir(), 'heist-bench-mlp-'));
const victim = await digitsMlpVictim(dir);
const unknowns = 64 * 20 + 20 + 20 * 10 + 10;
const rows: Record<string, unknown>[] = [];
for (const m of multiples) {
  const t0 = performance.now();
  const rec = await runExtract({
    method: 'mlp-equation-solving',
    target: victim.file,
    out: join(dir, `x${m}`),
    budget: Math.round(m * unknowns),
    eval: 'digits-mlp',
    uniformEval: 10_000,
    seed: 0,
  });
  const row = {
    multiple: m,
    queries: rec.queries.used,
    evalSplitAgreement: rec.metrics.evalSplitFidelity,
    uniformAgreement: rec.metrics.uniformFidelity,
    victimAccuracy: rec.metrics.targetAccuracy,
    extractedAccuracy: rec.metrics.accuracy,
    fitLoss: rec.metrics.fitLoss,
    fitIterations: rec.metrics.fitIterations,
    wallS: Number(((performance.now() - t0) / 1000).toFixed(1)),
  };
  rows.push(row);
  process.stdout.write(`${JSON.stringify(row)}\n`);
}
const path = writeBenchResult('mlp-equation-solving', {
  victim: '64-20-10 ReLU MLP trained on the digits-mlp victim split (test/helpers/digits-victims.ts), 1,510 unknowns',
  method:
    'mlp-equation-solving defaults: sparse random queries, centred-logit least squares, L-BFGS (3000 iterations, 1 start)',
  command: `node --import tsx bench/mlp-equation-solving.ts ${multiples.join(',')}`,
  target: '>= 99.8% test agreement within 3x the unknowns (Tramèr: 99.89% at 4,450 queries for 2,225 unknowns)',
  rows,
});
process.stdout.write(`wrote ${path}\n`);
