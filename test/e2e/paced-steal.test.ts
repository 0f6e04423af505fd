/**
 * @file A steal that keeps to a target's rate limit on its own: the server caps batches at 10 rows
 * and answers 429 to any request beyond 20 in a one-second window; `--rate 15/s --max-batch 10`
 * never trips it, and the server's own count of answered rows equals Heist's paid count.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { loadOnnxModel } from '../../src/backends/onnx-model.js';
import { modelsDir } from '../../src/datasets/paths.js';
import { runSteal } from '../../src/runs/steal-run.js';
import { startServer } from '../query/fixtures.js';

test('--rate 15/s against a 20 requests/s limit: no 429, every answered row paid for once', async (t) => {
  const victim = await loadOnnxModel(join(modelsDir, 'digits-mlp.onnx'));
  const starts: number[] = [];
  let refused = 0;
  const s = await startServer({
    models: { 'digits-mlp': { predictor: victim, maxBatch: 10 } },
    intercept: () => {
      const now = Date.now();
      starts.push(now);
      if (starts.filter((x) => x > now - 1000).length > 20) {
        refused++;
        return { status: 429, headers: { 'retry-after': '1' }, body: '{"error":{"code":"HEIST_ERR_RATE_LIMITED"}}' };
      }
      return undefined;
    },
  });
  const out = mkdtempSync(join(tmpdir(), 'heist-paced-'));
  t.after(async () => {
    await s.close();
    await victim.close();
    rmSync(out, { recursive: true, force: true });
  });
  const record = await runSteal({
    target: `${s.base}/v1/models/digits-mlp`,
    budget: 100,
    pool: 'digits-mlp',
    checkpoints: [100],
    rate: { requestsPerSecond: 15 },
    maxBatch: 10,
    out,
  });
  assert.equal(refused, 0, 'the server never had to refuse');
  assert.ok(s.stats.batchSizes.every((n) => n <= 10));
  assert.equal(s.stats.rowsAnswered, record.queries.used + record.queries.eval);
  assert.equal(new Set(s.stats.answeredHashes).size, s.stats.rowsAnswered, 'no row bought twice');
  assert.equal(record.queries.used, 100);
  assert.ok(record.metrics.fidelity! > 0.8, `fidelity ${record.metrics.fidelity}`);
});
