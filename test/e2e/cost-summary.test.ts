/**
 * @file Plain numbers before anything is spent: the cost summary a run hands its `confirm` hook
 * (attack and evaluation queries, price, warnings), a refusal there buying nothing, the pool/eval
 * overlap warning, and the scenario's reference curve shown only for the scenario's own victim.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { isHeistError } from '../../src/core/errors.js';
import { modelsDir } from '../../src/datasets/paths.js';
import { runExtract } from '../../src/runs/extract-run.js';
import type { CostSummary } from '../../src/runs/cost-summary.js';
import { runSteal } from '../../src/runs/steal-run.js';
import { digitsSoftmaxVictim } from '../helpers/digits-victims.js';

const dir = mkdtempSync(join(tmpdir(), 'heist-cost-'));
after(() => rmSync(dir, { recursive: true, force: true }));
const victim = join(modelsDir, 'digits-mlp.onnx');

test('a refusal at the cost summary stops the run before any query', async () => {
  const seen: CostSummary[] = [];
  const out = join(dir, 'refused');
  await assert.rejects(
    runSteal(
      { target: victim, budget: 100, pool: 'digits-mlp', pricePerQuery: 0.01, out },
      {
        confirm: async (s) => {
          seen.push(s);
          throw new Error('no');
        },
      },
    ),
    /no/,
  );
  assert.deepEqual(seen[0], {
    kind: 'steal',
    target: victim,
    attackQueries: 100,
    evalQueries: 450,
    totalQueries: 550,
    pricePerQuery: 0.01,
    estimatedCost: 5.5,
    warnings: [],
  });
  const extract: CostSummary[] = [];
  await assert.rejects(
    runExtract(
      { method: 'equation-solving', target: join(modelsDir, 'breast-cancer-logreg.onnx'), out: join(dir, 'x') },
      {
        confirm: async (s) => {
          extract.push(s);
          throw new Error('no');
        },
      },
    ),
  );
  assert.equal(extract[0].evalQueries, 10_000, 'the default uniform evaluation rows are counted up front');
  assert.match(extract[0].warnings[0], /10000 uniform random rows/);
});

test('the reference curve is shown for the scenario victim only; overlap and no-evaluation warnings', async () => {
  const own = await runSteal({
    target: victim,
    budget: 100,
    pool: 'digits-mlp',
    checkpoints: [100],
    out: join(dir, 'victim'),
  });
  assert.equal(own.references?.length, 1, "the digits-mlp victim gets ART's reference curve");
  const other = await digitsSoftmaxVictim(dir);
  const foreign = await runSteal({
    target: other.file,
    budget: 100,
    pool: 'digits-mlp',
    checkpoints: [100],
    out: join(dir, 'foreign'),
  });
  assert.equal(foreign.references, undefined, 'another model on the same data gets none');
  assert.ok(foreign.notes?.some((n) => /not the shipped digits-mlp victim/.test(n)));
  const overlap = await runSteal({
    target: victim,
    budget: 50,
    pool: 'digits',
    eval: 'digits-mlp',
    checkpoints: [50],
    out: join(dir, 'overlap'),
  });
  assert.ok(overlap.notes?.some((n) => /450 of the 450 evaluation rows are also in the attack pool/.test(n)));
  const blind = await runSteal({
    target: victim,
    budget: 50,
    strategy: 'random',
    checkpoints: [50],
    out: join(dir, 'blind'),
  });
  assert.ok(blind.notes?.some((n) => /no evaluation set/.test(n)));
  assert.equal(blind.metrics.fidelity, undefined);
  await assert.rejects(
    runSteal({ target: victim, budget: 50, strategy: 'random', targetFidelity: 0.9, out: join(dir, 'nofid') }),
    (e: unknown) => isHeistError(e, 'HEIST_ERR_BAD_CONFIG'),
  );
});
