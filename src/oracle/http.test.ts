/** @file httpOracle against real node:http servers: info, batching, error mapping. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { linearModel, startServer } from '../../test/query/fixtures.js';
import { isHeistError } from '../core/errors.js';
import { httpOracle, parseRetryAfter } from './http.js';

const x7 = { data: Float32Array.from({ length: 28 }, (_, i) => (i % 5) / 5), shape: [7, 4] };

test('reads info first, answers like the model, splits calls over maxBatch', async (t) => {
  const model = linearModel();
  const s = await startServer({ models: { lin: { predictor: model, maxBatch: 3 } } });
  t.after(() => s.close());
  const o = await httpOracle(`${s.base}/v1/models/lin`);
  assert.equal(o.info.name, 'lin');
  assert.equal(o.info.maxBatch, 3);
  const p = await o.query(x7);
  const want = await model.predict(x7);
  assert.deepEqual(Array.from(p.labels), Array.from(want.labels));
  assert.deepEqual(Array.from(p.scores!.data), Array.from(want.scores!.data));
  assert.deepEqual(s.stats.batchSizes, [3, 3, 1]);
});

test('a base URL picks the only model; several models need a name', async (t) => {
  const one = await startServer();
  const two = await startServer({
    models: { a: { predictor: linearModel() }, b: { predictor: linearModel({ name: 'b' }) } },
  });
  t.after(() => Promise.all([one.close(), two.close()]));
  assert.equal((await httpOracle(one.base)).info.name, 'lin');
  await assert.rejects(httpOracle(two.base), (e) => isHeistError(e, 'HEIST_ERR_BAD_CONFIG'));
  assert.equal((await httpOracle(two.base, { model: 'b' })).info.name, 'b');
  await assert.rejects(
    httpOracle(`${one.base}/v1/models/nope`),
    (e) => isHeistError(e, 'HEIST_ERR_UPSTREAM') && (e.details as { status: number }).status === 404,
  );
});

test('maps 429 with Retry-After, 5xx, 4xx and malformed bodies to codes', async (t) => {
  const replies = [
    {
      status: 429,
      headers: { 'retry-after': '2' },
      body: '{"error":{"code":"HEIST_ERR_RATE_LIMITED","message":"slow"}}',
    },
    { status: 503, body: '{"error":{"code":"HEIST_ERR_INTERNAL","message":"down"}}' },
    { status: 400, body: '{"error":{"code":"HEIST_ERR_SHAPE","message":"bad"}}' },
    { status: 200, body: '{"predictions":[{"label":0}]}' },
    { status: 200, body: 'not json' },
  ];
  const s = await startServer({ intercept: (i) => replies[i] });
  t.after(() => s.close());
  const o = await httpOracle(`${s.base}/v1/models/lin`);
  const x = { data: new Float32Array(8), shape: [2, 4] };
  const details = (e: unknown): Record<string, unknown> => (e as { details: Record<string, unknown> }).details;
  await assert.rejects(
    o.query(x),
    (e) => isHeistError(e, 'HEIST_ERR_RATE_LIMITED') && details(e).retryAfterMs === 2000,
  );
  await assert.rejects(
    o.query(x),
    (e) => isHeistError(e, 'HEIST_ERR_UPSTREAM') && details(e).status === 503 && details(e).retryable === true,
  );
  await assert.rejects(
    o.query(x),
    (e) =>
      isHeistError(e, 'HEIST_ERR_UPSTREAM') &&
      details(e).upstreamCode === 'HEIST_ERR_SHAPE' &&
      details(e).retryable === false,
  );
  await assert.rejects(o.query(x), (e) => isHeistError(e, 'HEIST_ERR_UPSTREAM') && details(e).retryable === undefined);
  await assert.rejects(o.query(x), (e) => isHeistError(e, 'HEIST_ERR_UPSTREAM') && details(e).retryable === false);
  assert.equal(s.stats.predictRequests, 5);
});

test('a dead server is a retryable network failure; wrong row size fails before sending', async () => {
  const s = await startServer();
  const o = await httpOracle(`${s.base}/v1/models/lin`);
  await assert.rejects(o.query({ data: new Float32Array(3), shape: [1, 3] }), (e) =>
    isHeistError(e, 'HEIST_ERR_SHAPE'),
  );
  assert.equal(s.stats.predictRequests, 0);
  await s.close();
  await assert.rejects(
    o.query({ data: new Float32Array(4), shape: [1, 4] }),
    (e) => isHeistError(e, 'HEIST_ERR_UPSTREAM') && (e.details as { network: boolean }).network,
  );
});

test('label-only targets answer labels; headers are sent', async (t) => {
  let seen = '';
  const s = await startServer({ models: { lab: { predictor: linearModel({ name: 'lab', output: 'label' }) } } });
  t.after(() => s.close());
  const spy: typeof fetch = (input, init) => {
    seen = new Headers(init?.headers).get('x-api-key') ?? '';
    return fetch(input, init);
  };
  const o = await httpOracle(`${s.base}/v1/models/lab`, { fetch: spy, headers: { 'x-api-key': 'k1' } });
  const p = await o.query({ data: Float32Array.from([1, 0, 0, 0]), shape: [1, 4] });
  assert.equal(p.kind, 'label');
  assert.equal(seen, 'k1');
});

test('parseRetryAfter reads seconds and HTTP dates', () => {
  assert.equal(parseRetryAfter('3', 0), 3000);
  assert.equal(parseRetryAfter('0.5', 0), 500);
  assert.equal(parseRetryAfter(new Date(10_000).toUTCString(), 4_000), 6000);
  assert.equal(parseRetryAfter(null, 0), undefined);
  assert.equal(parseRetryAfter('soon', 0), undefined);
});
