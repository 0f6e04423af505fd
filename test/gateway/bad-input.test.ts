/**
 * @file Hostile and sloppy requests: each kind must get its 4xx and stable HEIST_ERR_* code, none a
 * 5xx, and the gateway must still answer a good request afterwards.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { InjectOptions } from 'fastify';
import { buildGateway } from '../../src/gateway/server.js';
import { D, assertError, model, rows } from './helpers.js';

const JSON_CT = { 'content-type': 'application/json' };
const P = '/v1/models/m/predict';
const raw = (payload: string, headers: Record<string, string> = JSON_CT): InjectOptions => ({
  method: 'POST',
  url: P,
  payload,
  headers,
});
const body = (b: unknown, url = P): InjectOptions => ({
  method: 'POST',
  url,
  payload: JSON.stringify(b),
  headers: JSON_CT,
});
const row = (...vals: unknown[]): unknown[] => [...vals, ...Array.from({ length: D - vals.length }, () => 0.5)];
const okRow = row();

interface Case {
  readonly name: string;
  readonly req: InjectOptions;
  readonly status: number;
  readonly code: string;
}

const cases: Case[] = [
  { name: 'malformed JSON', req: raw('{"inputs": [[1,2'), status: 400, code: 'HEIST_ERR_BAD_JSON' },
  {
    name: 'trailing garbage after JSON',
    req: raw(`${JSON.stringify({ inputs: [okRow] })} x`),
    status: 400,
    code: 'HEIST_ERR_BAD_JSON',
  },
  { name: 'empty body with JSON content-type', req: raw(''), status: 400, code: 'HEIST_ERR_BAD_JSON' },
  { name: 'no body, no content-type', req: { method: 'POST', url: P }, status: 400, code: 'HEIST_ERR_BAD_BODY' },
  {
    name: 'text/plain content-type',
    req: raw(JSON.stringify({ inputs: [okRow] }), { 'content-type': 'text/plain' }),
    status: 415,
    code: 'HEIST_ERR_UNSUPPORTED_MEDIA_TYPE',
  },
  {
    name: 'form content-type',
    req: raw('inputs=1', { 'content-type': 'application/x-www-form-urlencoded' }),
    status: 415,
    code: 'HEIST_ERR_UNSUPPORTED_MEDIA_TYPE',
  },
  {
    name: '__proto__ key (prototype poisoning)',
    req: raw(`{"__proto__": {"polluted": 1}, "inputs": [${JSON.stringify(okRow)}]}`),
    status: 400,
    code: 'HEIST_ERR_BAD_BODY',
  },
  {
    name: '__proto__ key carrying inputs',
    req: raw(`{"__proto__": {"inputs": [${JSON.stringify(okRow)}]}}`),
    status: 400,
    code: 'HEIST_ERR_BAD_BODY',
  },
  {
    name: 'constructor.prototype key',
    req: raw(`{"constructor": {"prototype": {"polluted": 1}}, "inputs": [${JSON.stringify(okRow)}]}`),
    status: 400,
    code: 'HEIST_ERR_BAD_BODY',
  },
  {
    name: 'JSON content-type with charset and bad JSON',
    req: raw('{', { 'content-type': 'application/json; charset=utf-8' }),
    status: 400,
    code: 'HEIST_ERR_BAD_JSON',
  },
  {
    name: 'Content-Length mismatch',
    req: raw(JSON.stringify({ inputs: [okRow] }), { ...JSON_CT, 'content-length': '5' }),
    status: 400,
    code: 'HEIST_ERR_BAD_BODY',
  },
  { name: 'body is an array', req: body([okRow]), status: 400, code: 'HEIST_ERR_BAD_BODY' },
  { name: 'body is a number', req: raw('42'), status: 400, code: 'HEIST_ERR_BAD_BODY' },
  { name: 'body is null', req: raw('null'), status: 400, code: 'HEIST_ERR_BAD_BODY' },
  { name: 'body is a string', req: raw('"inputs"'), status: 400, code: 'HEIST_ERR_BAD_BODY' },
  { name: 'missing inputs', req: body({ output: 'label' }), status: 400, code: 'HEIST_ERR_BAD_BODY' },
  { name: 'inputs is an object', req: body({ inputs: { 0: okRow } }), status: 400, code: 'HEIST_ERR_BAD_BODY' },
  { name: 'inputs is a string', req: body({ inputs: '1,2,3' }), status: 400, code: 'HEIST_ERR_BAD_BODY' },
  { name: 'inputs is null', req: body({ inputs: null }), status: 400, code: 'HEIST_ERR_BAD_BODY' },
  {
    name: 'extra unknown field',
    req: body({ inputs: [okRow], temperature: 2 }),
    status: 400,
    code: 'HEIST_ERR_BAD_BODY',
  },
  { name: 'misspelled field "input"', req: body({ input: [okRow] }), status: 400, code: 'HEIST_ERR_BAD_BODY' },
  {
    name: 'unknown output value',
    req: body({ inputs: [okRow], output: 'logits' }),
    status: 400,
    code: 'HEIST_ERR_BAD_BODY',
  },
  {
    name: 'output is not a string',
    req: body({ inputs: [okRow], output: 1 }),
    status: 400,
    code: 'HEIST_ERR_BAD_BODY',
  },
  {
    name: 'probabilities asked of a label-only model',
    req: body({ inputs: [okRow], output: 'probabilities' }, '/v1/models/lbl/predict'),
    status: 400,
    code: 'HEIST_ERR_BAD_BODY',
  },
  { name: 'empty batch', req: body({ inputs: [] }), status: 400, code: 'HEIST_ERR_EMPTY_BATCH' },
  { name: 'a single flat row, not wrapped', req: body({ inputs: okRow }), status: 400, code: 'HEIST_ERR_SHAPE' },
  { name: 'row is null', req: body({ inputs: [okRow, null] }), status: 400, code: 'HEIST_ERR_SHAPE' },
  { name: 'row is an object', req: body({ inputs: [{ 0: 1, length: D }] }), status: 400, code: 'HEIST_ERR_SHAPE' },
  { name: 'row too short', req: body({ inputs: [okRow.slice(1)] }), status: 400, code: 'HEIST_ERR_SHAPE' },
  { name: 'row too long', req: body({ inputs: [[...okRow, 0]] }), status: 400, code: 'HEIST_ERR_SHAPE' },
  { name: 'ragged rows', req: body({ inputs: [okRow, okRow.slice(2)] }), status: 400, code: 'HEIST_ERR_SHAPE' },
  {
    name: 'unflattened rows ([2,3] nested)',
    req: body({
      inputs: [
        [
          [0, 0, 0],
          [0, 0, 0],
        ],
      ],
    }),
    status: 400,
    code: 'HEIST_ERR_SHAPE',
  },
  { name: 'nested array value in a row', req: body({ inputs: [row([1])] }), status: 400, code: 'HEIST_ERR_SHAPE' },
  {
    name: 'deeply nested arrays',
    req: raw(`{"inputs":${'['.repeat(30000)}${']'.repeat(30000)}}`),
    status: 400,
    code: 'HEIST_ERR_BAD_JSON',
  },
  { name: '"NaN" as a string', req: body({ inputs: [row('NaN')] }), status: 400, code: 'HEIST_ERR_NOT_FINITE' },
  { name: 'numeric string', req: body({ inputs: [row('0.5')] }), status: 400, code: 'HEIST_ERR_NOT_FINITE' },
  {
    name: 'null value (JSON.stringify(NaN))',
    req: body({ inputs: [row(Number.NaN)] }),
    status: 400,
    code: 'HEIST_ERR_NOT_FINITE',
  },
  {
    name: '1e999 (parses to Infinity)',
    req: raw(`{"inputs":[[1e999${',0'.repeat(D - 1)}]]}`),
    status: 400,
    code: 'HEIST_ERR_NOT_FINITE',
  },
  {
    name: '-1e999 (parses to -Infinity)',
    req: raw(`{"inputs":[[0,-1e999${',0'.repeat(D - 2)}]]}`),
    status: 400,
    code: 'HEIST_ERR_NOT_FINITE',
  },
  {
    name: '1e300 (overflows float32)',
    req: raw(`{"inputs":[[1e300${',0'.repeat(D - 1)}]]}`),
    status: 400,
    code: 'HEIST_ERR_NOT_FINITE',
  },
  { name: 'boolean value', req: body({ inputs: [row(true)] }), status: 400, code: 'HEIST_ERR_NOT_FINITE' },
  { name: 'object value', req: body({ inputs: [row({ v: 1 })] }), status: 400, code: 'HEIST_ERR_NOT_FINITE' },
  {
    name: 'bad value in the last row only',
    req: body({ inputs: [...rows(9), row(null)] }),
    status: 400,
    code: 'HEIST_ERR_NOT_FINITE',
  },
  { name: 'batch over maxBatch', req: body({ inputs: rows(17) }), status: 413, code: 'HEIST_ERR_BATCH_TOO_LARGE' },
  {
    name: 'body over bodyLimit',
    req: body({ inputs: rows(1), pad: 'x'.repeat(70_000) }),
    status: 413,
    code: 'HEIST_ERR_BODY_TOO_LARGE',
  },
  {
    name: 'unknown model (predict)',
    req: body({ inputs: [okRow] }, '/v1/models/nope/predict'),
    status: 404,
    code: 'HEIST_ERR_UNKNOWN_MODEL',
  },
  {
    name: 'unknown model (describe)',
    req: { method: 'GET', url: '/v1/models/nope' },
    status: 404,
    code: 'HEIST_ERR_UNKNOWN_MODEL',
  },
  {
    name: 'over-long model name',
    req: { method: 'GET', url: `/v1/models/${'a'.repeat(500)}` },
    status: 404,
    code: 'HEIST_ERR_UNKNOWN_MODEL',
  },
  {
    name: 'prototype name as model',
    req: body({ inputs: [okRow] }, '/v1/models/__proto__/predict'),
    status: 404,
    code: 'HEIST_ERR_UNKNOWN_MODEL',
  },
  { name: 'unknown route', req: { method: 'GET', url: '/v2/anything' }, status: 404, code: 'HEIST_ERR_NOT_FOUND' },
  {
    name: 'trailing slash route',
    req: { method: 'GET', url: '/v1/models/m/predict/extra' },
    status: 404,
    code: 'HEIST_ERR_NOT_FOUND',
  },
  {
    name: 'malformed percent-encoding in URL',
    req: { method: 'GET', url: '/v1/models/%zz' },
    status: 404,
    code: 'HEIST_ERR_NOT_FOUND',
  },
  { name: 'GET on predict', req: { method: 'GET', url: P }, status: 405, code: 'HEIST_ERR_METHOD_NOT_ALLOWED' },
  {
    name: 'PUT on predict',
    req: { method: 'PUT', url: P, payload: { inputs: [okRow] } },
    status: 405,
    code: 'HEIST_ERR_METHOD_NOT_ALLOWED',
  },
  {
    name: 'DELETE on model list',
    req: { method: 'DELETE', url: '/v1/models' },
    status: 405,
    code: 'HEIST_ERR_METHOD_NOT_ALLOWED',
  },
  {
    name: 'POST on healthz',
    req: { method: 'POST', url: '/healthz', payload: {} },
    status: 405,
    code: 'HEIST_ERR_METHOD_NOT_ALLOWED',
  },
];

test('every kind of bad request gets its 4xx and code, never a 5xx, and the gateway survives', async () => {
  const app = buildGateway({
    models: [
      { name: 'm', predictor: model() },
      { name: 'lbl', predictor: model(8, 'label') },
    ],
    maxBatch: 16,
    bodyLimitBytes: 64 * 1024,
  });
  assert.ok(cases.length >= 20);
  assert.equal(new Set(cases.map((c) => c.name)).size, cases.length, 'case names are distinct');
  try {
    for (const c of cases) {
      const res = await app.inject(c.req);
      assert.ok(res.statusCode < 500, `${c.name}: got ${res.statusCode}`);
      assertError(res, c.status, c.code, c.name);
      assert.match(String(res.headers['content-type']), /^application\/json/, `${c.name}: content-type`);
    }
    const res = await app.inject(body({ inputs: rows(16) }));
    assert.equal(res.statusCode, 200);
    assert.equal((JSON.parse(res.body) as { predictions: unknown[] }).predictions.length, 16);
    const health = await app.inject({ method: 'GET', url: '/healthz' });
    assert.equal(health.statusCode, 200);
    assert.equal(({} as Record<string, unknown>).polluted, undefined, 'no prototype pollution');
  } finally {
    await app.close();
  }
});

test('a 405 names the allowed methods', async () => {
  const app = buildGateway({ models: [{ name: 'm', predictor: model() }] });
  const res = await app.inject({ method: 'GET', url: P });
  assert.equal(res.headers.allow, 'POST');
  await app.close();
});
