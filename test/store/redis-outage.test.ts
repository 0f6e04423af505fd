/**
 * @file The Redis limit store when Redis goes away: with a real redis-server of the test's own,
 * stopped mid-run, every consume rejects with HEIST_ERR_LIMITS_UNAVAILABLE (promptly: no hang, the
 * test timeout being the only bound) and never shows the password; once the server is back on the
 * same port the same store answers again without being reopened. close() never hangs, even with
 * the server gone; rediss:// really speaks TLS.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { isHeistError } from '../../src/core/errors.js';
import { type CounterCheck, type LimitStore, openLimitStore } from '../../src/store/limits/index.js';
import { redisServerSkip, startRedis } from '../helpers/redis.js';

const PASSWORD = 'pw-s3cret-9f2c';
const unavailable = (e: unknown): boolean => {
  assert.ok(isHeistError(e, 'HEIST_ERR_LIMITS_UNAVAILABLE'), `expected HEIST_ERR_LIMITS_UNAVAILABLE, got ${e}`);
  assert.ok(!(e as Error).message.includes(PASSWORD), `the message shows the password: ${(e as Error).message}`);
  return true;
};

/** Retries until the store answers: waiting out a connection (re)establishing is real time, unavoidably. */
async function firstAnswer(store: LimitStore, checks: readonly CounterCheck[], now: number) {
  for (let attempt = 0; ; attempt++) {
    try {
      return await store.consume(checks, now);
    } catch (e) {
      unavailable(e);
      if (attempt >= 400) throw e;
      await sleep(50);
    }
  }
}

test('consume fails fast while Redis is down and works again once it is back', {
  skip: redisServerSkip,
  timeout: 90_000,
}, async () => {
  const server = await startRedis({ password: PASSWORD });
  const store = openLimitStore(server.url);
  try {
    assert.equal(store.url, `redis://127.0.0.1:${server.port}`, 'url without the password');
    const now = 19_675 * 86_400_000;
    const c = [{ key: 'outage:a', windowMs: 60_000, limit: 1_000, cost: 1 }];
    assert.deepEqual(await firstAnswer(store, c, now), { allowed: true });

    await server.stop();
    for (let i = 0; i < 20; i++) await assert.rejects(store.consume(c, now), unavailable);

    await server.restart();
    assert.deepEqual(await firstAnswer(store, c, now), { allowed: true }, 'the same store answers again');
    const one = [{ key: 'outage:b', windowMs: 60_000, limit: 1, cost: 1 }];
    assert.deepEqual(await store.consume(one, now), { allowed: true });
    assert.deepEqual(await store.consume(one, now), { allowed: false, violated: 0, retryAfterMs: 60_000 });
  } finally {
    await store.close();
    await server.stop();
  }
  await assert.rejects(store.consume([{ key: 'x', windowMs: 1000, limit: 1, cost: 1 }], 0), unavailable);
});

test('close() returns with Redis gone, and a wrong password is unavailable without showing it', {
  skip: redisServerSkip,
  timeout: 60_000,
}, async () => {
  const server = await startRedis({ password: PASSWORD });
  const c = [{ key: 'close:a', windowMs: 1000, limit: 1, cost: 1 }];
  try {
    const wrong = openLimitStore(`redis://:${PASSWORD}-wrong@127.0.0.1:${server.port}`);
    await assert.rejects(wrong.consume(c, 0), unavailable);
    await wrong.close();

    const store = openLimitStore(server.url);
    await firstAnswer(store, c, 0);
    await server.stop();
    await assert.rejects(store.consume(c, 0), unavailable);
    await store.close();
    await store.close();
  } finally {
    await server.stop();
  }
});

test('rediss:// speaks TLS: against a plain-text server it is unavailable', {
  skip: redisServerSkip,
  timeout: 60_000,
}, async () => {
  const server = await startRedis();
  const store = openLimitStore(`rediss://127.0.0.1:${server.port}`);
  try {
    assert.equal(store.url, `rediss://127.0.0.1:${server.port}`);
    await assert.rejects(store.consume([{ key: 'tls:a', windowMs: 1000, limit: 1, cost: 1 }], 0), unavailable);
  } finally {
    await store.close();
    await server.stop();
  }
});

test('a malformed Redis URL is HEIST_ERR_BAD_CONFIG and does not show its password', () => {
  for (const url of [
    `redis://:${PASSWORD}@/0`,
    `redis://:${PASSWORD}@host:6379/zero`,
    `redis://:${PASSWORD}@h:1?db=1`,
    'nope',
  ]) {
    assert.throws(
      () => openLimitStore(url),
      (e) => isHeistError(e, 'HEIST_ERR_BAD_CONFIG') && !(e as Error).message.includes(PASSWORD),
      url,
    );
  }
  assert.throws(
    () => openLimitStore('memcached://h:1'),
    (e) => isHeistError(e, 'HEIST_ERR_BAD_CONFIG'),
  );
});
