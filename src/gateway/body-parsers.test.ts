/**
 * @file installBodyParsers on a real fastify app (inject): depth refusals before JSON.parse, strings
 * and escapes skipped exactly (checked against a reference state machine on random texts),
 * charsets, octet-stream bodies as Buffers on the binary route only, 415 for other types, empty and
 * invalid bodies; the gateway's own error mapping (errors.ts) turns them into error bodies.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import Fastify, { type FastifyInstance, type InjectOptions } from 'fastify';
import { createRng } from '../core/rng.js';
import type { ModelInfo } from '../core/prediction.js';
import { decodeBinaryPredictRequest, heistV1, serializePredictResponse } from '../oracle/formats/heist-v1/index.js';
import { encodeBinaryPredict } from '../oracle/formats/heist-v1/client.js';
import { type BodyParserOptions, installBodyParsers, isUtf8ContentType, jsonDepthExceeded } from './body-parsers.js';
import { mapError, sendError } from './errors.js';

const P = '/v1/models/m/predict';

interface Seen {
  calls: number;
  body?: unknown;
}

function app(options: BodyParserOptions = {}, bodyLimit = 1 << 20): { app: FastifyInstance; seen: Seen } {
  const seen: Seen = { calls: 0 };
  const a = Fastify({ bodyLimit });
  installBodyParsers(a, options);
  a.setErrorHandler((error, _request, reply) => sendError(reply, mapError(error)));
  a.setNotFoundHandler((_request, reply) =>
    sendError(reply, { status: 404, code: 'HEIST_ERR_NOT_FOUND', message: 'no such route' }),
  );
  const handler = async (request: { body: unknown }) => {
    seen.calls++;
    seen.body = request.body;
    return { ok: true, buffer: Buffer.isBuffer(request.body) };
  };
  a.post('/v1/models/:name/predict', handler);
  a.post('/v1/completions', handler);
  return { app: a, seen };
}

const post = (payload: string | Buffer, contentType?: string, url = P): InjectOptions => ({
  method: 'POST',
  url,
  payload,
  headers: contentType === undefined ? {} : { 'content-type': contentType },
});

async function expectError(a: FastifyInstance, req: InjectOptions, status: number, code: string): Promise<string> {
  const res = await a.inject(req);
  assert.equal(res.statusCode, status, res.body);
  const body = res.json() as { error: { code: string; message: string } };
  assert.equal(body.error.code, code);
  return body.error.message;
}

/** The obvious character-by-character JSON nesting counter, to check the fast scan against. */
function referenceDepth(s: string, maxDepth: number): number {
  const b = Buffer.from(s);
  let d = 0;
  let inString = false;
  for (let i = 0; i < b.length; i++) {
    const c = b[i];
    if (inString) {
      if (c === 0x5c) i++;
      else if (c === 0x22) inString = false;
    } else if (c === 0x22) inString = true;
    else if (c === 0x5b || c === 0x7b) {
      if (++d > maxDepth) return i;
    } else if (c === 0x5d || c === 0x7d) d--;
  }
  return -1;
}

const depth = (s: string, max = 8): number => jsonDepthExceeded(Buffer.from(s), max);

test('jsonDepthExceeded counts nesting outside strings only', () => {
  assert.equal(depth('[[[[[[[[]]]]]]]]'), -1, '8 levels pass');
  assert.equal(depth('[[[[[[[[[]]]]]]]]]'), 8, 'the 9th opener is where it fails');
  assert.equal(depth('{"a":{"b":[[{"c":[1]}]]}}', 5), 17);
  assert.equal(depth('{"a":"[[[[[[[[[[[[{{{{{{{{"}', 1), -1, 'brackets in strings do not count');
  assert.equal(depth('{"a":"\\"[[[[[[[[[[[["}', 1), -1, 'an escaped quote does not end the string');
  assert.equal(
    depth('{"a":"x\\\\","b":[[[[[[[[[]]]]]]]]]}'),
    22,
    'an escaped backslash does: the quote after it closes',
  );
  assert.equal(depth('["\\\\\\"[[[[[[[[[["]', 1), -1, 'three backslashes escape the quote');
  assert.equal(depth('"unterminated [[[[[[[[[[[[', 1), -1);
  assert.equal(depth(''), -1);
  assert.equal(depth('["é[", "\u{1F600}[[[[[[[[[[", [[]]]', 3), -1, 'multi-byte UTF-8 inside strings');
});

test('jsonDepthExceeded switches to the byte loop on dense bodies and still finds the spot', () => {
  const dense = `[${'[],'.repeat(5000)}[[[[[[[[]]]]]]]]]`;
  assert.equal(depth(dense), referenceDepth(dense, 8));
  assert.ok(depth(dense) > 0);
  const denseOk = `[${'["[",{}],'.repeat(5000)}[]]`;
  assert.equal(depth(denseOk, 3), -1);
  assert.equal(depth(denseOk, 2), referenceDepth(denseOk, 2));
});

test('jsonDepthExceeded agrees with the reference counter on random texts', () => {
  const rng = createRng(20240601);
  const alphabet = ['[', ']', '{', '}', '"', '\\', 'a', '1', ',', ' ', 'é'];
  for (let t = 0; t < 3000; t++) {
    const len = 1 + rng.int(t < 2500 ? 60 : 6000);
    // Skew toward few or many structural characters, so both scan modes run.
    const weightStructural = rng.next();
    let s = '';
    for (let i = 0; i < len; i++)
      s += rng.next() < weightStructural ? alphabet[rng.int(6)] : alphabet[6 + rng.int(alphabet.length - 6)];
    const max = 1 + rng.int(6);
    assert.equal(depth(s, max), referenceDepth(s, max), `text ${JSON.stringify(s.slice(0, 200))} max ${max}`);
  }
});

test('a 6 MB deep body is refused with 400 HEIST_ERR_BAD_JSON before the handler, valid bodies reach it', async () => {
  const { app: a, seen } = app({}, 8 << 20);
  const message = await expectError(a, post('['.repeat(6_000_000), 'application/json'), 400, 'HEIST_ERR_BAD_JSON');
  assert.match(message, /too deep/);
  await expectError(
    a,
    post(`{"inputs":${'['.repeat(9)}${']'.repeat(9)}}`, 'application/json'),
    400,
    'HEIST_ERR_BAD_JSON',
  );
  assert.equal(seen.calls, 0);
  const ok = await a.inject(post(JSON.stringify({ inputs: [[1, 2, 3]], output: 'label' }), 'application/json'));
  assert.equal(ok.statusCode, 200);
  assert.deepEqual(seen.body, { inputs: [[1, 2, 3]], output: 'label' });
  const chat = { model: 'lm', messages: [{ role: 'user', content: 'a [[[[[[[[[[[ "quoted" \\ }' }] };
  const res = await a.inject(post(JSON.stringify(chat), 'application/json', '/v1/completions'));
  assert.equal(res.statusCode, 200);
  assert.deepEqual(seen.body, chat);
  await a.close();
});

test('maxDepth is configurable and validated', async () => {
  const { app: a } = app({ maxDepth: 2 });
  await expectError(a, post('{"inputs":[[1]]}', 'application/json'), 400, 'HEIST_ERR_BAD_JSON');
  assert.equal((await a.inject(post('{"inputs":[1]}', 'application/json'))).statusCode, 200);
  await a.close();
  assert.throws(() => installBodyParsers(Fastify(), { maxDepth: 0 }), { code: 'HEIST_ERR_BAD_CONFIG' });
});

test('empty and invalid JSON are 400 HEIST_ERR_BAD_JSON; a __proto__ key stays a plain own key', async () => {
  const { app: a, seen } = app();
  await expectError(a, post('', 'application/json'), 400, 'HEIST_ERR_BAD_JSON');
  await expectError(a, post('{"inputs": [[1,2', 'application/json'), 400, 'HEIST_ERR_BAD_JSON');
  await expectError(a, post('{"a":1} x', 'application/json'), 400, 'HEIST_ERR_BAD_JSON');
  assert.equal(seen.calls, 0);
  const res = await a.inject(post('{"__proto__":{"polluted":1}}', 'application/json'));
  assert.equal(res.statusCode, 200);
  assert.deepEqual(Object.keys(seen.body as object), ['__proto__']);
  assert.equal(({} as { polluted?: number }).polluted, undefined);
  await a.close();
});

test('charsets: UTF-8 or none is parsed, any other declared charset is 415 HEIST_ERR_BAD_CHARSET', async () => {
  const { app: a, seen } = app();
  const body = JSON.stringify({ inputs: [[1]] });
  for (const ct of [
    'application/json',
    'application/json; charset=utf-8',
    'application/json; charset=UTF-8',
    'application/json;charset=utf8',
    'application/json; charset="utf-8"',
    'Application/JSON; Charset=Utf-8',
  ]) {
    const res = await a.inject(post(body, ct));
    assert.equal(res.statusCode, 200, ct);
  }
  const before = seen.calls;
  for (const ct of [
    'application/json; charset=latin1',
    'application/json; charset=utf-16',
    'application/json; charset=UTF-16LE',
    'application/json; charset=iso-8859-1',
    'application/json; charset="utf-16"',
    'application/json; charset=',
  ])
    await expectError(a, post(body, ct), 415, 'HEIST_ERR_BAD_CHARSET');
  assert.equal(seen.calls, before, 'refused before the handler');
  assert.equal(isUtf8ContentType('application/json; charset=utf-8; charset=latin1'), false);
  await a.close();
});

test('octet-stream reaches the binary route as the exact Buffer, and is 415 elsewhere', async () => {
  const { app: a, seen } = app();
  const bytes = Buffer.from(new Float32Array([1.5, -2, 3.25]).buffer);
  const res = await a.inject(post(bytes, 'application/octet-stream'));
  assert.equal(res.statusCode, 200);
  assert.equal((res.json() as { buffer: boolean }).buffer, true);
  assert.ok(Buffer.isBuffer(seen.body));
  assert.deepEqual(seen.body, bytes);
  const empty = await a.inject(post(Buffer.alloc(0), 'application/octet-stream'));
  assert.equal(empty.statusCode, 200);
  assert.equal((seen.body as Buffer).length, 0);
  const calls = seen.calls;
  await expectError(
    a,
    post(bytes, 'application/octet-stream', '/v1/completions'),
    415,
    'HEIST_ERR_UNSUPPORTED_MEDIA_TYPE',
  );
  assert.equal(seen.calls, calls);
  await a.close();
});

test('binaryRoutes names the routes that take octet-stream', async () => {
  const { app: a } = app({ binaryRoutes: ['/v1/completions'] });
  await expectError(
    a,
    post(Buffer.from([0, 0, 0, 0]), 'application/octet-stream'),
    415,
    'HEIST_ERR_UNSUPPORTED_MEDIA_TYPE',
  );
  assert.equal((await a.inject(post(Buffer.from([1]), 'application/octet-stream', '/v1/completions'))).statusCode, 200);
  await a.close();
});

test('other media types and a body without content-type are 415; unknown routes still answer 404', async () => {
  const { app: a, seen } = app();
  for (const ct of ['text/plain', 'application/x-www-form-urlencoded', 'application/xml', 'application/vnd.api+json']) {
    const message = await expectError(a, post('{"inputs":[[1]]}', ct), 415, 'HEIST_ERR_UNSUPPORTED_MEDIA_TYPE');
    assert.match(message, /application\/json/);
    assert.match(message, /octet-stream/);
  }
  await expectError(a, post('{"inputs":[[1]]}'), 415, 'HEIST_ERR_UNSUPPORTED_MEDIA_TYPE');
  assert.equal(seen.calls, 0);
  await expectError(a, post('x', 'text/plain', '/nowhere'), 404, 'HEIST_ERR_NOT_FOUND');
  await expectError(a, post(Buffer.from([1]), 'application/octet-stream', '/nowhere'), 404, 'HEIST_ERR_NOT_FOUND');
  await a.close();
});

test('size limits apply while the body streams in: 413 HEIST_ERR_BODY_TOO_LARGE', async () => {
  const { app: a, seen } = app({ jsonBodyLimit: 100, binaryBodyLimit: 8 });
  await expectError(a, post(`{"pad":"${'x'.repeat(200)}"}`, 'application/json'), 413, 'HEIST_ERR_BODY_TOO_LARGE');
  await expectError(a, post(Buffer.alloc(12), 'application/octet-stream'), 413, 'HEIST_ERR_BODY_TOO_LARGE');
  assert.equal(seen.calls, 0);
  assert.equal((await a.inject(post(Buffer.alloc(8), 'application/octet-stream'))).statusCode, 200);
  await a.close();
});

test('a binary predict body round-trips: heist-v1 client bytes -> parser -> decodeBinaryPredictRequest -> JSON answer', async () => {
  const info: ModelInfo = { name: 'm', inputShape: [2, 3], classes: 2, output: 'probs', domain: { min: 0, max: 1 } };
  const a = Fastify();
  installBodyParsers(a);
  a.setErrorHandler((error, _request, reply) => sendError(reply, mapError(error)));
  a.post<{ Params: { name: string } }>('/v1/models/:name/predict', async (request, reply) => {
    const { x, requested } = decodeBinaryPredictRequest(
      request.body as Buffer,
      {
        info,
        inputSize: 6,
        servedOutput: 'probs',
        maxBatch: 8,
      },
      request.headers['x-heist-output'],
    );
    // A stand-in model: p(class 1) = the row's first value.
    const n = x.shape[0];
    const data = new Float32Array(n * 2);
    for (let i = 0; i < n; i++) [data[2 * i], data[2 * i + 1]] = [1 - x.data[i * 6], x.data[i * 6]];
    const labels = Int32Array.from({ length: n }, (_, i) => (data[2 * i + 1] > 0.5 ? 1 : 0));
    reply.type('application/json; charset=utf-8');
    return serializePredictResponse(
      request.params.name,
      requested === 'label' ? { kind: 'label', labels } : { kind: 'probs', labels, scores: { data, shape: [n, 2] } },
    );
  });
  const x = { data: Float32Array.from([0.25, 0, 0, 0, 0, 0, 0.75, 1, 1, 1, 1, 1]), shape: [2, 2, 3] };
  const { body, contentType } = encodeBinaryPredict(x, info);
  for (const output of [undefined, 'label']) {
    const res = await a.inject({
      method: 'POST',
      url: '/v1/models/m/predict',
      payload: Buffer.from(body),
      headers: { 'content-type': contentType, ...(output ? { 'x-heist-output': output } : {}) },
    });
    assert.equal(res.statusCode, 200, res.body);
    const p = heistV1.decodePredict(res.json(), 2, info);
    assert.deepEqual(Array.from(p.labels), [0, 1]);
    assert.deepEqual(p.scores ? Array.from(p.scores.data) : undefined, output ? undefined : [0.75, 0.25, 0.25, 0.75]);
  }
  await expectError(
    a,
    post(Buffer.from(body).subarray(0, 20), contentType, '/v1/models/m/predict'),
    400,
    'HEIST_ERR_SHAPE',
  );
  await a.close();
});
