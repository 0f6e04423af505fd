/**
 * @file The heist-v1 client's binary option: encodeBinaryPredict's bytes decode (binary.ts) to the
 * rows the JSON body carries, with the same refusals before anything is sent; the option schema.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { isHeistError } from '../../../core/errors.js';
import { createRng } from '../../../core/rng.js';
import type { RemoteModelInfo } from '../types.js';
import { decodeBinaryPredictRequest } from './binary.js';
import { encodeBinaryPredict, heistV1Options } from './client.js';
import { heistV1 } from './index.js';
import type { DecodeTarget } from './server.js';

const info: RemoteModelInfo = {
  name: 'img',
  inputShape: [2, 2, 1],
  classes: 3,
  output: 'probs',
  domain: { min: -1, max: 1 },
  maxBatch: 64,
};
const target = (i: RemoteModelInfo): DecodeTarget => ({
  info: i,
  inputSize: 4,
  servedOutput: i.output,
  maxBatch: 64,
  acceptsMissing: i.acceptsMissing,
});

test('binary rows round-trip to the same tensor as the JSON body', () => {
  const rng = createRng(11);
  const x = { data: Float32Array.from({ length: 5 * 4 }, () => rng.uniform(-1, 1)), shape: [5, 2, 2, 1] };
  const { body, contentType } = encodeBinaryPredict(x, info);
  assert.equal(contentType, 'application/octet-stream');
  assert.equal(body.byteLength, 5 * 4 * 4);
  const got = decodeBinaryPredictRequest(body, target(info));
  const json = heistV1.decodeRequest(JSON.parse(heistV1.encodePredict(x, info)), info);
  assert.deepEqual(got.x.shape, x.shape);
  assert.deepEqual(Array.from(got.x.data), Array.from(x.data));
  assert.deepEqual(Array.from(got.x.data), Array.from(json.data));
  assert.equal(got.requested, 'model');
});

test('the bytes are little-endian float32, whatever the host', () => {
  const { body } = encodeBinaryPredict({ data: Float32Array.from([1, -2, 0.5, 3]), shape: [1, 2, 2, 1] }, info);
  assert.deepEqual(Array.from(body.subarray(0, 4)), [0x00, 0x00, 0x80, 0x3f]);
  assert.equal(Buffer.from(body).readFloatLE(4), -2);
});

test('bad rows are refused before sending: wrong length, NaN for models without missing features, infinities', () => {
  assert.throws(
    () => encodeBinaryPredict({ data: new Float32Array(6), shape: [2, 3] }, info),
    (e) => isHeistError(e, 'HEIST_ERR_SHAPE'),
  );
  const nan = { data: Float32Array.from([0, Number.NaN, 0, 0]), shape: [1, 2, 2, 1] };
  assert.throws(
    () => encodeBinaryPredict(nan, info),
    (e) => isHeistError(e, 'HEIST_ERR_NOT_FINITE'),
  );
  const trees = { ...info, acceptsMissing: true };
  const sent = decodeBinaryPredictRequest(encodeBinaryPredict(nan, trees).body, target(trees));
  assert.ok(Number.isNaN(sent.x.data[1]));
  const inf = { data: Float32Array.from([0, 0, Number.POSITIVE_INFINITY, 0]), shape: [1, 2, 2, 1] };
  assert.throws(
    () => encodeBinaryPredict(inf, trees),
    (e) => isHeistError(e, 'HEIST_ERR_NOT_FINITE'),
  );
});

test('heistV1Options: binary is an optional boolean, nothing else is accepted', () => {
  assert.deepEqual(heistV1Options.parse({}), {});
  assert.deepEqual(heistV1Options.parse({ binary: true }), { binary: true });
  assert.equal(heistV1Options.safeParse({ binary: 'yes' }).success, false);
  assert.equal(heistV1Options.safeParse({ binray: true }).success, false);
});
