/**
 * @file Every registered rate-limit store through the limit-store conformance suite: fixed windows
 * (full refuses, the next window admits), atomic multi-counter consumes, Retry-After = time to the
 * violated window's end, row costs, costs over the limit, and 2,000 concurrent consumes from two
 * store instances ("replicas") admitting exactly the limit. Times are explicit `now` values.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { test } from 'node:test';
import { isHeistError } from '../../src/core/errors.js';
import { type CounterCheck, type LimitStore, limitStores } from '../../src/store/limits/index.js';
import { redisForTest, redisSkip } from '../helpers/redis.js';

const SECOND = 1_000;
const MINUTE = 60_000;
const DAY = 86_400_000;
/** A UTC midnight: second, minute and day windows all start here. */
const T0 = 19_675 * DAY;

interface Fixture {
  /** A new store instance; instances of one fixture share counters when `shared`. */
  open(): LimitStore;
  /** Whether two instances see the same counters (a shared server) or each its own (in-process). */
  readonly shared: boolean;
  close(): Promise<void>;
}

interface FixtureSource {
  readonly skip: string | false;
  setup(): Promise<Fixture>;
}

// Generous per-consume timeout: these tests check counting, not latency, on a busy machine.
const timeoutMs = 5_000;
const fromUrl = (scheme: string, url: string) => () =>
  limitStores.create(scheme, { location: url.slice(`${scheme}://`.length), timeoutMs }, undefined);

const fixtures: Record<string, FixtureSource> = {
  memory: {
    skip: false,
    setup: async () => ({
      open: () => limitStores.create('memory', { location: '' }, undefined),
      shared: false,
      close: async () => {},
    }),
  },
  redis: {
    skip: redisSkip,
    setup: async () => {
      const server = await redisForTest();
      return { open: fromUrl('redis', server.url), shared: true, close: () => server.close() };
    },
  },
  // TLS needs a certificate this process trusts: .ci/redis.sh starts such a server and exports
  // HEIST_TEST_REDISS_URL and NODE_EXTRA_CA_CERTS.
  rediss: {
    skip:
      process.env.HEIST_TEST_REDISS_URL || process.env.CI === 'true'
        ? false
        : 'set HEIST_TEST_REDISS_URL (and NODE_EXTRA_CA_CERTS) to a TLS Redis, as .ci/redis.sh does',
    setup: async () => {
      const url = process.env.HEIST_TEST_REDISS_URL;
      if (!url) throw new Error('HEIST_TEST_REDISS_URL is not set: source .ci/redis.sh and run start_redis');
      return { open: fromUrl('rediss', url), shared: true, close: async () => {} };
    },
  },
};

const check = (key: string, windowMs: number, limit: number, cost = 1): CounterCheck => ({
  key,
  windowMs,
  limit,
  cost,
});

test('every registered limit store has a conformance fixture', () => {
  assert.deepEqual(
    limitStores.names().filter((n) => !(n in fixtures)),
    [],
    'add a fixture for the new store to test/conformance/limit-stores.test.ts',
  );
});

for (const name of limitStores.names().filter((n) => n in fixtures)) {
  const source = fixtures[name];
  test(`limit store ${name} conforms`, { skip: source.skip, timeout: 120_000 }, async (t) => {
    const fixture = await source.setup();
    const store = fixture.open();
    // Fresh counter names per run, so a shared server (HEIST_TEST_REDIS_URL) never mixes runs.
    const ns = `conf:${randomUUID().slice(0, 8)}`;
    try {
      assert.ok(store.url.startsWith(`${name}://`), `url ${store.url}`);

      await t.test('a counter at its limit refuses until the next window admits', async () => {
        const c = [check(`${ns}:win`, SECOND, 3)];
        for (let i = 0; i < 3; i++) assert.deepEqual(await store.consume(c, T0 + 250 + i), { allowed: true });
        assert.deepEqual(await store.consume(c, T0 + 300), { allowed: false, violated: 0, retryAfterMs: 700 });
        assert.deepEqual(await store.consume(c, T0 + 999), { allowed: false, violated: 0, retryAfterMs: 1 });
        assert.deepEqual(await store.consume(c, T0 + SECOND), { allowed: true }, 'the next window starts empty');
        // Another counter name is another counter.
        assert.deepEqual(await store.consume([check(`${ns}:win-other`, SECOND, 3)], T0 + 300), { allowed: true });
      });

      await t.test('counters of one consume are incremented all or none', async () => {
        const a = check(`${ns}:atomic-a`, MINUTE, 2);
        const b = check(`${ns}:atomic-b`, SECOND, 1);
        const now = T0 + 5 * MINUTE + 100;
        assert.deepEqual(await store.consume([a, b], now), { allowed: true });
        assert.deepEqual(await store.consume([a, b], now + 1), { allowed: false, violated: 1, retryAfterMs: 899 });
        // Had the refused consume counted on a, a would be at 2 now and refuse.
        assert.deepEqual(await store.consume([a], now + 2), { allowed: true });
        assert.deepEqual(await store.consume([a], now + 3), {
          allowed: false,
          violated: 0,
          retryAfterMs: MINUTE - 103,
        });
        // With several full counters the first is reported.
        assert.deepEqual(await store.consume([b, a], now + 4), { allowed: false, violated: 0, retryAfterMs: 896 });
      });

      await t.test('retryAfterMs is the time to the end of the violated window', async () => {
        const now = T0 + 12_345;
        const full = (key: string, windowMs: number) => check(`${ns}:retry-${key}`, windowMs, 0);
        const room = check(`${ns}:retry-room`, DAY, 1_000_000);
        const cases: [CounterCheck, number][] = [
          [full('second', SECOND), SECOND - 345],
          [full('minute', MINUTE), MINUTE - 12_345],
          [full('day', DAY), DAY - 12_345],
        ];
        for (const [c, ms] of cases)
          assert.deepEqual(await store.consume([room, c], now), { allowed: false, violated: 1, retryAfterMs: ms });
      });

      await t.test('costs count rows, and one larger than the limit is refused without counting', async () => {
        const rows = check(`${ns}:rows`, MINUTE, 10, 4);
        const now = T0 + 2 * MINUTE;
        assert.deepEqual(await store.consume([rows], now), { allowed: true });
        assert.deepEqual(await store.consume([rows], now), { allowed: true });
        assert.equal((await store.consume([rows], now)).allowed, false, '8 + 4 > 10');
        assert.deepEqual(await store.consume([{ ...rows, cost: 2 }], now), { allowed: true });
        assert.equal((await store.consume([{ ...rows, cost: 1 }], now)).allowed, false, 'at 10 of 10');

        const big = check(`${ns}:too-big`, MINUTE, 5, 6);
        assert.deepEqual(await store.consume([big], now), { allowed: false, violated: 0, retryAfterMs: MINUTE });
        assert.deepEqual(await store.consume([{ ...big, cost: 5 }], now), { allowed: true }, 'the 6 was not counted');
      });

      await t.test('a counter named twice in one consume needs room for both costs', async () => {
        const c = check(`${ns}:twice`, MINUTE, 5, 3);
        assert.equal((await store.consume([c, c], T0)).allowed, false);
        assert.deepEqual(await store.consume([c], T0), { allowed: true }, 'nothing was counted');
      });

      await t.test('no checks are allowed; a malformed check is HEIST_ERR_BAD_CONFIG', async () => {
        assert.deepEqual(await store.consume([], T0), { allowed: true });
        for (const bad of [
          check('', SECOND, 1),
          check(`${ns}:bad`, 0, 1),
          check(`${ns}:bad`, SECOND, -1),
          check(`${ns}:bad`, SECOND, 1, 1.5),
        ])
          await assert.rejects(store.consume([bad], T0), (e) => isHeistError(e, 'HEIST_ERR_BAD_CONFIG'));
        await assert.rejects(store.consume([check(`${ns}:bad`, SECOND, 1)], Number.NaN), (e) =>
          isHeistError(e, 'HEIST_ERR_BAD_CONFIG'),
        );
      });

      await t.test('2,000 concurrent consumes from two replicas admit exactly the limit', async () => {
        const replica = fixture.shared ? fixture.open() : store;
        try {
          const c = [check(`${ns}:race`, DAY, 300)];
          const now = T0 + 3 * MINUTE;
          const answers = await Promise.all(
            Array.from({ length: 2_000 }, (_, i) => (i % 2 === 0 ? store : replica).consume(c, now)),
          );
          assert.equal(answers.filter((a) => a.allowed).length, 300);
          assert.ok(answers.every((a) => a.allowed || (a.violated === 0 && a.retryAfterMs === DAY - 3 * MINUTE)));
          assert.equal((await replica.consume(c, now)).allowed, false, 'the counter stays full');
        } finally {
          if (replica !== store) await replica.close();
        }
      });
    } finally {
      await store.close();
      await fixture.close();
    }
  });
}
