/** @file The rounding countermeasure through the real pipeline: rounded scores, labels kept, order and config checks. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { isHeistError } from '../core/errors.js';
import { type Prediction, labelPrediction, probsPrediction } from '../core/prediction.js';
import { tensor } from '../core/tensor.js';
import { createContext, createPipeline } from './pipeline.js';
import { round, roundScores } from './round.js';
import type { Defense, Served } from './types.js';

const info = { name: 't', inputShape: [2], classes: 3, output: 'probs' as const, domain: { min: 0, max: 1 } };
const ctx = (requested: 'model' | 'label' = 'model') =>
  createContext({
    requestId: 'r',
    model: info,
    inputs: tensor(new Float32Array(4), [2, 2]),
    at: 0,
    credentials: { ip: '127.0.0.1' },
    requested,
  });
// Row 1: 0.4449 and 0.4451 both round to 0.45 at 2 decimals; the model's label (class 1) is kept.
const raw = [0.123456, 0.876044, 0.0005, 0.4449, 0.4451, 0.11];
const infer = (): Prediction => ({ ...probsPrediction(tensor(raw, [2, 3])), labels: Int32Array.from([1, 1]) });

test('round({decimals}) serves every probability rounded, as the nearest float32', async () => {
  for (const decimals of [0, 2, 4, 5]) {
    const out = await createPipeline([round({ decimals })]).run(ctx(), infer);
    assert.equal(out.kind, 'probs');
    assert.deepEqual(
      Array.from(out.scores!.data),
      raw.map((v) => Math.fround(Math.round(v * 10 ** decimals) / 10 ** decimals)),
    );
    assert.deepEqual(out.scores!.shape, [2, 3]);
  }
  const two = await createPipeline([round({ decimals: 2 })]).run(ctx(), infer);
  assert.deepEqual(Array.from(two.scores!.data), [0.12, 0.88, 0, 0.44, 0.45, 0.11].map(Math.fround));
  assert.deepEqual(
    Array.from(two.labels),
    [1, 1],
    'labels are the model\u2019s own, never recomputed from rounded ties',
  );
});

test('the raw output stays raw; a later record stage (the audit log) sees the rounded reply', async () => {
  let recorded: Served | undefined;
  const rec: Defense = {
    name: 'rec',
    record: (_c, s) => {
      recorded = s;
    },
  };
  const c = ctx();
  const out = await createPipeline([round({ decimals: 3 }), rec]).run(c, infer);
  assert.equal(recorded, out);
  assert.equal(c.raw!.scores!.data[0], Math.fround(0.123456));
  assert.equal(out.scores!.data[0], Math.fround(0.123));
});

test('label requests and label-only predictions pass through; order and bad decimals are refused', async () => {
  const lab = await createPipeline([round({ decimals: 2 })]).run(ctx('label'), infer);
  assert.equal(lab.kind, 'label');
  assert.equal(lab.scores, undefined);
  const labelsOnly = await createPipeline([round({ decimals: 2 })]).run(ctx(), () =>
    labelPrediction(Int32Array.from([2, 0])),
  );
  assert.deepEqual(Array.from(labelsOnly.labels), [2, 0]);
  const drop: Defense = { name: 'label-only', dropsScores: true, transform: (_c, o) => labelPrediction(o.labels) };
  assert.throws(
    () => createPipeline([drop, round({ decimals: 2 })]),
    (e: unknown) => isHeistError(e, 'HEIST_ERR_BAD_CONFIG'),
  );
  assert.equal(createPipeline([round({ decimals: 2 })]).requiresScores, true);
  for (const bad of [-1, 1.5, 16, Number.NaN])
    assert.throws(
      () => round({ decimals: bad }),
      (e: unknown) => isHeistError(e, 'HEIST_ERR_BAD_CONFIG'),
    );
  assert.deepEqual(Array.from(roundScores(Float32Array.from([0.995, 0.004999]), 2)), [1, 0].map(Math.fround));
});
