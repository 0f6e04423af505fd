/**
 * The gateway's audit log (findings 4 and 5 of the hardening issue): one durable record per
 * request, refused ones included, with the verified client, the raw and the served output; a store
 * locked by another process never stalls other requests, and its failure is fail-closed (503) by
 * default or fail-open with an error log line when configured.
 */
import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { test } from 'node:test';
import { repoRoot } from '../../src/datasets/paths.js';
import { createDefenses, createPipeline } from '../../src/defenses/index.js';
import { buildGateway } from '../../src/gateway/server.js';
import { openAuditStore } from '../../src/store/index.js';
import { openLimitStore } from '../../src/store/limits/index.js';
import { assertError, keyedAccess, model, post, rows } from './helpers.js';

function tempDir(): { dir: string; done(): void } {
  const dir = mkdtempSync(join(tmpdir(), 'heist-gw-audit-'));
  return { dir, done: () => rmSync(dir, { recursive: true, force: true }) };
}

test('every request is one record: served and refused alike, with the verified client and both outputs', async () => {
  const t = tempDir();
  const store = await openAuditStore(`sqlite://${join(t.dir, 'audit.db')}`);
  const keyed = keyedAccess();
  const limiter = { store: await openLimitStore('memory://'), failMode: 'closed' as const };
  const app = buildGateway({
    models: [
      {
        name: 'm',
        predictor: model(),
        pipeline: createPipeline(createDefenses([{ name: 'round', options: { decimals: 1 } }])),
      },
    ],
    access: {
      ...keyed.access,
      anonymousTier: undefined,
      tiers: { t: { perKey: { requests: { minute: 2 } } } },
      limiter,
    },
    audit: { store },
  });
  try {
    const key = { 'x-api-key': keyed.key('a') };
    assert.equal((await post(app, 'm', { inputs: rows(2) }, key)).statusCode, 200);
    assertError(await post(app, 'm', { inputs: rows(1) }), 401, 'HEIST_ERR_UNAUTHORIZED', 'no key');
    assertError(await post(app, 'nope', { inputs: rows(1) }, key), 404, 'HEIST_ERR_UNKNOWN_MODEL', 'unknown model');
    assertError(
      await app.inject({
        method: 'POST',
        url: '/v1/models/m/predict',
        payload: '{"inputs": [',
        headers: { ...key, 'content-type': 'application/json' },
      }),
      400,
      'HEIST_ERR_BAD_JSON',
      'bad JSON',
    );
    assert.equal((await post(app, 'm', { inputs: rows(1) }, key)).statusCode, 200);
    assertError(await post(app, 'm', { inputs: rows(1) }, key), 429, 'HEIST_ERR_RATE_LIMITED', 'over the limit');
    assert.equal((await app.inject({ method: 'GET', url: '/healthz' })).statusCode, 200);

    const records = await store.query();
    assert.deepEqual(
      records.map((r) => [r.status, r.outcome]),
      [
        [200, 'served'],
        [401, 'HEIST_ERR_UNAUTHORIZED'],
        [404, 'HEIST_ERR_UNKNOWN_MODEL'],
        [400, 'HEIST_ERR_BAD_JSON'],
        [200, 'served'],
        [429, 'HEIST_ERR_RATE_LIMITED'],
      ],
      'one record per request, liveness probes excepted',
    );
    const id = `key:${keyed.key('a').slice(3, 15)}`;
    assert.equal(records[0].clientId, id);
    assert.equal(records[0].tier, 't');
    assert.equal(records[1].clientId, 'unverified', 'a refused caller is not given an identity');
    assert.equal(records[0].route, 'POST /v1/models/:name/predict');
    assert.equal(records[0].model, 'm');
    assert.equal(records[0].rows.length, 2);
    const r0 = records[0].rows[0];
    assert.deepEqual(Array.from(r0.input!), rows(2)[0].map(Math.fround));
    assert.ok(r0.raw?.scores && r0.served?.scores);
    assert.notDeepEqual(Array.from(r0.raw.scores), Array.from(r0.served.scores), 'raw and served (rounded) differ');
    for (const v of r0.served.scores) assert.ok(Math.abs(v * 10 - Math.round(v * 10)) < 1e-5);
    assert.equal(records[5].rows.length, 1, 'a rate-limited request keeps its inputs');
    assert.equal(records[5].rows[0].served, undefined, 'but nothing was served');
    assert.equal(records[3].rows.length, 0, 'an unparseable body has no rows');
    assert.equal((await store.verify()).ok, true);
  } finally {
    await app.close();
    await store.close();
    await limiter.store.close();
    t.done();
  }
});

test('inputs: false keeps hashes only', async () => {
  const t = tempDir();
  const store = await openAuditStore(`sqlite://${join(t.dir, 'audit.db')}`);
  const app = buildGateway({ models: [{ name: 'm', predictor: model() }], audit: { store, inputs: false } });
  try {
    assert.equal((await post(app, 'm', { inputs: rows(3) })).statusCode, 200);
    const [r] = await store.query();
    assert.equal(r.rows.length, 3);
    assert.ok(r.rows.every((x) => x.input === undefined && /^[0-9a-f]{32}$/.test(x.inputHash)));
  } finally {
    await app.close();
    await store.close();
    t.done();
  }
});

/** Another process holding SQLite's write lock on `path` until killed. */
async function holdLock(path: string): Promise<ChildProcess> {
  const code = `import Database from 'better-sqlite3'; const db = new Database(${JSON.stringify(path)}); db.exec('BEGIN EXCLUSIVE'); process.stdout.write('locked\\n'); setInterval(() => {}, 1000);`;
  const child = spawn(process.execPath, ['--input-type=module', '-e', code], {
    cwd: repoRoot,
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  await new Promise<void>((resolve, reject) => {
    child.stdout!.on('data', (d) => String(d).includes('locked') && resolve());
    child.once('exit', (c) => reject(new Error(`lock holder exited ${c}`)));
  });
  return child;
}

async function lockedGateway(failMode: 'open' | 'closed', logStream?: NodeJS.WritableStream) {
  const t = tempDir();
  const path = join(t.dir, 'audit.db');
  const store = await openAuditStore(`sqlite://${path}`, { commitTimeoutMs: 400 });
  const app = buildGateway({
    models: [{ name: 'm', predictor: model() }],
    audit: { store, failMode },
    ...(logStream ? { logStream } : {}),
  });
  assert.equal((await post(app, 'm', { inputs: rows(1) })).statusCode, 200, 'served while the store is free');
  const holder = await holdLock(path);
  return {
    app,
    store,
    async close() {
      holder.kill('SIGKILL');
      await app.close();
      await store.close();
      t.done();
    },
  };
}

test('a store locked by another process: fail-closed answers 503 and never stalls other requests', async () => {
  const g = await lockedGateway('closed');
  try {
    let healthAnswered = 0;
    const predict = post(g.app, 'm', { inputs: rows(1) });
    // While the predict waits for its record, the server keeps answering.
    for (let i = 0; i < 5; i++)
      if ((await g.app.inject({ method: 'GET', url: '/healthz' })).statusCode === 200) healthAnswered++;
    const res = await predict;
    assert.equal(healthAnswered, 5);
    assertError(res, 503, 'HEIST_ERR_AUDIT_UNAVAILABLE', 'fail-closed');
    assert.ok(!res.body.includes('probabilities'), 'no answer leaves unrecorded');
  } finally {
    await g.close();
  }
});

test('fail-open, when configured, answers and says so loudly in the error log', async () => {
  const lines: string[] = [];
  const logStream = new Writable({
    write(chunk, _enc, cb) {
      lines.push(String(chunk));
      cb();
    },
  });
  const g = await lockedGateway('open', logStream);
  try {
    const res = await post(g.app, 'm', { inputs: rows(1) });
    assert.equal(res.statusCode, 200);
    const errors = lines.map((l) => JSON.parse(l) as { level: number; msg: string }).filter((l) => l.level >= 50);
    assert.ok(
      errors.some((l) => /NOT durable/.test(l.msg)),
      `an error line says the record is missing: ${lines.join('')}`,
    );
  } finally {
    await g.close();
  }
});

test('a malformed URL (fastify runs no hooks for it) still gets its request id and its record', async () => {
  const store = await openAuditStore('sqlite://:memory:');
  const app = buildGateway({ models: [{ name: 'm', predictor: model() }], audit: { store } });
  try {
    const res = await app.inject({ method: 'POST', url: '/v1/models/%ZZ/predict', payload: { inputs: rows(1) } });
    assert.ok(res.statusCode >= 400 && res.statusCode < 500, `status ${res.statusCode}`);
    assert.ok(res.headers['x-request-id'], 'request id');
    const records = await store.query();
    assert.equal(records.length, 1);
    assert.equal(records[0].requestId, res.headers['x-request-id']);
    assert.equal(records[0].status, res.statusCode);
  } finally {
    await app.close();
    await store.close();
  }
});
