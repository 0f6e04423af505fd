/**
 * @file --warm-start: each round trains the previous round's substitute on. Deterministic (the same
 * seed gives the same rounds), it changes the rounds after the first and not the first, and run.json
 * records it.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { modelsDir } from '../../src/datasets/paths.js';
import { runSteal } from '../../src/runs/steal-run.js';

const dir = mkdtempSync(join(tmpdir(), 'heist-warm-'));
after(() => rmSync(dir, { recursive: true, force: true }));
let n = 0;

const steal = (warmStart: boolean, extra: Record<string, unknown> = {}) =>
  runSteal({
    target: join(modelsDir, 'digits-mlp.onnx'),
    pool: 'digits-mlp',
    budget: 150,
    schedule: 'fixed:50',
    strategy: 'margin',
    warmStart,
    seed: 3,
    out: join(dir, `run-${++n}`),
    ...extra,
  });

const fidelities = (r: Awaited<ReturnType<typeof steal>>) => r.rounds.map((x) => x.metrics.fidelity);

test('warm start: deterministic, the same first round, other later rounds, and a substitute that works', async () => {
  const a = await steal(true);
  const b = await steal(true);
  assert.deepEqual(fidelities(a), fidelities(b));
  const cold = await steal(false);
  assert.equal(fidelities(a)[0], fidelities(cold)[0]);
  assert.notDeepEqual(fidelities(a).slice(1), fidelities(cold).slice(1));
  assert.equal((a.config as Record<string, unknown>).warmStart, true);
  assert.ok(a.metrics.fidelity! > 0.85, `fidelity ${a.metrics.fidelity}`);
});
