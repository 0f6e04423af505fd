/**
 * Seeded fuzzing of a keyed, audited gateway (the CI-sized version of bench/gateway-hostile.ts):
 * 3,000 hostile requests of many kinds never get a 5xx, never a stack trace, and every one of them
 * (served or refused) leaves exactly one audit record, with the chain intact at the end.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { InjectOptions } from 'fastify';
import { createRng } from '../../src/core/rng.js';
import { KeyRing, issueKey } from '../../src/gateway/keys.js';
import { buildGateway } from '../../src/gateway/server.js';
import { openAuditStore } from '../../src/store/index.js';
import { openLimitStore } from '../../src/store/limits/index.js';
import { D, model, rows } from './helpers.js';

const N = 3000;

test(`${N} fuzzed requests: no 5xx, no stack traces, one audit record each`, async () => {
  const rng = createRng(2026);
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rng.next() * xs.length)];
  const keys = new KeyRing();
  const good = issueKey({ tier: 'free', now: Date.now() });
  keys.put(good.record);
  const store = await openAuditStore('sqlite://:memory:');
  const limits = await openLimitStore('memory://');
  const app = buildGateway({
    models: [{ name: 'm', predictor: model() }],
    access: {
      keys,
      tiers: { free: { perKey: { requests: { second: 50 } } } },
      limiter: { store: limits, failMode: 'closed' },
    },
    audit: { store },
    bodyLimitBytes: 64 * 1024,
  });
  const valid = () => JSON.stringify({ inputs: rows(1 + Math.floor(rng.next() * 4), Math.floor(rng.next() * 1e6)) });
  const kinds: (() => InjectOptions)[] = [
    () => ({ payload: valid() }),
    () => ({ payload: valid().slice(0, Math.floor(rng.next() * 40)) }),
    () => ({ payload: `{"inputs":${'['.repeat(2 + Math.floor(rng.next() * 5000))}` }),
    () => ({ payload: JSON.stringify({ inputs: [Array(D).fill(1e308 * 10)] }).replace(/null/g, '1e999') }),
    () => ({ payload: JSON.stringify({ inputs: [Array(D).fill('NaN')] }) }),
    () => ({ payload: JSON.stringify({ inputs: [Array(Math.floor(rng.next() * 20)).fill(0.5)] }) }),
    () => ({ payload: JSON.stringify({ inputs: [Array(D).fill(2)] }) }),
    () => ({ payload: JSON.stringify({ input: rows(1) }) }),
    () => ({ payload: JSON.stringify({ inputs: rows(1), __proto__: { x: 1 } }) }),
    () => ({ payload: 'x'.repeat(70 * 1024) }),
    () => ({
      payload: valid(),
      headers: {
        'content-type': pick([
          'text/plain',
          'application/xml',
          'application/json; charset=utf-16',
          'multipart/form-data',
        ]),
      },
    }),
    () => ({
      payload: Buffer.alloc(Math.floor(rng.next() * 100)),
      headers: { 'content-type': 'application/octet-stream' },
    }),
    () => ({ payload: valid(), url: `/v1/models/${pick(['nope', '..', '%00', 'm/../m', 'a'.repeat(200)])}/predict` }),
    () => ({
      payload: valid(),
      headers: { 'x-api-key': pick(['', 'hk_', `hk_${'0'.repeat(12)}_${'A'.repeat(43)}`, good.key.slice(0, -1)]) },
    }),
    () => ({ payload: valid(), url: `/v1/models/m/predict?api_key=${good.key}` }),
    () => ({ method: pick(['GET', 'PUT', 'DELETE', 'PATCH']) as InjectOptions['method'], payload: valid() }),
    () => ({
      url: pick(['/admin/keys', '/metrics', '/v1/models', '/v1/models/m', '/nope', '/v1/completions']),
      method: pick(['GET', 'POST']),
    }),
  ];
  let fiveXx = 0;
  let stacks = 0;
  let audited = 0;
  try {
    for (let i = 0; i < N; i++) {
      const o = pick(kinds)();
      const req: InjectOptions = {
        method: o.method ?? 'POST',
        url: o.url ?? '/v1/models/m/predict',
        ...(o.payload !== undefined ? { payload: o.payload } : {}),
        headers: {
          'content-type': 'application/json',
          'x-api-key': good.key,
          ...(o.headers as Record<string, string>),
        },
      };
      const res = await app.inject(req);
      if (res.statusCode >= 500) fiveXx++;
      if (/\bat [\w.<>]+ \(|node:internal|\.ts:\d+/.test(res.body)) stacks++;
      // Liveness, scraping and the API document are the routes that keep no record.
      if (res.headers['x-request-id'] && !['/metrics', '/healthz', '/openapi.json'].includes(req.url as string))
        audited++;
    }
    assert.equal(fiveXx, 0, '5xx answers');
    assert.equal(stacks, 0, 'answers carrying stack traces');
    assert.ok(audited > N * 0.95, `${audited} of ${N} requests reached the gateway`);
    assert.equal(await store.count(), audited, 'one record per request that reached the gateway');
    assert.equal((await store.verify()).ok, true);
  } finally {
    await app.close();
    await store.close();
    await limits.close();
  }
});
