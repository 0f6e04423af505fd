/**
 * @file Data-free extraction, no pool: a steal of the shipped mnist-cnn victim (a local file) that
 * names no strategy gets the data-free generator (the policy default for image targets without a
 * pool), and at 2,000 queries it is far ahead of uniform queries over the domain, the only other
 * way to steal without data (measured: 0.5435 against 0.2645 at this seed; docs/strategies.md).
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { modelsDir } from '../../src/datasets/paths.js';
import { runSteal } from '../../src/runs/steal-run.js';

async function steal(checkpoints: number[], strategy?: string) {
  const out = mkdtempSync(join(tmpdir(), 'heist-data-free-'));
  try {
    return await runSteal({
      target: join(modelsDir, 'mnist-cnn.onnx'),
      eval: 'mnist-cnn',
      budget: checkpoints[checkpoints.length - 1],
      checkpoints,
      ...(strategy ? { strategy } : {}),
      seed: 0,
      out,
    });
  } finally {
    rmSync(out, { recursive: true, force: true });
  }
}

test('mnist-cnn without a pool: the data-free default beats uniform queries by 0.2 at 2,000 queries', async () => {
  const dataFree = await steal([500, 1000, 2000]);
  assert.equal((dataFree.config as Record<string, unknown>).strategy, 'data-free');
  const uniform = await steal([2000], 'random');
  const f = dataFree.metrics.fidelity!;
  const u = uniform.metrics.fidelity!;
  assert.ok(f >= 0.48, `data-free: ${f}`);
  assert.ok(f >= u + 0.2, `data-free ${f} against uniform ${u}`);
});
