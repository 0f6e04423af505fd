/** @file localOracle over a real linear-softmax predictor. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { linearModel } from '../../test/query/fixtures.js';
import { isHeistError } from '../core/errors.js';
import { localOracle } from './local.js';

test('localOracle answers what the predictor predicts, for flat or shaped rows', async () => {
  const model = linearModel({ inputShape: [2, 2] });
  const o = localOracle(model);
  const flat = { data: Float32Array.from([1, 0, 0, 0, 0, 1, 0, 0]), shape: [2, 4] };
  const shaped = { data: flat.data, shape: [2, 2, 2] };
  const a = await o.query(flat);
  const b = await o.query(shaped);
  const direct = await model.predict(shaped);
  assert.deepEqual(Array.from(a.labels), Array.from(direct.labels));
  assert.deepEqual(Array.from(b.scores!.data), Array.from(direct.scores!.data));
  assert.deepEqual(Array.from(a.labels), [0, 1]);
  await assert.rejects(o.query({ data: new Float32Array(3), shape: [1, 3] }), (e) =>
    isHeistError(e, 'HEIST_ERR_SHAPE'),
  );
  const empty = await o.query({ data: new Float32Array(0), shape: [0, 4] });
  assert.equal(empty.labels.length, 0);
});

test('a label-only model answers label-only', async () => {
  const o = localOracle(linearModel({ output: 'label' }));
  const p = await o.query({ data: Float32Array.from([1, 0, 0, 0]), shape: [1, 4] });
  assert.equal(p.kind, 'label');
  assert.equal(p.scores, undefined);
});
