/**
 * When runSteal buys its evaluation labels: a remote target's while the first substitute trains
 * (after the first round's attack rows), one on this machine (a loopback URL) before the first
 * round, so that its inference does not compete with the fit for the CPUs. The remote target is
 * the same test server reached through a fetch that maps https://remote.example.com onto it.
 * Either way every paid row is in the transcript, and the run's metrics are the same.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { loadOnnxModel } from '../../src/backends/onnx-model.js';
import { modelsDir } from '../../src/datasets/paths.js';
import { runSteal } from '../../src/runs/steal-run.js';
import { startServer } from '../query/fixtures.js';

const REMOTE = 'https://remote.example.com';

/** The purposes of the transcript's rows, in the order they were written. */
function purposes(dir: string): string[] {
  return readFileSync(join(dir, 'transcript.jsonl'), 'utf8')
    .split('\n')
    .slice(1)
    .filter((l) => l.length > 0)
    .map((l) => (JSON.parse(l) as { purpose: string }).purpose);
}

test('evaluation labels: beside the first fit for a remote target, first for a loopback one', async (t) => {
  const victim = await loadOnnxModel(join(modelsDir, 'digits-mlp.onnx'));
  const s = await startServer({ models: { 'digits-mlp': { predictor: victim } } });
  const dirs: string[] = [];
  t.after(async () => {
    await s.close();
    await victim.close();
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
  });
  const steal = async (target: string) => {
    const out = mkdtempSync(join(tmpdir(), 'heist-eval-overlap-'));
    dirs.push(out);
    const record = await runSteal(
      { target, budget: 60, checkpoints: [30, 60], pool: 'digits-mlp', epochs: 5, out, seed: 2 },
      { fetch: (url, init) => fetch(String(url).replace(REMOTE, s.base), init) },
    );
    return { record, order: purposes(out) };
  };
  const remote = await steal(`${REMOTE}/v1/models/digits-mlp`);
  const local = await steal(`${s.base}/v1/models/digits-mlp`);
  const evalRows = local.record.queries.eval;
  assert.ok(evalRows > 0);
  // Remote: the first round's 30 attack rows, then the evaluation rows, then the second round's.
  assert.deepEqual(remote.order.slice(0, 30), Array(30).fill('attack'));
  assert.deepEqual(remote.order.slice(30, 30 + evalRows), Array(evalRows).fill('eval'));
  assert.equal(remote.order.length, 60 + evalRows);
  // Loopback: the evaluation rows come first.
  assert.deepEqual(local.order.slice(0, evalRows), Array(evalRows).fill('eval'));
  assert.equal(local.order.length, 60 + evalRows);
  assert.deepEqual(remote.record.metrics, local.record.metrics);
  assert.deepEqual(remote.record.queries, local.record.queries);
});
