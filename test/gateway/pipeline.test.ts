/** @file The gateway with a real (test-only) pipeline: context fields, rejections over HTTP, transforms, record. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { type Prediction, labelPrediction, probsPrediction } from '../../src/core/prediction.js';
import { tensor } from '../../src/core/tensor.js';
import { createPipeline } from '../../src/defenses/pipeline.js';
import { type Defense, DefenseRejection, type QueryContext, type Served } from '../../src/defenses/types.js';
import { buildGateway } from '../../src/gateway/server.js';
import type { ModelDescription, PredictResponse } from '../../src/oracle/formats/heist-v1/index.js';
import { D, K, assertError, keyedAccess, model, post, rows } from './helpers.js';

/** A tiny real stage: admits 2 requests per client, rounds scores to 1 decimal, records everything. */
function testStage(seen: { ctx: QueryContext; served: Served }[]): Defense {
  const counts = new Map<string, number>();
  return {
    name: 'test-stage',
    admit(ctx) {
      const c = (counts.get(ctx.client.id) ?? 0) + 1;
      counts.set(ctx.client.id, c);
      if (c > 2)
        throw new DefenseRejection('HEIST_ERR_RATE_LIMITED', 'two per client', { headers: { 'retry-after': '60' } });
    },
    transform(_ctx, out): Prediction {
      const s = out.scores!;
      return probsPrediction(
        tensor(
          Array.from(s.data, (v) => Math.round(v * 10) / 10),
          s.shape,
        ),
      );
    },
    record(ctx, served) {
      seen.push({ ctx, served });
    },
  };
}

test('the context carries request id, model, inputs, clock time and the verified client identity', async () => {
  const seen: { ctx: QueryContext; served: Served }[] = [];
  const { access, key } = keyedAccess();
  const app = buildGateway({
    models: [{ name: 'm', predictor: model(), pipeline: createPipeline([testStage(seen)]) }],
    clock: { now: () => 1234, sleep: async () => {} },
    access,
  });
  const x = rows(3);
  const res = await post(app, 'm', { inputs: x }, { 'x-api-key': key('a') });
  assert.equal(res.statusCode, 200);
  const { ctx } = seen[0];
  assert.equal(ctx.requestId, res.headers['x-request-id']);
  assert.equal(ctx.model.name, 'm');
  assert.deepEqual(ctx.model.inputShape, [2, 3]);
  assert.deepEqual(ctx.inputs.shape, [3, 2, 3]);
  assert.deepEqual(ctx.inputs.data, Float32Array.from(x.flat()));
  assert.equal(ctx.at, 1234);
  assert.equal(ctx.credentials.apiKey, undefined, 'the raw key never reaches the stages');
  assert.equal(ctx.credentials.ip, '127.0.0.1');
  assert.deepEqual(ctx.client, {
    id: `key:${key('a').slice(3, 15)}`,
    source: 'api-key',
    authenticated: true,
    tier: 't',
  });
  assert.ok(ctx.raw?.scores);
  await post(app, 'm', { inputs: x });
  assert.deepEqual(seen[1].ctx.client, { id: 'ip:127.0.0.1', source: 'ip', authenticated: false, tier: 't' });
  await app.close();
});

test('transforms shape the answer; raw stays the model output', async () => {
  const seen: { ctx: QueryContext; served: Served }[] = [];
  const m = model();
  const app = buildGateway({ models: [{ name: 'm', predictor: m, pipeline: createPipeline([testStage(seen)]) }] });
  const x = rows(2);
  const body = JSON.parse((await post(app, 'm', { inputs: x })).body) as PredictResponse;
  const raw = m.predict(tensor(x.flat(), [2, D])) as Prediction;
  body.predictions.forEach((p, i) => {
    assert.equal(p.probabilities!.length, K);
    p.probabilities!.forEach((v, j) => {
      assert.equal(v, Math.fround(Math.round(raw.scores!.data[i * K + j] * 10) / 10));
    });
  });
  assert.deepEqual(seen[0].ctx.raw!.scores!.data, raw.scores!.data);
  const labels = JSON.parse((await post(app, 'm', { inputs: x, output: 'label' })).body) as PredictResponse;
  assert.ok(labels.predictions.every((p) => p.probabilities === undefined));
  assert.equal((seen[1].served as Prediction).kind, 'label');
  await app.close();
});

test('an admit rejection becomes its HTTP status, code and headers; record still runs; others still served', async () => {
  const seen: { ctx: QueryContext; served: Served }[] = [];
  const keyed = keyedAccess();
  const app = buildGateway({
    models: [{ name: 'm', predictor: model(), pipeline: createPipeline([testStage(seen)]) }],
    access: keyed.access,
  });
  const key = { 'x-api-key': keyed.key('heavy-user') };
  assert.equal((await post(app, 'm', { inputs: rows(1) }, key)).statusCode, 200);
  assert.equal((await post(app, 'm', { inputs: rows(1) }, key)).statusCode, 200);
  const res = await post(app, 'm', { inputs: rows(1) }, key);
  assertError(res, 429, 'HEIST_ERR_RATE_LIMITED', 'third request');
  assert.equal(res.headers['retry-after'], '60');
  assert.equal(seen.length, 3);
  assert.ok(seen[2].served instanceof DefenseRejection);
  assert.equal((await post(app, 'm', { inputs: rows(1) }, { 'x-api-key': keyed.key('someone-else') })).statusCode, 200);
  // Bad input is refused before the pipeline: no admit, no record.
  assertError(
    await post(app, 'm', { inputs: [] }, { 'x-api-key': keyed.key('fresh') }),
    400,
    'HEIST_ERR_EMPTY_BATCH',
    'empty',
  );
  assert.equal(seen.length, 4);
  await app.close();
});

test('a stage bug is a 500; a score-dropping pipeline is described as label output', async () => {
  const labelOnly: Defense = { name: 'label-only', dropsScores: true, transform: (_c, o) => labelPrediction(o.labels) };
  const buggy: Defense = {
    name: 'buggy',
    inspect: () => {
      throw new Error('bug');
    },
  };
  const app = buildGateway({
    models: [
      { name: 'lbl', predictor: model(), pipeline: createPipeline([labelOnly]) },
      { name: 'bug', predictor: model(), pipeline: createPipeline([buggy]) },
    ],
  });
  const desc = JSON.parse((await app.inject({ method: 'GET', url: '/v1/models/lbl' })).body) as ModelDescription;
  assert.equal(desc.output, 'label');
  const body = JSON.parse((await post(app, 'lbl', { inputs: rows(2) })).body) as PredictResponse;
  assert.ok(body.predictions.every((p) => Object.keys(p).join() === 'label'));
  assertError(
    await post(app, 'lbl', { inputs: rows(1), output: 'probabilities' }),
    400,
    'HEIST_ERR_BAD_BODY',
    'probs from label',
  );
  assertError(await post(app, 'bug', { inputs: rows(1) }), 500, 'HEIST_ERR_INTERNAL', 'buggy stage');
  await app.close();
});
