/**
 * @file decodeBinaryPredictRequest: the same rows, requested output and error codes as the JSON
 * path (decodePredictRequest) for the same input; a zero-copy view when aligned, a copy otherwise.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { isHeistError } from '../../../core/errors.js';
import type { ModelInfo } from '../../../core/prediction.js';
import { decodeBinaryPredictRequest } from './binary.js';
import { type DecodeTarget, decodePredictRequest } from './server.js';

const info: ModelInfo = { name: 'm', inputShape: [2, 3], classes: 3, output: 'probs', domain: { min: -1, max: 1 } };
const target: DecodeTarget = { info, inputSize: 6, servedOutput: 'probs', maxBatch: 4 };

/** Little-endian float32 bytes, written value by value (independent of the host's byte order). */
function le(values: readonly number[], offset = 0): Buffer {
  const b = Buffer.alloc(offset + values.length * 4);
  for (const [i, v] of values.entries()) b.writeFloatLE(v, offset + i * 4);
  return b.subarray(offset);
}

const rows = (n: number): number[][] =>
  Array.from({ length: n }, (_, i) => Array.from({ length: 6 }, (_, j) => (i * 6 + j) / 10 - 1));

const code = (c: string) => (e: unknown) => isHeistError(e) && e.code === c;

test('rows decode to the same tensor as the JSON body, shaped [n, ...inputShape]', () => {
  const r = rows(3);
  const got = decodeBinaryPredictRequest(le(r.flat()), target);
  const json = decodePredictRequest({ inputs: r }, target);
  assert.deepEqual(got.x.shape, [3, 2, 3]);
  assert.deepEqual(got.x.shape, json.x.shape);
  assert.deepEqual(Array.from(got.x.data), Array.from(json.x.data));
  assert.equal(got.requested, json.requested);
});

test('an aligned body is viewed in place; an unaligned one is copied with the same values', () => {
  const aligned = le(rows(2).flat());
  assert.equal(aligned.byteOffset % 4, 0);
  const view = decodeBinaryPredictRequest(aligned, target).x.data;
  assert.equal(view.buffer, aligned.buffer, 'zero-copy');
  assert.equal(view.byteOffset, aligned.byteOffset);
  const unaligned = le(rows(2).flat(), 1);
  assert.notEqual(unaligned.byteOffset % 4, 0);
  const copy = decodeBinaryPredictRequest(unaligned, target).x.data;
  assert.notEqual(copy.buffer, unaligned.buffer);
  assert.deepEqual(Array.from(copy), Array.from(view));
});

test('x-heist-output mirrors the JSON body "output" field', () => {
  const body = le(rows(1).flat());
  for (const [header, output] of [
    [undefined, undefined],
    ['label', 'label'],
    ['probabilities', 'probabilities'],
  ] as const) {
    const json = decodePredictRequest(output === undefined ? { inputs: rows(1) } : { inputs: rows(1), output }, target);
    assert.equal(decodeBinaryPredictRequest(body, target, header).requested, json.requested, String(header));
  }
  assert.throws(() => decodeBinaryPredictRequest(body, target, 'logits'), code('HEIST_ERR_BAD_BODY'));
  assert.throws(() => decodeBinaryPredictRequest(body, target, ['label', 'label']), code('HEIST_ERR_BAD_BODY'));
  const labelOnly = { ...target, servedOutput: 'label' as const };
  assert.throws(() => decodeBinaryPredictRequest(body, labelOnly, 'probabilities'), code('HEIST_ERR_BAD_BODY'));
  assert.equal(decodeBinaryPredictRequest(body, labelOnly, 'label').requested, 'label');
});

test('the JSON path codes: empty, ragged length, NaN, infinities, too many rows', () => {
  assert.throws(() => decodeBinaryPredictRequest(Buffer.alloc(0), target), code('HEIST_ERR_EMPTY_BATCH'));
  assert.throws(() => decodeBinaryPredictRequest(Buffer.alloc(6 * 4 + 4), target), code('HEIST_ERR_SHAPE'));
  assert.throws(() => decodeBinaryPredictRequest(Buffer.alloc(3), target), code('HEIST_ERR_SHAPE'));
  for (const bad of [Number.NaN, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY]) {
    const values = rows(2).flat();
    values[9] = bad;
    assert.throws(
      () => decodeBinaryPredictRequest(le(values), target),
      (e) => isHeistError(e, 'HEIST_ERR_NOT_FINITE') && /row 1 value 3/.test(e.message),
      String(bad),
    );
  }
  assert.throws(() => decodeBinaryPredictRequest(le(rows(5).flat()), target), code('HEIST_ERR_BATCH_TOO_LARGE'));
  assert.equal(decodeBinaryPredictRequest(le(rows(4).flat()), target).x.shape[0], 4);
});

test('models that accept missing features take NaN (the JSON null), never an infinity', () => {
  const trees: DecodeTarget = { ...target, acceptsMissing: true };
  const values = rows(1).flat();
  values[2] = Number.NaN;
  const got = decodeBinaryPredictRequest(le(values), trees).x.data;
  const json = decodePredictRequest({ inputs: [values.map((v) => (Number.isNaN(v) ? null : v))] }, trees).x.data;
  assert.ok(Number.isNaN(got[2]) && Number.isNaN(json[2]));
  values[2] = Number.POSITIVE_INFINITY;
  assert.throws(() => decodeBinaryPredictRequest(le(values), trees), code('HEIST_ERR_NOT_FINITE'));
});
