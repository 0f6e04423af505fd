/** @file Happy paths: predictions equal the predictor's, label-only output, listing, health, config checks. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { isHeistError } from '../../src/core/errors.js';
import type { Prediction, Predictor } from '../../src/core/prediction.js';
import { type Tensor, tensor } from '../../src/core/tensor.js';
import { createPipeline } from '../../src/defenses/pipeline.js';
import { buildGateway } from '../../src/gateway/server.js';
import type { ModelDescription, PredictResponse } from '../../src/oracle/formats/heist-v1/index.js';
import { D, K, assertError, model, post, rows } from './helpers.js';

test('predictions equal the predictor output, at batch 1 and 256', async () => {
  const m = model();
  const app = buildGateway({ models: [{ name: 'm', predictor: m }] });
  for (const n of [1, 256]) {
    const x = rows(n, n);
    const res = await post(app, 'm', { inputs: x });
    assert.equal(res.statusCode, 200);
    const body = JSON.parse(res.body) as PredictResponse;
    assert.equal(body.model, 'm');
    const want = m.predict(tensor(x.flat(), [n, 2, 3])) as Prediction;
    assert.equal(body.predictions.length, n);
    body.predictions.forEach((p, i) => {
      assert.equal(p.label, want.labels[i]);
      assert.deepEqual(Float32Array.from(p.probabilities!), want.scores!.data.subarray(i * K, (i + 1) * K));
      assert.equal(Object.keys(p).length, 2);
    });
  }
  await app.close();
});

test('the predictor gets one float32 batch shaped [n, ...inputShape]', async () => {
  const seen: Tensor[] = [];
  const inner = model();
  const spy: Predictor = {
    info: inner.info,
    predict: (x) => {
      seen.push(x);
      return inner.predict(x);
    },
  };
  const app = buildGateway({ models: [{ name: 'm', predictor: spy }] });
  const res = await post(app, 'm', {
    inputs: [
      [0.1, 0.2, 0.3, 0.4, 0.5, 0.6],
      [1, 0, 0.25, 1e-3, 0.7, 0.8],
    ],
  });
  assert.equal(res.statusCode, 200);
  assert.equal(seen.length, 1);
  assert.deepEqual(seen[0].shape, [2, 2, 3]);
  assert.ok(seen[0].data instanceof Float32Array);
  assert.deepEqual(seen[0].data, Float32Array.from([0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 1, 0, 0.25, 1e-3, 0.7, 0.8]));
  await app.close();
});

test('"output": "label" asks for labels only; "probabilities" is the default', async () => {
  const m = model();
  const app = buildGateway({ models: [{ name: 'm', predictor: m }] });
  const x = rows(5);
  const full = JSON.parse((await post(app, 'm', { inputs: x, output: 'probabilities' })).body) as PredictResponse;
  const labels = JSON.parse((await post(app, 'm', { inputs: x, output: 'label' })).body) as PredictResponse;
  assert.deepEqual(
    labels.predictions,
    full.predictions.map((p) => ({ label: p.label })),
  );
  assert.ok(full.predictions.every((p) => p.probabilities?.length === K));
  await app.close();
});

test('a label-only model answers labels and says so', async () => {
  const m = model(9, 'label');
  const app = buildGateway({ models: [{ name: 'lbl', predictor: m }] });
  const x = rows(4);
  const res = await post(app, 'lbl', { inputs: x });
  const body = JSON.parse(res.body) as PredictResponse;
  const want = m.predict(tensor(x.flat(), [4, D])) as Prediction;
  assert.deepEqual(
    body.predictions,
    Array.from(want.labels, (label) => ({ label })),
  );
  const desc = JSON.parse((await app.inject({ method: 'GET', url: '/v1/models/lbl' })).body) as ModelDescription;
  assert.equal(desc.output, 'label');
  await app.close();
});

test('model listing and description; healthz; request ids', async () => {
  const named = {
    ...model(),
    info: { ...model().info, classNames: ['a', 'b', 'c', 'd'], domain: { min: -1, max: 2 } },
  };
  const app = buildGateway({
    models: [
      { name: 'm', predictor: model() },
      { name: 'named.v2', predictor: named },
    ],
    maxBatch: 64,
  });
  const list = await app.inject({ method: 'GET', url: '/v1/models' });
  assert.equal(list.statusCode, 200);
  const models = (JSON.parse(list.body) as { models: ModelDescription[] }).models;
  assert.deepEqual(
    models.map((d) => d.name),
    ['m', 'named.v2'],
  );
  const one = await app.inject({ method: 'GET', url: '/v1/models/named.v2' });
  assert.deepEqual(JSON.parse(one.body), {
    name: 'named.v2',
    inputShape: [2, 3],
    inputSize: 6,
    classes: 4,
    classNames: ['a', 'b', 'c', 'd'],
    output: 'probs',
    domain: { min: -1, max: 2 },
    maxBatch: 64,
    binaryInputs: true,
  });
  assert.equal('classNames' in models[0], false);
  const health = await app.inject({ method: 'GET', url: '/healthz' });
  assert.deepEqual(JSON.parse(health.body), { status: 'ok' });
  const a = String(health.headers['x-request-id']);
  const b = String(
    (await app.inject({ method: 'GET', url: '/healthz', headers: { 'x-request-id': 'spoof' } })).headers[
      'x-request-id'
    ],
  );
  assert.match(a, /^[0-9a-f-]{36}$/);
  assert.notEqual(a, b);
  assert.notEqual(b, 'spoof');
  await app.close();
});

test('a predictor that throws is a 500 HEIST_ERR_INTERNAL, and the gateway keeps serving', async () => {
  let fail = true;
  const inner = model();
  const flaky: Predictor = {
    info: inner.info,
    predict: (x) => {
      if (fail) throw new Error('boom: secret internals');
      return inner.predict(x);
    },
  };
  const short: Predictor = {
    info: inner.info,
    predict: (x) => inner.predict(tensor(x.data.slice(D), [x.shape[0] - 1, 2, 3])),
  };
  const app = buildGateway({
    models: [
      { name: 'm', predictor: flaky },
      { name: 'short', predictor: short },
    ],
  });
  const res = await post(app, 'm', { inputs: rows(2) });
  assertError(res, 500, 'HEIST_ERR_INTERNAL', 'throwing predictor');
  assert.doesNotMatch(res.body, /secret/);
  assertError(await post(app, 'short', { inputs: rows(3) }), 500, 'HEIST_ERR_INTERNAL', 'wrong row count');
  fail = false;
  assert.equal((await post(app, 'm', { inputs: rows(2) })).statusCode, 200);
  await app.close();
});

test('config is validated once, with HEIST_ERR_BAD_CONFIG', () => {
  const p = model();
  const bad: unknown[] = [
    {
      models: [
        { name: 'm', predictor: p },
        { name: 'm', predictor: p },
      ],
    },
    { models: [{ name: 'a/b', predictor: p }] },
    { models: [{ name: '', predictor: p }] },
    { models: [{ name: 'm', predictor: { info: p.info } }] },
    { models: [{ name: 'm', predictor: { ...p, info: { ...p.info, inputShape: [0] } } }] },
    { models: [{ name: 'm', predictor: p }], maxBatch: 0 },
    { models: [{ name: 'm', predictor: p }], bodyLimitBytes: 1.5 },
    { models: [{ name: 'm', predictor: p }], port: 80 },
    { models: [{ name: 'm', predictor: p, extra: 1 }] },
    {
      models: [
        {
          name: 'm',
          predictor: model(1, 'label'),
          pipeline: createPipeline([{ name: 'needs', requires: { scores: true }, transform: (_c, o) => o }]),
        },
      ],
    },
  ];
  for (const cfg of bad) {
    assert.throws(
      () => buildGateway(cfg as never),
      (e: unknown) => isHeistError(e, 'HEIST_ERR_BAD_CONFIG'),
      JSON.stringify(cfg, (_k, v) => (typeof v === 'function' ? 'fn' : v)).slice(0, 120),
    );
  }
});

test('closing the gateway closes every pipeline', async () => {
  let closed = 0;
  const pipeline = createPipeline([{ name: 'c', close: () => void closed++ }]);
  const app = buildGateway({
    models: [
      { name: 'a', predictor: model(), pipeline },
      { name: 'b', predictor: model() },
    ],
  });
  await app.ready();
  await app.close();
  assert.equal(closed, 1);
});

test('a logits model answers "logits" rather than "probabilities"', async () => {
  const inner = model();
  const logitsModel: Predictor = {
    info: { ...inner.info, output: 'logits' },
    predict: (x) => {
      const p = inner.predict(x) as Prediction;
      return { kind: 'logits', labels: p.labels, scores: p.scores };
    },
  };
  const app = buildGateway({ models: [{ name: 'lg', predictor: logitsModel }] });
  const body = JSON.parse((await post(app, 'lg', { inputs: rows(2) })).body) as PredictResponse;
  assert.ok(body.predictions.every((p) => p.logits?.length === K && p.probabilities === undefined));
  await app.close();
});
