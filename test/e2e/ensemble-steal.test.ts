/**
 * @file `--ensemble K`: a steal whose substitute is K networks with their logits averaged. The same
 * seed gives the same rounds; run.json records K; the exported substitute.onnx (one merged network)
 * agrees with the victim exactly as often as the last round reported; an ensemble outside 1..16 is
 * refused before any query is bought.
 */
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { loadOnnxModel } from '../../src/backends/onnx-model.js';
import { modelsDir } from '../../src/datasets/paths.js';
import { loadScenarioData } from '../../src/datasets/scenarios.js';
import { fidelity } from '../../src/eval/metrics.js';
import { runSteal } from '../../src/runs/steal-run.js';

const dir = mkdtempSync(join(tmpdir(), 'heist-ensemble-'));
after(() => rmSync(dir, { recursive: true, force: true }));
const victimPath = join(modelsDir, 'digits-mlp.onnx');
let n = 0;

const steal = (ensemble: number) => {
  const out = join(dir, `run-${++n}`);
  return {
    out,
    run: runSteal({
      target: victimPath,
      pool: 'digits-mlp',
      budget: 150,
      schedule: 'fixed:50',
      ensemble,
      seed: 3,
      out,
    }),
  };
};

test('an ensemble steal is deterministic, recorded, and its exported network is the one it measured', async () => {
  const a = steal(3);
  const first = await a.run;
  const again = await steal(3).run;
  assert.deepEqual(
    first.rounds.map((r) => r.metrics.fidelity),
    again.rounds.map((r) => r.metrics.fidelity),
  );
  assert.equal((first.config as Record<string, unknown>).ensemble, 3);
  assert.ok(first.metrics.fidelity! > 0.85, `fidelity ${first.metrics.fidelity}`);

  const evaluation = loadScenarioData('digits-mlp').evaluation;
  const victim = await loadOnnxModel(victimPath);
  const substitute = await loadOnnxModel(join(a.out, 'substitute.onnx'));
  try {
    const agree = fidelity(
      (await victim.predict(evaluation.x)).labels,
      (await substitute.predict(evaluation.x)).labels,
    );
    assert.equal(agree, first.metrics.fidelity);
  } finally {
    await victim.close();
    await substitute.close();
  }
});

test('an ensemble of 17 is refused before any query is bought', async () => {
  const { out, run } = steal(17);
  await assert.rejects(run, { code: 'HEIST_ERR_BAD_CONFIG' });
  assert.equal(existsSync(join(out, 'transcript.jsonl')), false);
});
