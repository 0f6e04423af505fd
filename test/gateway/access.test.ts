/**
 * API keys, tiers and rate limits at the gateway (findings 1 and "keys in URLs" of the hardening
 * issue): identity comes only from a verified key (or the IP when anonymous access is on), invented
 * keys get 401, revoked and expired keys stop working, limits answer 429 with Retry-After, per key
 * and shared by a tier, and the admin routes sit behind their own key.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Writable } from 'node:stream';
import type { FastifyInstance } from 'fastify';
import { KeyRing, issueKey, secretDigest } from '../../src/gateway/keys.js';
import { buildGateway } from '../../src/gateway/server.js';
import { openLimitStore } from '../../src/store/limits/index.js';
import { assertError, model, post, rows } from './helpers.js';

const ADMIN = 'admin-secret-0123456789';

function clockAt(t: { now: number }) {
  return { now: () => t.now, sleep: async () => {} };
}

async function gateway(
  opts: {
    tiers?: Record<string, object>;
    anonymousTier?: string;
    admin?: boolean;
    t?: { now: number };
    logStream?: NodeJS.WritableStream;
  } = {},
) {
  const t = opts.t ?? { now: 1_700_000_000_000 };
  const keys = new KeyRing();
  const store = await openLimitStore('memory://');
  const app = buildGateway({
    models: [{ name: 'm', predictor: model() }],
    clock: clockAt(t),
    access: {
      keys,
      tiers: (opts.tiers ?? { free: {} }) as never,
      ...(opts.anonymousTier ? { anonymousTier: opts.anonymousTier } : {}),
      ...(opts.admin ? { adminKeySha256: secretDigest(ADMIN) } : {}),
      limiter: { store, failMode: 'closed' },
    },
    // With a log stream, every request is logged: the strictest case for "no secret in the log".
    ...(opts.logStream ? { logStream: opts.logStream, logger: true } : {}),
  });
  const issue = (tier: string, init: { expiresAt?: number } = {}) => {
    const k = issueKey({ tier, now: t.now, ...init });
    keys.put(k.record);
    return k;
  };
  return {
    app,
    keys,
    issue,
    t,
    close: async () => {
      await app.close();
      await store.close();
    },
  };
}

const body = { inputs: rows(1) };
const predict = (app: FastifyInstance, key?: string) => post(app, 'm', body, key ? { 'x-api-key': key } : {});

test('no key, an unknown key, a malformed key, 200 invented keys: all 401; a verified key is served', async () => {
  const g = await gateway();
  try {
    assertError(await predict(g.app), 401, 'HEIST_ERR_UNAUTHORIZED', 'no key');
    assertError(await predict(g.app, 'not-a-key'), 401, 'HEIST_ERR_UNAUTHORIZED', 'malformed');
    const real = g.issue('free');
    const forged = `${real.key.slice(0, -4)}AAAA`;
    assertError(await predict(g.app, forged), 401, 'HEIST_ERR_UNAUTHORIZED', 'right id, wrong secret');
    for (let i = 0; i < 200; i++) {
      const invented = issueKey({ tier: 'free', now: 0 }).key;
      const res = await predict(g.app, invented);
      assert.equal(res.statusCode, 401, `invented key ${i}`);
    }
    assert.equal((await predict(g.app, real.key)).statusCode, 200);
    const bearer = await post(g.app, 'm', body, { authorization: `Bearer ${real.key}` });
    assert.equal(bearer.statusCode, 200, 'Authorization: Bearer works too (OpenAI-style clients)');
    assertError(await g.app.inject({ method: 'GET', url: '/v1/models' }), 401, 'HEIST_ERR_UNAUTHORIZED', 'model list');
    assert.equal((await g.app.inject({ method: 'GET', url: '/healthz' })).statusCode, 200, 'liveness needs no key');
  } finally {
    await g.close();
  }
});

test('revoked and expired keys are refused; a key of a tier this server does not serve is refused', async () => {
  const g = await gateway();
  try {
    const k = g.issue('free', { expiresAt: g.t.now + 60_000 });
    assert.equal((await predict(g.app, k.key)).statusCode, 200);
    g.t.now += 60_000;
    assertError(await predict(g.app, k.key), 401, 'HEIST_ERR_UNAUTHORIZED', 'expired');
    const r = g.issue('free');
    g.keys.revoke(r.record.id, g.t.now);
    assertError(await predict(g.app, r.key), 401, 'HEIST_ERR_UNAUTHORIZED', 'revoked');
    const other = g.issue('enterprise');
    assertError(await predict(g.app, other.key), 401, 'HEIST_ERR_UNAUTHORIZED', 'unknown tier');
  } finally {
    await g.close();
  }
});

test('per-key limits: requests per second and rows per minute, 429 with Retry-After, next window admits', async () => {
  const g = await gateway({ tiers: { free: { perKey: { requests: { second: 3 }, rows: { minute: 10 } } } } });
  try {
    g.t.now = 1_700_000_000_000; // a whole second
    const a = g.issue('free');
    const b = g.issue('free');
    for (let i = 0; i < 3; i++) assert.equal((await predict(g.app, a.key)).statusCode, 200, `request ${i}`);
    const limited = await predict(g.app, a.key);
    assertError(limited, 429, 'HEIST_ERR_RATE_LIMITED', '4th request in the second');
    assert.equal(limited.headers['retry-after'], '1');
    assert.equal((await predict(g.app, b.key)).statusCode, 200, 'another key has its own counters');
    g.t.now += 1000;
    assert.equal((await predict(g.app, a.key)).statusCode, 200, 'the next second admits');
    // a has used 4 rows this minute; 7 more exceed 10.
    const big = await post(g.app, 'm', { inputs: rows(7) }, { 'x-api-key': a.key });
    assertError(big, 429, 'HEIST_ERR_RATE_LIMITED', 'rows per minute');
    assert.ok(Number(big.headers['retry-after']) > 1 && Number(big.headers['retry-after']) <= 60);
    assert.equal(
      (await post(g.app, 'm', { inputs: rows(6) }, { 'x-api-key': a.key })).statusCode,
      200,
      '4 + 6 = 10 fits',
    );
    const huge = await post(g.app, 'm', { inputs: rows(11) }, { 'x-api-key': b.key });
    assertError(huge, 429, 'HEIST_ERR_RATE_LIMITED', 'a request larger than the limit itself');
  } finally {
    await g.close();
  }
});

test('a shared tier limit catches load spread over many keys', async () => {
  const g = await gateway({ tiers: { free: { shared: { rows: { day: 20 } } } } });
  try {
    const keys = Array.from({ length: 20 }, () => g.issue('free'));
    let admitted = 0;
    for (const k of keys) for (let i = 0; i < 2; i++) if ((await predict(g.app, k.key)).statusCode === 200) admitted++;
    assert.equal(admitted, 20, '20 keys x 2 rows, 20 rows per day for the whole tier');
  } finally {
    await g.close();
  }
});

test('anonymous access, when enabled, identifies and limits by IP; the x-api-key header cannot invent identities', async () => {
  const g = await gateway({ tiers: { public: { perKey: { requests: { minute: 2 } } } }, anonymousTier: 'public' });
  try {
    assert.equal((await predict(g.app)).statusCode, 200);
    assert.equal((await predict(g.app)).statusCode, 200);
    assertError(await predict(g.app), 429, 'HEIST_ERR_RATE_LIMITED', 'third anonymous request');
    assertError(
      await predict(g.app, 'hk_000000000000_invented'),
      401,
      'HEIST_ERR_UNAUTHORIZED',
      'a presented key must be valid',
    );
  } finally {
    await g.close();
  }
});

test('admin routes: absent without an admin key; 401 with a wrong one; create and revoke keys', async () => {
  const off = await gateway();
  try {
    assertError(
      await off.app.inject({ method: 'GET', url: '/admin/keys' }),
      404,
      'HEIST_ERR_NOT_FOUND',
      'no admin key',
    );
  } finally {
    await off.close();
  }
  const g = await gateway({ admin: true });
  try {
    assertError(
      await g.app.inject({ method: 'GET', url: '/admin/keys', headers: { 'x-admin-key': 'wrong-wrong-wrong-wrong' } }),
      401,
      'HEIST_ERR_UNAUTHORIZED',
      'wrong admin key',
    );
    const created = await g.app.inject({
      method: 'POST',
      url: '/admin/keys',
      headers: { 'x-admin-key': ADMIN },
      payload: { tier: 'free', label: 'acme' },
    });
    assert.equal(created.statusCode, 201, created.body);
    const { key, id } = JSON.parse(created.body) as { key: string; id: string };
    assert.equal((await predict(g.app, key)).statusCode, 200, 'the new key works at once');
    const listed = await g.app.inject({ method: 'GET', url: '/admin/keys', headers: { 'x-admin-key': ADMIN } });
    // The secret is everything after the id; base64url secrets may hold '_' themselves.
    assert.ok(!listed.body.includes(key.split('_').slice(2).join('_')), 'the listing never shows a secret');
    assert.ok(!listed.body.includes('secretSha256'), 'nor a digest');
    const del = await g.app.inject({ method: 'DELETE', url: `/admin/keys/${id}`, headers: { 'x-admin-key': ADMIN } });
    assert.equal(del.statusCode, 200);
    assertError(await predict(g.app, key), 401, 'HEIST_ERR_UNAUTHORIZED', 'revoked through the admin API');
    assertError(
      await g.app.inject({
        method: 'POST',
        url: '/admin/keys',
        headers: { 'x-admin-key': ADMIN },
        payload: { tier: 'gold' },
      }),
      400,
      'HEIST_ERR_BAD_BODY',
      'unknown tier',
    );
  } finally {
    await g.close();
  }
});

test('a key in the query string is refused and never written to the log', async () => {
  const lines: string[] = [];
  const logStream = new Writable({
    write(chunk, _enc, cb) {
      lines.push(String(chunk));
      cb();
    },
  });
  const g = await gateway({ logStream });
  try {
    const k = g.issue('free');
    const res = await g.app.inject({ method: 'POST', url: `/v1/models/m/predict?api_key=${k.key}`, payload: body });
    assertError(res, 400, 'HEIST_ERR_KEY_IN_URL', 'key in URL');
    assert.ok(!res.body.includes(k.key), 'nor echoed in the answer');
    assert.equal((await predict(g.app, k.key)).statusCode, 200);
    assert.ok(lines.length >= 2, 'requests were logged');
    assert.ok(!lines.join('').includes(k.key.slice(3)), 'the key is not in the log');
  } finally {
    await g.close();
  }
});

test('path tricks reach no API route without a key: encoded paths and absolute-form URLs', async () => {
  const g = await gateway();
  try {
    for (const url of ['/%761/models', 'http://evil.example/v1/models', '/%76%31/models/m']) {
      const res = await g.app.inject({ method: 'GET', url });
      assert.ok([401, 404].includes(res.statusCode), `${url}: ${res.statusCode} ${res.body.slice(0, 80)}`);
      assert.ok(!res.body.includes('inputShape'), `${url} reveals nothing`);
    }
    for (const url of ['/%761/models/m/predict', 'http://evil.example/v1/models/m/predict']) {
      const res = await g.app.inject({ method: 'POST', url, payload: body });
      assert.ok([401, 404].includes(res.statusCode), `${url}: ${res.statusCode} ${res.body.slice(0, 80)}`);
    }
  } finally {
    await g.close();
  }
});
