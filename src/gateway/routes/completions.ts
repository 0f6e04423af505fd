/**
 * @file POST /v1/completions and POST /v1/chat/completions: OpenAI-compatible completions over
 * byte-level language models.
 * logprobs are log softmax(logits + logit_bias) (temperature only affects sampling, as in OpenAI's
 * API); temperature 0 is greedy; sampling is seeded by the request's `seed` (default 0), so equal
 * requests give equal answers. Validation errors are 4xx; a failure inside the model is a 500.
 */
import type { FastifyInstance } from 'fastify';
import { HeistError } from '../../core/errors.js';
import { createRng } from '../../core/rng.js';
import type { Clock } from '../../core/types.js';
import { decodeTokens, tokenString } from '../../models/byte-tokenizer.js';
import { logSoftmax } from '../../models/tiny-lm.js';
import {
  type CompletionLogprobs,
  type CompletionModel,
  type CompletionRequest,
  type CompletionResponse,
  decodeCompletionRequest,
} from '../completions-wire.js';
import { decodeChatRequest, encodeChatResponse } from '../chat-wire.js';

export interface CompletionsRouteOptions {
  readonly clock: Clock;
}

function topK(lp: Float64Array, k: number): number[] {
  const ids = Array.from(lp.keys());
  ids.sort((a, b) => lp[b] - lp[a] || a - b);
  return ids.slice(0, k);
}

function sample(biased: Float64Array, temperature: number, u: number): number {
  let m = -Infinity;
  for (const v of biased) m = Math.max(m, v);
  const w = Float64Array.from(biased, (v) => Math.exp((v - m) / temperature));
  let total = 0;
  for (const v of w) total += v;
  let acc = 0;
  for (let i = 0; i < w.length; i++) {
    acc += w[i] / total;
    if (u < acc) return i;
  }
  return w.length - 1;
}

/** Runs the model for one request (pure; exported for tests). */
export function complete(m: CompletionModel, q: CompletionRequest, id: string, created: number): CompletionResponse {
  const round = m.precision === 'float32' ? Math.fround : (v: number) => v;
  const rng = createRng(q.seed);
  const tokens = [...q.promptTokens];
  const generated: number[] = [];
  const lps: CompletionLogprobs = { tokens: [], token_logprobs: [], top_logprobs: [], text_offset: [] };
  if (q.full) lps.x_heist_logits = [];
  for (let step = 0; step < q.maxTokens; step++) {
    const logits = m.nextLogits(tokens);
    const biased = Float64Array.from(logits, (v, i) => v + q.bias[i]);
    const lp = logSoftmax(biased);
    const next = q.temperature === 0 ? topK(lp, 1)[0] : sample(biased, q.temperature, rng.next());
    lps.tokens.push(tokenString(next));
    lps.token_logprobs.push(round(lp[next]));
    lps.top_logprobs.push(Object.fromEntries(topK(lp, q.topK ?? 0).map((t) => [tokenString(t), round(lp[t])])));
    lps.text_offset.push(tokens.length);
    lps.x_heist_logits?.push(Array.from(biased, round));
    tokens.push(next);
    generated.push(next);
  }
  return {
    id,
    object: 'text_completion',
    created,
    model: m.name,
    choices: [
      { text: decodeTokens(generated), index: 0, logprobs: q.topK === undefined ? null : lps, finish_reason: 'length' },
    ],
    usage: {
      prompt_tokens: q.promptTokens.length,
      completion_tokens: generated.length,
      total_tokens: q.promptTokens.length + generated.length,
    },
  };
}

export function registerCompletionsRoute(
  app: FastifyInstance,
  models: readonly CompletionModel[],
  options: CompletionsRouteOptions,
): void {
  const table = new Map<string, CompletionModel>();
  for (const m of models) {
    if (table.has(m.name)) throw new HeistError('HEIST_ERR_BAD_CONFIG', `duplicate language model name "${m.name}"`);
    table.set(m.name, m);
  }
  const run = (q: CompletionRequest, id: string): CompletionResponse => {
    const m = table.get(q.model);
    if (!m) throw new HeistError('HEIST_ERR_UNKNOWN_MODEL', 'no language model of that name is served');
    try {
      return complete(m, q, `cmpl-${id}`, Math.floor(options.clock.now() / 1000));
    } catch (e) {
      throw new HeistError('HEIST_ERR_INTERNAL', 'internal error', { cause: e });
    }
  };
  app.post('/v1/completions', async (request) => run(decodeCompletionRequest(request.body), request.id));
  // The chat format over the same models (chat-wire.ts translates both ways).
  app.post('/v1/chat/completions', async (request) =>
    encodeChatResponse(run(decodeChatRequest(request.body), request.id)),
  );
}
