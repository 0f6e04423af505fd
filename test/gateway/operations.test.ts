/**
 * Operating the gateway: graceful shutdown drains in-flight requests (each with its audit record)
 * and refuses new ones; /metrics (behind the admin key) counts requests, refusals and audit
 * appends; /openapi.json describes the routes; a bulk caller's binary body gets the same answers
 * as JSON, through the attacker's own client.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import type { Predictor } from '../../src/core/prediction.js';
import { tensor } from '../../src/core/tensor.js';
import { KeyRing, secretDigest } from '../../src/gateway/keys.js';
import { buildGateway } from '../../src/gateway/server.js';
import { getWireFormat } from '../../src/oracle/formats/index.js';
import { httpOracle } from '../../src/oracle/http.js';
import { openAuditStore } from '../../src/store/index.js';
import { D, assertError, model, post, rows } from './helpers.js';

test('shutdown drains in-flight requests with their audit records, then refuses new ones', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'heist-shutdown-'));
  const store = await openAuditStore(`sqlite://${join(dir, 'audit.db')}`);
  const inner = model();
  let release: () => void = () => {};
  const gate = new Promise<void>((r) => {
    release = r;
  });
  const slow: Predictor = {
    info: inner.info,
    predict: async (x) => {
      await gate;
      return inner.predict(x);
    },
  };
  const app = buildGateway({ models: [{ name: 'm', predictor: slow }], audit: { store } });
  const address = await app.listen({ port: 0, host: '127.0.0.1' });
  try {
    const url = `${address}/v1/models/m/predict`;
    const inFlight = Array.from({ length: 5 }, () =>
      fetch(url, {
        method: 'POST',
        body: JSON.stringify({ inputs: rows(1) }),
        headers: { 'content-type': 'application/json' },
      }),
    );
    await new Promise((r) => setTimeout(r, 200)); // all five are waiting on the model
    const closing = app.close();
    await new Promise((r) => setTimeout(r, 50));
    release();
    const answers = await Promise.all(inFlight);
    assert.deepEqual(
      answers.map((a) => a.status),
      [200, 200, 200, 200, 200],
      'in-flight requests finish',
    );
    await closing;
    assert.equal(await store.count(), 5, 'each with its durable record');
    await assert.rejects(fetch(url, { method: 'POST', body: '{}' }), 'no new connections after close');
  } finally {
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  }
});

test('/metrics behind the admin key counts requests, refusals and audit appends', async () => {
  const store = await openAuditStore('sqlite://:memory:');
  const admin = 'metrics-admin-0123456789';
  const app = buildGateway({
    models: [{ name: 'm', predictor: model() }],
    access: { keys: new KeyRing(), tiers: { anon: {} }, anonymousTier: 'anon', adminKeySha256: secretDigest(admin) },
    audit: { store },
  });
  try {
    await post(app, 'm', { inputs: rows(2) });
    await post(app, 'm', { inputs: [] });
    assertError(await app.inject({ method: 'GET', url: '/metrics' }), 401, 'HEIST_ERR_UNAUTHORIZED', 'no admin key');
    const res = await app.inject({ method: 'GET', url: '/metrics', headers: { 'x-admin-key': admin } });
    assert.equal(res.statusCode, 200);
    assert.match(res.headers['content-type'] as string, /text\/plain/);
    assert.match(
      res.body,
      /heist_http_requests_total\{[^}]*route="POST \/v1\/models\/:name\/predict"[^}]*status="200"[^}]*\} 1/,
    );
    assert.match(res.body, /heist_refusals_total\{[^}]*code="HEIST_ERR_EMPTY_BATCH"[^}]*\} 1/);
    assert.match(res.body, /heist_rows_served_total\{[^}]*model="m"[^}]*\} 2/);
    assert.match(res.body, /heist_audit_append_seconds_count(\{[^}]*\})? [1-9]/);
  } finally {
    await app.close();
    await store.close();
  }
});

test('/openapi.json lists the routes and leaves model names out', async () => {
  const app = buildGateway({ models: [{ name: 'secret-model-name', predictor: model() }] });
  try {
    const res = await app.inject({ method: 'GET', url: '/openapi.json' });
    assert.equal(res.statusCode, 200);
    const doc = JSON.parse(res.body) as { openapi: string; paths: Record<string, unknown> };
    assert.match(doc.openapi, /^3\.1/);
    for (const p of ['/v1/models/{name}/predict', '/v1/models', '/healthz']) assert.ok(doc.paths[p], p);
    assert.ok(!res.body.includes('secret-model-name'));
  } finally {
    await app.close();
  }
});

test('a binary float32 body gets the same answers as JSON, through the attacker client', async () => {
  const app = buildGateway({ models: [{ name: 'm', predictor: model() }] });
  const bodies: string[] = [];
  app.addHook('onRequest', async (request) => {
    if (request.method === 'POST') bodies.push(String(request.headers['content-type']));
  });
  const address = await app.listen({ port: 0, host: '127.0.0.1' });
  try {
    const x = tensor(Float32Array.from(rows(5).flat()), [5, D]);
    const json = await httpOracle(`${address}/v1/models/m`, { format: getWireFormat('heist-v1', { binary: false }) });
    const binary = await httpOracle(`${address}/v1/models/m`, { format: getWireFormat('heist-v1', { binary: true }) });
    // The default client sends float32 because the gateway's model description offers it.
    const offered = await httpOracle(`${address}/v1/models/m`, { format: getWireFormat('heist-v1') });
    const a = await json.query(x);
    const b = await binary.query(x);
    const c = await offered.query(x);
    assert.deepEqual(bodies, ['application/json', 'application/octet-stream', 'application/octet-stream']);
    for (const p of [b, c]) {
      assert.deepEqual(Array.from(p.labels), Array.from(a.labels));
      assert.deepEqual(Array.from(p.scores!.data), Array.from(a.scores!.data));
    }
    const wrong = await app.inject({
      method: 'POST',
      url: '/v1/models/m/predict',
      payload: Buffer.alloc(4 * D + 4),
      headers: { 'content-type': 'application/octet-stream' },
    });
    assertError(wrong, 400, 'HEIST_ERR_SHAPE', 'a body that is not whole rows');
  } finally {
    await app.close();
  }
});
