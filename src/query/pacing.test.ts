/** @file Client-side pacing: request and row rates, shared over concurrent callers and retries; --rate parsing. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { fakeClock, linearModel, rowsFrom, startServer } from '../../test/query/fixtures.js';
import { isHeistError } from '../core/errors.js';
import { createRng } from '../core/rng.js';
import { httpOracle } from '../oracle/http.js';
import { localOracle } from '../oracle/local.js';
import { createQueryClient } from './client.js';
import { parseRate, withPacing } from './pacing.js';

/** The clock time at which each upstream request started. */
function recording(clock: ReturnType<typeof fakeClock>) {
  const starts: number[] = [];
  const inner = localOracle(linearModel());
  return {
    starts,
    oracle: {
      info: inner.info,
      query: (x: Parameters<typeof inner.query>[0]) => {
        starts.push(clock.now());
        return inner.query(x);
      },
    },
  };
}

test('requests per second: concurrent callers share one schedule, 1/rate apart', async () => {
  const clock = fakeClock(0);
  const r = recording(clock);
  const paced = withPacing(r.oracle, { requestsPerSecond: 4 }, clock);
  // Five calls at once: each reserves the next slot of the one schedule before it waits.
  await Promise.all([0, 1, 2, 3, 4].map(() => paced.query(rowsFrom(createRng(1).next, 2))));
  assert.equal(r.starts.length, 5);
  assert.equal(clock.now(), 1000, 'the fifth request starts 4 x 250 ms after the first');
  assert.deepEqual([...r.starts].sort((a, b) => a - b).at(-1), 1000);
});

test('requests per second: one caller after another starts 1/rate apart', async () => {
  const clock = fakeClock(0);
  const r = recording(clock);
  const paced = withPacing(r.oracle, { requestsPerSecond: 4 }, clock);
  for (let i = 0; i < 4; i++) await paced.query(rowsFrom(createRng(1).next, 2));
  assert.deepEqual(r.starts, [0, 250, 500, 750]);
});

test('rows per minute: a request of n rows holds the next one back n x 60/rate seconds', async () => {
  const clock = fakeClock(0);
  const r = recording(clock);
  const paced = withPacing(r.oracle, { rowsPerMinute: 600, requestsPerSecond: 100 }, clock);
  for (const n of [10, 1, 5]) await paced.query(rowsFrom(createRng(n).next, n));
  assert.deepEqual(r.starts, [0, 1000, 1100]);
});

test('the query client paces its upstream requests, retries included, against a real server', async (t) => {
  const s = await startServer({
    models: { lin: { predictor: linearModel(), maxBatch: 10 } },
    intercept: (i) => (i === 1 ? { status: 503, body: '{"error":{}}' } : undefined),
  });
  t.after(() => s.close());
  const clock = fakeClock(0);
  const c = createQueryClient(await httpOracle(`${s.base}/v1/models/lin`), {
    budget: 40,
    clock,
    concurrency: 4,
    rate: { requestsPerSecond: 2 },
    retry: { retries: 2, baseDelayMs: 1, maxDelayMs: 1 },
  });
  await c.query(rowsFrom(createRng(2).next, 40));
  assert.equal(s.stats.predictRequests, 5, '4 requests of 10 rows and one retry');
  assert.ok(clock.now() >= 2000, `5 requests at 2/s take at least 2 s of clock time, took ${clock.now()}`);
  assert.equal(c.used, 40);
});

test('--rate reads requests and rows per second or minute, and refuses anything else', () => {
  assert.deepEqual(parseRate('20/s'), { requestsPerSecond: 20 });
  assert.deepEqual(parseRate('120/min'), { requestsPerSecond: 2 });
  assert.deepEqual(parseRate('20/s, 1200 rows/min'), { requestsPerSecond: 20, rowsPerMinute: 1200 });
  assert.deepEqual(parseRate('5 rows/s'), { rowsPerMinute: 300 });
  for (const bad of ['fast', '0/s', '-1/s', '20', '20/h']) {
    assert.throws(
      () => parseRate(bad),
      (e) => isHeistError(e, 'HEIST_ERR_BAD_CONFIG'),
      bad,
    );
  }
  assert.throws(
    () => withPacing(localOracle(linearModel()), { requestsPerSecond: 0 }, fakeClock()),
    (e) => isHeistError(e, 'HEIST_ERR_BAD_CONFIG'),
  );
});
