/**
 * @file llm-final-layer against the shipped tiny LM behind /v1/completions (fastify inject):
 * hidden size exact from full logits and from top-5 logprobs + logit_bias, W aligned to <= 1e-4
 * RMS, budget, token and transcript accounting. Full-size numbers: bench/llm-final-layer.ts.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { denseMatrix } from '../../../backends/linalg.js';
import { isHeistError } from '../../../core/errors.js';
import { createRng } from '../../../core/rng.js';
import { repoRoot } from '../../../datasets/paths.js';
import type { CompletionModel } from '../../../gateway/completions-wire.js';
import { buildGateway } from '../../../gateway/server.js';
import { loadTinyLm, nextLogits } from '../../../models/tiny-lm.js';
import { createCompletionsClient } from '../../../query/completions-client.js';
import { alignProjection, largestGap, queriesNeeded, relativeToReference, stealFinalLayer } from './index.js';

const lm = loadTinyLm(join(repoRoot, 'models', 'tiny-lm.json'));
const W = denseMatrix(lm.vocab, lm.hidden, lm.params.unembed);

function clientFor(models: CompletionModel[], maxQueries: number, transcriptPath?: string) {
  const app = buildGateway({ models: [] }, { languageModels: models });
  const injectFetch = (async (url: string | URL, init?: RequestInit) => {
    const res = await app.inject({
      method: 'POST',
      url: new URL(String(url)).pathname,
      payload: String(init?.body),
      headers: { 'content-type': 'application/json' },
    });
    return new Response(res.body, { status: res.statusCode });
  }) as typeof fetch;
  return createCompletionsClient('http://lm.test/v1', { maxQueries, fetch: injectFetch, transcriptPath, fsync: false });
}

const served = (precision?: 'float32'): CompletionModel => ({
  name: 'tiny-lm',
  nextLogits: (t) => nextLogits(lm, t),
  precision,
});

test('largestGap finds the drop', () => {
  assert.deepEqual(largestGap(Float64Array.from([10, 5, 2, 1e-12, 1e-13])), { index: 3, ratio: 2e12 });
});

test('full logits: hidden size exact, W recovered up to h x h with RMS <= 1e-4; queries and tokens counted', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'heist-llm-'));
  const client = clientFor([served()], 1000, join(dir, 't.jsonl'));
  const r = await stealFinalLayer(client, { model: 'tiny-lm', prompts: 128, source: 'full', rng: createRng(1) });
  client.close();
  assert.equal(r.hiddenSize, lm.hidden);
  assert.ok(r.gapRatio > 1e6, `gap ${r.gapRatio}`);
  const a = alignProjection(r.projection, W);
  assert.ok(a.rms <= 1e-4, `rms ${a.rms}`);
  assert.equal(r.queries, 128);
  assert.equal(r.promptTokens, 128 * 16);
  assert.equal(r.completionTokens, 128);
  assert.ok(Math.abs(r.costUsd - (r.totalTokens / 1000) * 0.002) < 1e-12);
  assert.equal(
    readFileSync(join(dir, 't.jsonl'), 'utf8').trim().split('\n').length,
    129,
    'header + one line per paid query',
  );
});

test('top-5 logprobs + logit_bias: hidden size exact, W - 1 w_r^T recovered with RMS <= 1e-4', async () => {
  const prompts = 100;
  const need = queriesNeeded('topk', prompts);
  assert.equal(need, prompts * 64);
  const client = clientFor([served()], need);
  const r = await stealFinalLayer(client, { model: 'tiny-lm', prompts, source: 'topk', rng: createRng(2) });
  assert.equal(r.hiddenSize, lm.hidden);
  assert.equal(r.queries, need);
  const a = alignProjection(r.projection, relativeToReference(W, r.reference ?? 32));
  assert.ok(a.rms <= 1e-4, `rms ${a.rms}`);
});

test('float32-rounded full logits still give the exact hidden size', async () => {
  const client = clientFor([served('float32')], 200);
  const r = await stealFinalLayer(client, { model: 'tiny-lm', prompts: 128, source: 'full', rng: createRng(3) });
  assert.equal(r.hiddenSize, lm.hidden);
  assert.ok(alignProjection(r.projection, W).rms < 1e-4);
});

test('the budget is checked before any paid query', async () => {
  const client = clientFor([served()], 100);
  await assert.rejects(
    stealFinalLayer(client, { model: 'tiny-lm', prompts: 128, source: 'full', rng: createRng(1) }),
    (e) => isHeistError(e, 'HEIST_ERR_BAD_CONFIG'),
  );
  assert.equal(client.queries, 0);
  const tiny = clientFor([served()], 1);
  await tiny.complete({ model: 'tiny-lm', prompt: 'a', max_tokens: 1 });
  await assert.rejects(tiny.complete({ model: 'tiny-lm', prompt: 'a', max_tokens: 1 }), (e) =>
    isHeistError(e, 'HEIST_ERR_BUDGET_EXHAUSTED'),
  );
});
