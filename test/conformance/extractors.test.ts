/**
 * @file Every registered exact extractor through the extractor conformance suite, on a small
 * target of its family: what it requires is refused before any paid query, the attack budget is
 * never exceeded (rows counted at the target), and the run writes a valid heist.run/v1 record.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { extractors } from '../../src/attacks/extract/index.js';
import type { ExtractorEntry, ExtractorFamily } from '../../src/attacks/extract/types.js';
import { isHeistError } from '../../src/core/errors.js';
import {
  type ModelInfo,
  type OutputKind,
  type Predictor,
  type Prediction,
  probsPrediction,
} from '../../src/core/prediction.js';
import { createRng } from '../../src/core/rng.js';
import { rowCount, softmaxRows, tensor } from '../../src/core/tensor.js';
import { denseReluPredictor, randomDenseRelu } from '../../src/models/dense-relu.js';
import { randomLinearModel } from '../../src/models/linear.js';
import { trainCart } from '../../src/models/tree-train.js';
import { localOracle } from '../../src/oracle/local.js';
import type { Oracle } from '../../src/oracle/types.js';
import { readRunRecord } from '../../src/report/run-record.js';
import { runExtract } from '../../src/runs/extract-run.js';

const dir = mkdtempSync(join(tmpdir(), 'heist-extr-'));
after(() => rmSync(dir, { recursive: true, force: true }));

/** A small target of the family that answers one of the kinds the method accepts. */
function targetFor(family: ExtractorFamily, accepts: readonly OutputKind[]): Predictor {
  const rng = createRng(7);
  if (family === 'linear')
    return randomLinearModel(rng, 4, 3, { scale: 2, output: accepts.includes('probs') ? 'probs' : 'label' });
  if (family === 'tree') {
    const x = Float32Array.from({ length: 90 * 3 }, () => rng.next());
    const y = Int32Array.from({ length: 90 }, (_, i) => (x[i * 3] > 0.5 ? 1 : 0) + (x[i * 3 + 1] > 0.6 ? 1 : 0));
    return trainCart(
      { name: 'tree', x: tensor(x, [90, 3]), y, classes: 3 },
      { maxDepth: 3, rng, output: accepts.includes('label') ? 'label' : 'probs' },
    );
  }
  const net = denseReluPredictor(randomDenseRelu(createRng(7), [16, 8, 4]));
  if (accepts.includes('logits')) return net;
  // A ReLU MLP answering probabilities: the softmax of the same logits.
  return {
    info: { ...net.info, output: 'probs' },
    predict: async (x) => probsPrediction(softmaxRows((await net.predict(x)).scores!)),
  };
}

/** The oracle, counting every row it answers; `output` overrides what it declares. */
function counting(p: Predictor, output?: OutputKind): { oracle: Oracle; rows: () => number } {
  const inner = localOracle(p);
  let rows = 0;
  const info: ModelInfo = output ? { ...inner.info, output } : inner.info;
  return {
    oracle: {
      info,
      async query(x, o): Promise<Prediction> {
        rows += rowCount(x);
        return inner.query(x, o);
      },
    },
    rows: () => rows,
  };
}

function conforms(entry: ExtractorEntry): void {
  test(`extractor ${entry.name} conforms: refusal before paying, budget kept, valid run record`, async () => {
    const accepts = entry.requires.output;
    const target = targetFor(entry.family, accepts);
    assert.ok(
      accepts.includes(target.info.output),
      `${entry.name}: the ${entry.family} target answers ${target.info.output}`,
    );

    // Requirements refused before any paid query.
    const missing = (['probs', 'label', 'logits'] as const).find((k) => !accepts.includes(k));
    assert.ok(missing, `${entry.name} accepts every output kind; the suite has nothing to refuse`);
    const refused = counting(target, missing);
    await assert.rejects(
      runExtract(
        { method: entry.name, target: 'conformance', out: join(dir, `${entry.name}-refused`), uniformEval: 0 },
        { oracle: refused.oracle },
      ),
      (e: unknown) => isHeistError(e, 'HEIST_ERR_REQUIREMENTS'),
    );
    assert.equal(refused.rows(), 0, `${entry.name} paid for a query before refusing`);

    // The budget is kept (counted at the target), and the record is valid.
    const uniformEval = 200;
    const paid = counting(target);
    const out = join(dir, entry.name);
    const record = await runExtract(
      {
        method: entry.name,
        target: 'conformance',
        out,
        uniformEval,
        seed: 1,
        methodOptions: entry.example as Record<string, unknown> | undefined,
      },
      { oracle: paid.oracle },
    );
    assert.ok(
      record.queries.used <= record.queries.budget,
      `${entry.name}: used ${record.queries.used} of ${record.queries.budget}`,
    );
    assert.ok(
      paid.rows() <= record.queries.budget + uniformEval,
      `${entry.name}: the target answered ${paid.rows()} rows for a budget of ${record.queries.budget} + ${uniformEval} eval`,
    );
    assert.equal(
      paid.rows(),
      record.queries.used + record.queries.eval,
      `${entry.name}: every row the target answered is accounted for`,
    );
    const saved = await readRunRecord(join(out, 'run.json'));
    assert.equal(saved.kind, 'extract');
    assert.equal(saved.config.method, entry.name);
    assert.equal(saved.queries.used, record.queries.used);
    assert.ok(
      saved.metrics.uniformFidelity !== undefined &&
        saved.metrics.uniformFidelity >= 0 &&
        saved.metrics.uniformFidelity <= 1,
    );
  });
}

for (const entry of extractors.entries()) conforms(entry);
