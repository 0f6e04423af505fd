/**
 * @file The floor the best-known library tests its Knockoff Nets with, on mnist-cnn (the shipped
 * victim as a local file, its scenario pool and evaluation rows): after 100 paid queries, random
 * selection from the pool agrees with the victim on more than 0.3 of the evaluation rows and the
 * adaptive policy on more than 0.4. Then every active pool strategy, over two rounds of 50 on
 * digits-mlp (the second chosen with the first round's substitute), stays above the same floor.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { modelsDir } from '../../src/datasets/paths.js';
import { runSteal } from '../../src/runs/steal-run.js';

async function steal(scenario: string, strategy: string, checkpoints: number[]): Promise<number> {
  const out = mkdtempSync(join(tmpdir(), 'heist-floor-'));
  try {
    const rec = await runSteal({
      target: join(modelsDir, `${scenario}.onnx`),
      pool: scenario,
      budget: checkpoints[checkpoints.length - 1],
      checkpoints,
      strategy,
      seed: 0,
      out,
    });
    return rec.rounds[rec.rounds.length - 1].metrics.fidelity!;
  } finally {
    rmSync(out, { recursive: true, force: true });
  }
}

test('mnist-cnn, 100 queries: random pool selection > 0.3, adaptive > 0.4', async () => {
  const random = await steal('mnist-cnn', 'pool', [100]);
  assert.ok(random > 0.3, `pool: ${random}`);
  const adaptive = await steal('mnist-cnn', 'knockoff-adaptive', [50, 100]);
  assert.ok(adaptive > 0.4, `knockoff-adaptive: ${adaptive}`);
});

test('every active pool strategy clears the floor on digits-mlp over two rounds', async () => {
  for (const strategy of [
    'least-confidence',
    'margin',
    'entropy',
    'k-center',
    'knockoff-adaptive',
    'dfal',
    'dfal-k-center',
  ]) {
    const f = await steal('digits-mlp', strategy, [50, 100]);
    assert.ok(f > 0.4, `${strategy}: ${f}`);
  }
});
