/**
 * Two gateway replicas sharing one Redis, hammered by one key at 10x its limit over real loopback
 * HTTP: the admitted requests never exceed the limit in any window. The same with each replica on
 * its own in-process store shows the over-admission a shared store prevents. Then Redis is killed
 * mid-load: fail-closed refuses with 503 HEIST_ERR_LIMITS_UNAVAILABLE, fail-open admits.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { KeyRing, issueKey } from '../../src/gateway/keys.js';
import { buildGateway } from '../../src/gateway/server.js';
import { openLimitStore } from '../../src/store/limits/index.js';
import type { LimitStore } from '../../src/store/limits/types.js';
import { redisServerSkip, startRedis } from '../helpers/redis.js';
import { model, rows } from './helpers.js';

const LIMIT = 20; // requests per second per key

async function replica(store: LimitStore, keys: KeyRing, failMode: 'open' | 'closed' = 'closed') {
  const app = buildGateway({
    models: [{ name: 'm', predictor: model() }],
    access: { keys, tiers: { free: { perKey: { requests: { second: LIMIT } } } }, limiter: { store, failMode } },
  });
  const address = await app.listen({ port: 0, host: '127.0.0.1' });
  return { app, url: `${address.replace('[::1]', '127.0.0.1')}/v1/models/m/predict` };
}

/** Sends `n` requests spread over both replicas, 16 in flight; returns [sent, answered] epoch ms of each 200, and the statuses. */
async function hammer(urls: readonly string[], key: string, n: number) {
  const body = JSON.stringify({ inputs: rows(1) });
  const admittedAt: [number, number][] = [];
  const statuses = new Map<number, number>();
  let next = 0;
  await Promise.all(
    Array.from({ length: 16 }, async () => {
      while (next < n) {
        const i = next++;
        const sent = Date.now();
        const res = await fetch(urls[i % urls.length], {
          method: 'POST',
          body,
          headers: { 'content-type': 'application/json', 'x-api-key': key },
        });
        await res.arrayBuffer();
        const t = Date.now();
        statuses.set(res.status, (statuses.get(res.status) ?? 0) + 1);
        if (res.status === 200) admittedAt.push([sent, t]);
      }
    }),
  );
  return { admittedAt, statuses };
}

/**
 * Most admissions in any one-second window, counting only requests sent and answered within the
 * same window (the limiter decided between the two, so those certainly fell in it): a lower bound
 * of each window's true count, which must still be at most the limit.
 */
function maxPerSecond(times: readonly [number, number][]): number {
  const counts = new Map<number, number>();
  for (const [sent, answered] of times) {
    const w = Math.floor(sent / 1000);
    if (Math.floor(answered / 1000) === w) counts.set(w, (counts.get(w) ?? 0) + 1);
  }
  return Math.max(0, ...counts.values());
}

test('two replicas on one Redis never admit more than the limit per window; separate in-process stores do', {
  skip: redisServerSkip,
}, async () => {
  const redis = await startRedis();
  const keys = new KeyRing();
  const k = issueKey({ tier: 'free', now: Date.now() });
  keys.put(k.record);
  const s1 = await openLimitStore(redis.url);
  const s2 = await openLimitStore(redis.url);
  const a = await replica(s1, keys);
  const b = await replica(s2, keys);
  try {
    const t0 = Date.now();
    const shared = await hammer([a.url, b.url], k.key, 10 * LIMIT * 2);
    const seconds = Math.floor(Date.now() / 1000) - Math.floor(t0 / 1000) + 1;
    assert.ok(
      shared.admittedAt.length <= LIMIT * seconds,
      `admitted ${shared.admittedAt.length} over ${seconds} windows`,
    );
    assert.ok(maxPerSecond(shared.admittedAt) <= LIMIT, `per window ${maxPerSecond(shared.admittedAt)}`);
    assert.ok((shared.statuses.get(429) ?? 0) > 0, 'the excess is refused with 429');
    assert.deepEqual([...shared.statuses.keys()].sort(), [200, 429], 'only 200 and 429 come back');
  } finally {
    await a.app.close();
    await b.app.close();
    await s1.close();
    await s2.close();
  }

  const m1 = await openLimitStore('memory://');
  const m2 = await openLimitStore('memory://');
  const c = await replica(m1, keys);
  const d = await replica(m2, keys);
  try {
    const t0 = Date.now();
    const separate = await hammer([c.url, d.url], k.key, 10 * LIMIT * 2);
    const seconds = Math.floor(Date.now() / 1000) - Math.floor(t0 / 1000) + 1;
    // Each replica admits LIMIT per window on its own: together up to twice the limit.
    assert.ok(
      separate.admittedAt.length > LIMIT * seconds || maxPerSecond(separate.admittedAt) > LIMIT,
      `in-process stores over-admit: ${separate.admittedAt.length} over ${seconds} windows`,
    );
  } finally {
    await c.app.close();
    await d.app.close();
    await m1.close();
    await m2.close();
  }
  await redis.stop();
});

test('Redis killed mid-load: fail-closed refuses with 503, fail-open admits; both recover when Redis is back', {
  skip: redisServerSkip,
}, async () => {
  const redis = await startRedis();
  const keys = new KeyRing();
  const k = issueKey({ tier: 'free', now: Date.now() });
  keys.put(k.record);
  const sc = await openLimitStore(redis.url, { timeoutMs: 100 });
  const so = await openLimitStore(redis.url, { timeoutMs: 100 });
  const closed = await replica(sc, keys, 'closed');
  const open = await replica(so, keys, 'open');
  try {
    const before = await hammer([closed.url, open.url], k.key, 10);
    assert.equal(before.statuses.get(200), 10);
    await redis.stop();
    const downClosed = await hammer([closed.url], k.key, 20);
    assert.deepEqual([...downClosed.statuses], [[503, 20]], 'fail-closed: every request refused');
    const downOpen = await hammer([open.url], k.key, 20);
    assert.deepEqual([...downOpen.statuses], [[200, 20]], 'fail-open: every request admitted');
    await redis.restart();
    let back = 0;
    for (let i = 0; i < 50 && back === 0; i++) {
      await new Promise((r) => setTimeout(r, 100));
      back = (await hammer([closed.url], k.key, 1)).statuses.get(200) ?? 0;
    }
    assert.equal(back, 1, 'fail-closed serves again once Redis is back');
  } finally {
    await closed.app.close();
    await open.app.close();
    await sc.close();
    await so.close();
    await redis.stop();
  }
});
