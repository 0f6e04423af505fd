/** @file heist-v1: target URLs, info and predict decoding, malformed answers. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { isHeistError } from '../../../core/errors.js';
import type { ModelInfo } from '../../../core/prediction.js';
import { heistV1 } from './index.js';

const info: ModelInfo = { name: 'm', inputShape: [2], classes: 3, output: 'probs', domain: { min: 0, max: 1 } };

test('parseTarget: model URL, predict URL, base URL with a path prefix', () => {
  assert.deepEqual(heistV1.parseTarget('http://h:8080/v1/models/mnist'), { base: 'http://h:8080', model: 'mnist' });
  assert.deepEqual(heistV1.parseTarget('http://h:8080/v1/models/mnist/predict'), {
    base: 'http://h:8080',
    model: 'mnist',
  });
  assert.deepEqual(heistV1.parseTarget('http://h:8080/'), { base: 'http://h:8080' });
  assert.deepEqual(heistV1.parseTarget('https://h/api/v1/models/a%20b'), { base: 'https://h/api', model: 'a b' });
  assert.deepEqual(heistV1.parseTarget('http://h/v1/models'), { base: 'http://h' });
  assert.throws(
    () => heistV1.parseTarget('ftp://h/x'),
    (e) => isHeistError(e, 'HEIST_ERR_BAD_CONFIG'),
  );
  assert.throws(
    () => heistV1.parseTarget('nope'),
    (e) => isHeistError(e, 'HEIST_ERR_BAD_CONFIG'),
  );
});

test('decodeInfo keeps maxBatch and rejects inconsistent info', () => {
  const body = {
    name: 'm',
    inputShape: [2, 2],
    inputSize: 4,
    classes: 3,
    output: 'label',
    domain: { min: 0, max: 1 },
    maxBatch: 64,
  };
  assert.deepEqual(heistV1.decodeInfo(body), {
    name: 'm',
    inputShape: [2, 2],
    classes: 3,
    output: 'label',
    domain: { min: 0, max: 1 },
    maxBatch: 64,
  });
  for (const bad of [
    { ...body, inputSize: 5 },
    { ...body, classes: 1 },
    { ...body, output: 'x' },
    { ...body, domain: { min: 1, max: 0 } },
    null,
  ]) {
    assert.throws(
      () => heistV1.decodeInfo(bad),
      (e) => isHeistError(e, 'HEIST_ERR_UPSTREAM'),
    );
  }
});

test('decodePredict: probabilities, label-only, and malformed answers', () => {
  const p = heistV1.decodePredict({ predictions: [{ label: 2, probabilities: [0.1, 0.2, 0.7] }] }, 1, info);
  assert.equal(p.kind, 'probs');
  assert.deepEqual(Array.from(p.labels), [2]);
  assert.deepEqual(p.scores?.shape, [1, 3]);
  const l = heistV1.decodePredict({ predictions: [{ label: 1 }, { label: 0 }] }, 2, info);
  assert.equal(l.kind, 'label');
  assert.equal(l.scores, undefined);
  const bad = [
    { predictions: [{ label: 1 }] }, // wrong count (2 asked)
    { predictions: [{ label: 1 }, { label: 3 }] }, // label out of range
    { predictions: [{ label: 1, probabilities: [1, 0, 0] }, { label: 0 }] }, // mixed
    {
      predictions: [
        { label: 1, probabilities: [1, 0] },
        { label: 0, probabilities: [1, 0] },
      ],
    }, // wrong width
    { preds: [] },
    'hello',
  ];
  for (const b of bad)
    assert.throws(
      () => heistV1.decodePredict(b, 2, info),
      (e) => isHeistError(e, 'HEIST_ERR_UPSTREAM'),
    );
});

test('encodePredict sends flat rows and refuses non-finite values before sending', () => {
  const x = { data: Float32Array.from([0.5, 1, 0, 0.25]), shape: [2, 2] };
  assert.deepEqual(JSON.parse(heistV1.encodePredict(x, info)), {
    inputs: [
      [0.5, 1],
      [0, 0.25],
    ],
  });
  const nan = { data: Float32Array.from([0.5, Number.NaN]), shape: [1, 2] };
  assert.throws(
    () => heistV1.encodePredict(nan, info),
    (e) => isHeistError(e, 'HEIST_ERR_NOT_FINITE'),
  );
});

test('decodeList reads both list shapes', () => {
  assert.deepEqual(heistV1.decodeList!({ models: [{ name: 'a' }, 'b'] }), ['a', 'b']);
  assert.deepEqual(heistV1.decodeList!(['c']), ['c']);
  assert.throws(
    () => heistV1.decodeList!({ x: 1 }),
    (e) => isHeistError(e, 'HEIST_ERR_UPSTREAM'),
  );
});
