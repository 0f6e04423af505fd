/**
 * Input hardening over real sockets (findings 2, 3 and 7 of the hardening issue): CONNECT gets a
 * 405 answer instead of a dropped socket, slow headers and slow bodies are cut with 408, a body
 * outside the model's input domain is refused or clipped as configured, and other charsets than
 * UTF-8 get 415.
 */
import assert from 'node:assert/strict';
import { connect } from 'node:net';
import { test } from 'node:test';
import { buildGateway } from '../../src/gateway/server.js';
import { assertError, model, post, rows } from './helpers.js';

/** Writes `chunks` (with pauses) to a raw socket and resolves with everything the server sent. */
function rawExchange(port: number, chunks: readonly (string | { pauseMs: number })[]): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1');
    let got = '';
    socket.on('data', (d) => {
      got += d.toString();
    });
    socket.on('close', () => resolve(got));
    socket.on('error', (e) => (got ? resolve(got) : reject(e)));
    socket.on('connect', async () => {
      for (const c of chunks) {
        if (typeof c === 'string') socket.write(c);
        else await new Promise((r) => setTimeout(r, c.pauseMs));
        if (socket.destroyed) return;
      }
    });
  });
}

async function listening(timeouts = { headersMs: 300, requestMs: 600, keepAliveMs: 300 }) {
  const app = buildGateway({ models: [{ name: 'm', predictor: model() }], timeouts });
  await app.listen({ port: 0, host: '127.0.0.1' });
  const port = (app.server.address() as { port: number }).port;
  return { app, port };
}

test('CONNECT gets 405 with the JSON error body', async () => {
  const { app, port } = await listening();
  try {
    const got = await rawExchange(port, ['CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\n\r\n']);
    assert.match(got, /^HTTP\/1\.1 405 /);
    assert.match(got, /HEIST_ERR_METHOD_NOT_ALLOWED/);
  } finally {
    await app.close();
  }
});

test('malformed HTTP gets a 400 JSON answer', async () => {
  const { app, port } = await listening();
  try {
    const got = await rawExchange(port, ['NOT HTTP AT ALL\r\n\r\n']);
    assert.match(got, /^HTTP\/1\.1 400 /);
    assert.match(got, /HEIST_ERR_BAD_BODY/);
  } finally {
    await app.close();
  }
});

test('a body that trickles in past the request timeout is cut with 408', async () => {
  const { app, port } = await listening();
  try {
    const payload = JSON.stringify({ inputs: rows(2) });
    const head = `POST /v1/models/m/predict HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: ${payload.length}\r\n\r\n`;
    const chunks: (string | { pauseMs: number })[] = [head];
    // One byte every 100 ms: the whole body would take seconds; the limit is 600 ms.
    for (const ch of payload.slice(0, 30)) chunks.push(ch, { pauseMs: 100 });
    const got = await rawExchange(port, chunks);
    assert.match(got, /^HTTP\/1\.1 408 /, got.slice(0, 80));
    assert.match(got, /HEIST_ERR_REQUEST_TIMEOUT/);
  } finally {
    await app.close();
  }
});

test('headers that never finish are cut with 408', async () => {
  const { app, port } = await listening();
  try {
    const chunks: (string | { pauseMs: number })[] = ['POST /v1/models/m/predict HTTP/1.1\r\n'];
    for (let i = 0; i < 20; i++) chunks.push(`X-Slow-${i}: 1\r\n`, { pauseMs: 100 });
    const got = await rawExchange(port, chunks);
    assert.match(got, /^HTTP\/1\.1 408 /, got.slice(0, 80));
  } finally {
    await app.close();
  }
});

test('inputs outside the declared domain: refused by default, clipped and flagged when configured', async () => {
  const x = rows(2);
  x[1][3] = 1.5; // the linear model declares [0, 1]
  const strict = buildGateway({ models: [{ name: 'm', predictor: model() }] });
  const clip = buildGateway({ models: [{ name: 'm', predictor: model(), inputDomain: 'clip' }] });
  try {
    assertError(await post(strict, 'm', { inputs: x }), 400, 'HEIST_ERR_OUT_OF_DOMAIN', 'reject');
    const clipped = await post(clip, 'm', { inputs: x });
    assert.equal(clipped.statusCode, 200);
    const same = x.map((r) => r.map((v) => Math.min(1, v)));
    const reference = await post(clip, 'm', { inputs: same });
    assert.equal(clipped.body, reference.body, 'served as if the value were 1');
  } finally {
    await strict.close();
    await clip.close();
  }
});

test('charsets other than UTF-8 get 415; UTF-8 and none are served', async () => {
  const app = buildGateway({ models: [{ name: 'm', predictor: model() }] });
  try {
    const payload = JSON.stringify({ inputs: rows(1) });
    for (const ct of [
      'application/json; charset=latin1',
      'application/json; charset=utf-16',
      'application/json;charset=ISO-8859-1',
    ]) {
      const res = await app.inject({
        method: 'POST',
        url: '/v1/models/m/predict',
        payload,
        headers: { 'content-type': ct },
      });
      assertError(res, 415, 'HEIST_ERR_BAD_CHARSET', ct);
    }
    for (const ct of ['application/json', 'application/json; charset=utf-8', 'application/json; charset=UTF-8']) {
      const res = await app.inject({
        method: 'POST',
        url: '/v1/models/m/predict',
        payload,
        headers: { 'content-type': ct },
      });
      assert.equal(res.statusCode, 200, ct);
    }
  } finally {
    await app.close();
  }
});

test('bodies held open reserve their size: past the buffered-bytes budget new bodies get 503 before they are read', async () => {
  const app = buildGateway({ models: [{ name: 'm', predictor: model() }], maxBufferedBodyBytes: 50_000 });
  await app.listen({ port: 0, host: '127.0.0.1' });
  const port = (app.server.address() as { port: number }).port;
  try {
    // A client announces 40 kB and sends only the start of it: the reservation stands while it waits.
    const held = connect(port, '127.0.0.1');
    await new Promise<void>((r) => held.once('connect', () => r()));
    held.write(
      'POST /v1/models/m/predict HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 40000\r\n\r\n{"inputs":',
    );
    await new Promise((r) => setTimeout(r, 300));
    const payload = JSON.stringify({ inputs: rows(1) }) + ' '.repeat(20_000);
    const refused = await fetch(`http://127.0.0.1:${port}/v1/models/m/predict`, {
      method: 'POST',
      body: payload,
      headers: { 'content-type': 'application/json' },
    });
    assert.equal(refused.status, 503);
    assert.equal(((await refused.json()) as { error: { code: string } }).error.code, 'HEIST_ERR_OVERLOADED');
    held.destroy();
    await new Promise((r) => setTimeout(r, 300));
    const served = await fetch(`http://127.0.0.1:${port}/v1/models/m/predict`, {
      method: 'POST',
      body: payload,
      headers: { 'content-type': 'application/json' },
    });
    assert.equal(served.status, 200, 'the reservation is released when the held connection goes');
  } finally {
    await app.close();
  }
});
