/** @file The query client end to end against real heist-v1 servers: budget, cache, concurrency, retry. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { fakeClock, linearModel, rowsFrom, startServer } from '../../test/query/fixtures.js';
import { isHeistError } from '../core/errors.js';
import { createRng } from '../core/rng.js';
import { concatRows } from '../core/tensor.js';
import { httpOracle } from '../oracle/http.js';
import { localOracle } from '../oracle/local.js';
import { createQueryClient } from './client.js';

test('the budget is never exceeded and an over-budget call is refused before anything is sent', async (t) => {
  const s = await startServer();
  t.after(() => s.close());
  const rng = createRng(1);
  const c = createQueryClient(await httpOracle(`${s.base}/v1/models/lin`), { budget: 10 });
  const a = rowsFrom(rng.next, 8);
  await c.query(a);
  assert.equal(s.stats.rowsAnswered, 8);
  assert.equal(c.remaining, 2);
  const b = rowsFrom(rng.next, 5);
  await assert.rejects(c.query(b), (e) => isHeistError(e, 'HEIST_ERR_BUDGET_EXHAUSTED'));
  assert.equal(s.stats.predictRequests, 1, 'nothing sent for the refused call');
  // 8 cached rows + 2 new ones fit exactly
  await c.query(concatRows([a, rowsFrom(rng.next, 2)]));
  assert.equal(c.used, 10);
  assert.equal(c.remaining, 0);
  assert.equal(s.stats.rowsAnswered, 10);
  assert.equal(c.cached, 8);
});

test('cached rows cost nothing, within a call and across calls, and answers stay right', async (t) => {
  const model = linearModel();
  const s = await startServer({ models: { lin: { predictor: model } } });
  t.after(() => s.close());
  const c = createQueryClient(await httpOracle(`${s.base}/v1/models/lin`), { budget: 100 });
  const r = rowsFrom(createRng(2).next, 3);
  const x = concatRows([r, r, r]); // 9 rows, 3 distinct
  const p = await c.query(x);
  assert.equal(s.stats.rowsAnswered, 3);
  assert.equal(c.used, 3);
  assert.equal(c.cached, 6);
  const want = await model.predict(x);
  assert.deepEqual(Array.from(p.labels), Array.from(want.labels));
  assert.deepEqual(Array.from(p.scores!.data), Array.from(want.scores!.data));
  await c.query(r);
  assert.equal(s.stats.rowsAnswered, 3);
  assert.equal(c.used, 3);
  assert.equal(c.cached, 9);
});

test('concurrency never exceeds the limit at the server, over concurrent callers', async (t) => {
  const s = await startServer({ delayMs: 15 });
  t.after(() => s.close());
  const c = createQueryClient(await httpOracle(`${s.base}/v1/models/lin`), {
    budget: 200,
    concurrency: 3,
    maxCallRows: 4,
  });
  const rng = createRng(3);
  const xs = [rowsFrom(rng.next, 40), rowsFrom(rng.next, 30)];
  const shared = rowsFrom(rng.next, 8); // bought by one caller, awaited by the other
  await Promise.all([c.query(concatRows([xs[0], shared])), c.query(concatRows([shared, xs[1]]))]);
  assert.ok(s.stats.peakInFlight <= 3, `peak ${s.stats.peakInFlight}`);
  assert.equal(s.stats.peakInFlight, 3, 'the limit is actually used');
  assert.ok(s.stats.batchSizes.every((n) => n <= 4));
  assert.equal(s.stats.rowsAnswered, 78);
  assert.equal(new Set(s.stats.answeredHashes).size, 78, 'no row bought twice');
  assert.equal(c.used, 78);
});

test('429 Retry-After is honoured, 503 is retried, the paid call counts once', async (t) => {
  const replies: Record<number, { status: number; headers?: Record<string, string>; body: string }> = {
    0: { status: 429, headers: { 'retry-after': '3' }, body: '{"error":{"code":"HEIST_ERR_RATE_LIMITED"}}' },
    1: { status: 503, body: '{"error":{"code":"HEIST_ERR_INTERNAL"}}' },
  };
  const s = await startServer({ intercept: (i) => replies[i] });
  t.after(() => s.close());
  const clock = fakeClock();
  const c = createQueryClient(await httpOracle(`${s.base}/v1/models/lin`), {
    budget: 10,
    clock,
    rng: createRng(4),
    retry: { retries: 3, baseDelayMs: 100, maxDelayMs: 1000 },
  });
  const p = await c.query(rowsFrom(createRng(5).next, 4));
  assert.equal(p.labels.length, 4);
  assert.equal(s.stats.predictRequests, 3);
  assert.equal(clock.sleeps.length, 2);
  assert.ok(clock.sleeps[0] >= 3000, `waited ${clock.sleeps[0]} ms after Retry-After: 3`);
  assert.ok(clock.sleeps[1] >= 100 && clock.sleeps[1] < 200, `backoff ${clock.sleeps[1]}`);
  assert.equal(c.used, 4);
});

test('4xx is never retried; exhausted retries release the reservation', async (t) => {
  const s = await startServer({
    intercept: (i) =>
      i === 0
        ? { status: 400, body: '{"error":{"code":"HEIST_ERR_SHAPE"}}' }
        : { status: 502, body: '{"error":{"code":"HEIST_ERR_INTERNAL"}}' },
  });
  t.after(() => s.close());
  const clock = fakeClock();
  const c = createQueryClient(await httpOracle(`${s.base}/v1/models/lin`), {
    budget: 10,
    clock,
    retry: { retries: 2, baseDelayMs: 10, maxDelayMs: 50 },
  });
  const x = rowsFrom(createRng(6).next, 4);
  await assert.rejects(c.query(x), (e) => isHeistError(e, 'HEIST_ERR_UPSTREAM'));
  assert.equal(s.stats.predictRequests, 1);
  await assert.rejects(c.query(x), (e) => isHeistError(e, 'HEIST_ERR_UPSTREAM'));
  assert.equal(s.stats.predictRequests, 4, '1 + 2 retries');
  assert.ok(clock.sleeps.every((ms) => ms <= 50));
  assert.equal(c.used, 0);
  assert.equal(c.remaining, 10);
});

test('eval rows have their own budget and never consume the attack budget', async () => {
  const c = createQueryClient(localOracle(linearModel()), { budget: { attack: 5, eval: 3 } });
  const rng = createRng(7);
  const ev = rowsFrom(rng.next, 3);
  await c.query(ev, { purpose: 'eval' });
  assert.deepEqual(c.spentByPurpose, { attack: 0, eval: 3, probe: 0 });
  assert.equal(c.remaining, 5);
  assert.equal(c.remainingFor('eval'), 0);
  await c.query(ev, { purpose: 'eval' }); // cached, free
  await assert.rejects(c.query(rowsFrom(rng.next, 1), { purpose: 'eval' }), (e) =>
    isHeistError(e, 'HEIST_ERR_BUDGET_EXHAUSTED'),
  );
  await c.query(ev, { purpose: 'attack' }); // eval answers do not feed the attack for free
  assert.deepEqual(c.spentByPurpose, { attack: 3, eval: 3, probe: 0 });
  await c.query(rowsFrom(rng.next, 1), { purpose: 'probe' }); // probe shares the attack budget
  assert.equal(c.remaining, 1);
  assert.equal(c.used, 7);
  const noEval = createQueryClient(localOracle(linearModel()), { budget: 5 });
  await assert.rejects(noEval.query(ev, { purpose: 'eval' }), (e) => isHeistError(e, 'HEIST_ERR_BUDGET_EXHAUSTED'));
});

test('bad options are refused', () => {
  const o = localOracle(linearModel());
  assert.throws(
    () => createQueryClient(o, { budget: -1 }),
    (e) => isHeistError(e, 'HEIST_ERR_BAD_CONFIG'),
  );
  assert.throws(
    () => createQueryClient(o, { budget: 1, concurrency: 0 }),
    (e) => isHeistError(e, 'HEIST_ERR_BAD_CONFIG'),
  );
  assert.throws(
    () => createQueryClient(o, { budget: 1, resume: true }),
    (e) => isHeistError(e, 'HEIST_ERR_BAD_CONFIG'),
  );
});
