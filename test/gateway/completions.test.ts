/**
 * @file POST /v1/completions: OpenAI completions format, determinism, logit_bias, the "full"
 * extension, and bad requests (each a 4xx with a stable HEIST_ERR_* code, never a 5xx).
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { InjectOptions } from 'fastify';
import { createRng } from '../../src/core/rng.js';
import { buildGateway } from '../../src/gateway/server.js';
import { BYTE_VOCAB, tokenId, tokenString } from '../../src/models/byte-tokenizer.js';
import { type TinyLm, logSoftmax, nextLogits, paramShapes } from '../../src/models/tiny-lm.js';
import { assertError } from './helpers.js';

export function randomTinyLm(seed: number, hidden = 12): TinyLm {
  const rng = createRng(seed);
  const shape = { vocab: BYTE_VOCAB, context: 4, embed: 8, mlp: 32, hidden };
  const shapes = paramShapes(shape);
  const p = (k: keyof typeof shapes, s: number) =>
    Float32Array.from({ length: shapes[k].reduce((a, b) => a * b, 1) }, () => s * rng.normal());
  return {
    ...shape,
    name: 'rnd',
    params: {
      embedding: p('embedding', 1),
      w1: p('w1', 0.3),
      b1: p('b1', 0.1),
      w2: p('w2', 0.3),
      b2: p('b2', 0.1),
      unembed: p('unembed', 1),
    },
  };
}

const lm = randomTinyLm(5);
const app = buildGateway({ models: [] }, { languageModels: [{ name: 'tiny', nextLogits: (t) => nextLogits(lm, t) }] });
const JSON_CT = { 'content-type': 'application/json' };
const U = '/v1/completions';
const post = (b: unknown): InjectOptions => ({ method: 'POST', url: U, payload: JSON.stringify(b), headers: JSON_CT });
const ok = { model: 'tiny', prompt: 'Hello', max_tokens: 1, logprobs: 5, temperature: 0 };

test('answers in the OpenAI completions format; logprobs are log softmax of the logits', async () => {
  const res = await app.inject(post({ ...ok, max_tokens: 3 }));
  assert.equal(res.statusCode, 200);
  const b = JSON.parse(res.body);
  assert.equal(b.object, 'text_completion');
  assert.equal(b.model, 'tiny');
  assert.deepEqual(b.usage, { prompt_tokens: 5, completion_tokens: 3, total_tokens: 8 });
  const lp = b.choices[0].logprobs;
  assert.equal(lp.tokens.length, 3);
  assert.equal(lp.top_logprobs.length, 3);
  assert.equal(Object.keys(lp.top_logprobs[0]).length, 5);
  const want = logSoftmax(nextLogits(lm, Array.from(Buffer.from('Hello'))));
  for (const [s, v] of Object.entries(lp.top_logprobs[0] as Record<string, number>))
    assert.ok(Math.abs(v - want[tokenId(s)!]) < 1e-12);
  const best = Array.from(want.keys()).sort((x, y) => want[y] - want[x])[0];
  assert.equal(lp.tokens[0], tokenString(best), 'temperature 0 is greedy');
  assert.equal(b.choices[0].finish_reason, 'length');
});

test('logit_bias shifts logits; full logits come back with "logprobs": "full"; sampling is seeded', async () => {
  const raw = nextLogits(lm, Array.from(Buffer.from('Hello')));
  const res = await app.inject(post({ ...ok, logprobs: 'full', logit_bias: { 65: 100, 66: -100 } }));
  const b = JSON.parse(res.body);
  const full = b.choices[0].logprobs.x_heist_logits[0] as number[];
  assert.equal(full.length, BYTE_VOCAB);
  assert.ok(
    Math.abs(full[65] - raw[65] - 100) < 1e-9 &&
      Math.abs(full[66] - raw[66] + 100) < 1e-9 &&
      Math.abs(full[67] - raw[67]) < 1e-12,
  );
  assert.equal(b.choices[0].text, 'A');
  const s1 = await app.inject(post({ ...ok, max_tokens: 8, temperature: 1, seed: 3 }));
  const s2 = await app.inject(post({ ...ok, max_tokens: 8, temperature: 1, seed: 3 }));
  assert.equal(JSON.parse(s1.body).choices[0].text, JSON.parse(s2.body).choices[0].text);
  const tok = await app.inject(post({ ...ok, prompt: [72, 101, 108, 108, 111] }));
  assert.deepEqual(
    JSON.parse(tok.body).choices[0].logprobs.top_logprobs,
    JSON.parse((await app.inject(post(ok))).body).choices[0].logprobs.top_logprobs,
  );
});

const bad: { name: string; req: InjectOptions; status: number; code: string }[] = [
  {
    name: 'malformed JSON',
    req: { method: 'POST', url: U, payload: '{"model":', headers: JSON_CT },
    status: 400,
    code: 'HEIST_ERR_BAD_JSON',
  },
  {
    name: 'text/plain body',
    req: { method: 'POST', url: U, payload: JSON.stringify(ok), headers: { 'content-type': 'text/plain' } },
    status: 415,
    code: 'HEIST_ERR_UNSUPPORTED_MEDIA_TYPE',
  },
  { name: 'GET', req: { method: 'GET', url: U }, status: 405, code: 'HEIST_ERR_METHOD_NOT_ALLOWED' },
  { name: 'body is an array', req: post([ok]), status: 400, code: 'HEIST_ERR_BAD_BODY' },
  { name: 'unknown model', req: post({ ...ok, model: 'gpt-9' }), status: 404, code: 'HEIST_ERR_UNKNOWN_MODEL' },
  { name: 'missing prompt', req: post({ model: 'tiny', max_tokens: 1 }), status: 400, code: 'HEIST_ERR_BAD_BODY' },
  { name: 'prompt is a number', req: post({ ...ok, prompt: 42 }), status: 400, code: 'HEIST_ERR_BAD_BODY' },
  {
    name: 'prompt token id out of range',
    req: post({ ...ok, prompt: [1, 256] }),
    status: 400,
    code: 'HEIST_ERR_BAD_BODY',
  },
  { name: 'prompt too long', req: post({ ...ok, prompt: 'x'.repeat(5000) }), status: 400, code: 'HEIST_ERR_BAD_BODY' },
  { name: 'logprobs above 5', req: post({ ...ok, logprobs: 6 }), status: 400, code: 'HEIST_ERR_BAD_BODY' },
  { name: 'logprobs negative', req: post({ ...ok, logprobs: -1 }), status: 400, code: 'HEIST_ERR_BAD_BODY' },
  { name: 'logprobs unknown string', req: post({ ...ok, logprobs: 'all' }), status: 400, code: 'HEIST_ERR_BAD_BODY' },
  {
    name: 'logit_bias above 100',
    req: post({ ...ok, logit_bias: { 65: 100.5 } }),
    status: 400,
    code: 'HEIST_ERR_BAD_BODY',
  },
  {
    name: 'logit_bias below -100',
    req: post({ ...ok, logit_bias: { 65: -101 } }),
    status: 400,
    code: 'HEIST_ERR_BAD_BODY',
  },
  {
    name: 'logit_bias key not a token id',
    req: post({ ...ok, logit_bias: { A: 1 } }),
    status: 400,
    code: 'HEIST_ERR_BAD_BODY',
  },
  {
    name: 'logit_bias token out of vocabulary',
    req: post({ ...ok, logit_bias: { 256: 1 } }),
    status: 400,
    code: 'HEIST_ERR_BAD_BODY',
  },
  {
    name: 'logit_bias value a string',
    req: post({ ...ok, logit_bias: { 65: '5' } }),
    status: 400,
    code: 'HEIST_ERR_BAD_BODY',
  },
  { name: 'max_tokens 0', req: post({ ...ok, max_tokens: 0 }), status: 400, code: 'HEIST_ERR_BAD_BODY' },
  { name: 'max_tokens too large', req: post({ ...ok, max_tokens: 10_000 }), status: 400, code: 'HEIST_ERR_BAD_BODY' },
  { name: 'max_tokens fractional', req: post({ ...ok, max_tokens: 1.5 }), status: 400, code: 'HEIST_ERR_BAD_BODY' },
  { name: 'temperature negative', req: post({ ...ok, temperature: -0.1 }), status: 400, code: 'HEIST_ERR_BAD_BODY' },
  {
    name: 'temperature infinite (1e999)',
    req: { method: 'POST', url: U, payload: '{"model":"tiny","prompt":"a","temperature":1e999}', headers: JSON_CT },
    status: 400,
    code: 'HEIST_ERR_NOT_FINITE',
  },
  { name: 'unknown field', req: post({ ...ok, top_p: 0.5 }), status: 400, code: 'HEIST_ERR_BAD_BODY' },
  { name: 'n = 2', req: post({ ...ok, n: 2 }), status: 400, code: 'HEIST_ERR_BAD_BODY' },
  { name: 'stream: true', req: post({ ...ok, stream: true }), status: 400, code: 'HEIST_ERR_BAD_BODY' },
  {
    name: '__proto__ key',
    req: { method: 'POST', url: U, payload: '{"__proto__":{"x":1},"model":"tiny","prompt":"a"}', headers: JSON_CT },
    status: 400,
    code: 'HEIST_ERR_BAD_BODY',
  },
  {
    name: '__proto__ in logit_bias',
    req: {
      method: 'POST',
      url: U,
      payload: '{"model":"tiny","prompt":"a","logit_bias":{"__proto__":5}}',
      headers: JSON_CT,
    },
    status: 400,
    code: 'HEIST_ERR_BAD_BODY',
  },
];

test('bad requests get a 4xx with a HEIST_ERR_* code, never a 5xx', async () => {
  for (const c of bad) assertError(await app.inject(c.req), c.status, c.code, c.name);
  assert.equal((await app.inject(post(ok))).statusCode, 200, 'still serves good requests');
});

test('without language models the route is not there', async () => {
  const plain = buildGateway({ models: [] });
  assertError(await plain.inject(post(ok)), 404, 'HEIST_ERR_NOT_FOUND', 'no LMs');
});

test('POST /v1/chat/completions: the same model in the chat format; bad chat bodies are 4xx', async () => {
  const chat = (b: unknown): InjectOptions => ({
    method: 'POST',
    url: '/v1/chat/completions',
    payload: JSON.stringify(b),
    headers: JSON_CT,
  });
  const body = {
    model: 'tiny',
    messages: [{ role: 'user', content: 'Hello' }],
    max_tokens: 2,
    logprobs: true,
    top_logprobs: 5,
    temperature: 0,
  };
  const res = await app.inject(chat(body));
  assert.equal(res.statusCode, 200);
  const c = res.json() as {
    object: string;
    choices: {
      message: { content: string };
      logprobs: { content: { token: string; logprob: number; top_logprobs: { token: string; logprob: number }[] }[] };
    }[];
  };
  assert.equal(c.object, 'chat.completion');
  const legacy = (
    await app.inject(post({ model: 'tiny', prompt: 'Hello', max_tokens: 2, logprobs: 5, temperature: 0 }))
  ).json() as {
    choices: { text: string; logprobs: { top_logprobs: Record<string, number>[] } }[];
  };
  assert.equal(c.choices[0].message.content, legacy.choices[0].text, 'same text as /v1/completions');
  assert.equal(c.choices[0].logprobs.content.length, 2);
  assert.deepEqual(
    Object.fromEntries(c.choices[0].logprobs.content[0].top_logprobs.map((t) => [t.token, t.logprob])),
    legacy.choices[0].logprobs.top_logprobs[0],
    'same top-5 logprobs',
  );
  for (const bad of [
    { ...body, messages: [] },
    { ...body, messages: [{ role: 'robot', content: 'x' }] },
    { ...body, logprobs: false },
    { ...body, top_logprobs: 9 },
    { ...body, logit_bias: { abc: 1 } },
    { model: 'tiny' },
  ]) {
    assertError(await app.inject(chat(bad)), 400, 'HEIST_ERR_BAD_BODY', JSON.stringify(bad).slice(0, 60));
  }
  assertError(await app.inject(chat({ ...body, model: 'nope' })), 404, 'HEIST_ERR_UNKNOWN_MODEL');
});
