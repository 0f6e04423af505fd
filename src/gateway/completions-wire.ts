/**
 * @file The OpenAI-compatible legacy completions format (POST /v1/completions): request decoding
 * with strict validation (every bad input is a 4xx with a HEIST_ERR_* code) and the response
 * shape. Heist extension: "logprobs": "full" returns the top-5 logprobs AND, per generated token,
 * the full vector of logits after logit_bias (choices[0].logprobs.x_heist_logits).
 */
import { z } from 'zod';
import { HeistError } from '../core/errors.js';
import { BYTE_VOCAB, encodeText } from '../models/byte-tokenizer.js';

export const MAX_TOP_LOGPROBS = 5;
export const MAX_BIAS = 100;
export const MAX_BIAS_ENTRIES = 300;
export const MAX_PROMPT_TOKENS = 4096;
export const MAX_COMPLETION_TOKENS = 256;

/** A causal language model over the byte vocabulary, as the route needs it. */
export interface CompletionModel {
  readonly name: string;
  /** Next-token logits (length 256) after the given tokens. */
  nextLogits(tokens: readonly number[]): Float64Array;
  /** 'float32' rounds every served logprob and logit to float32 (like production APIs); default float64. */
  readonly precision?: 'float64' | 'float32';
}

const tokenKey = /^(0|[1-9][0-9]{0,5})$/;

/** The request body, also the OpenAPI document's schema (openapi-schemas.ts). */
export const requestSchema = z.strictObject({
  model: z.string().min(1).max(100),
  prompt: z.union([
    z.string(),
    z
      .array(
        z
          .number()
          .int()
          .min(0)
          .max(BYTE_VOCAB - 1),
      )
      .max(MAX_PROMPT_TOKENS),
  ]),
  max_tokens: z.number().int().min(1).max(MAX_COMPLETION_TOKENS).default(16),
  logprobs: z.union([z.number().int().min(0).max(MAX_TOP_LOGPROBS), z.literal('full'), z.null()]).optional(),
  logit_bias: z
    .record(z.string().regex(tokenKey, 'logit_bias keys must be token ids'), z.number().min(-MAX_BIAS).max(MAX_BIAS))
    .optional(),
  temperature: z.number().min(0).max(2).default(1),
  seed: z.number().int().min(0).max(0xffffffff).optional(),
  n: z.literal(1).optional(),
  stream: z.literal(false).optional(),
  echo: z.literal(false).optional(),
  user: z.string().max(256).optional(),
});

export interface CompletionRequest {
  readonly model: string;
  readonly promptTokens: number[];
  readonly maxTokens: number;
  /** Top-k size (0..5), or undefined for no logprobs. */
  readonly topK?: number;
  readonly full: boolean;
  /** Dense bias per token id (zeros where none given). */
  readonly bias: Float64Array;
  readonly temperature: number;
  readonly seed: number;
}

function findNonFinite(v: unknown, path: string): string | undefined {
  if (typeof v === 'number') return Number.isFinite(v) ? undefined : path;
  if (Array.isArray(v)) {
    for (let i = 0; i < v.length; i++) {
      const p = findNonFinite(v[i], `${path}[${i}]`);
      if (p) return p;
    }
  } else if (typeof v === 'object' && v !== null) {
    for (const [k, x] of Object.entries(v)) {
      const p = findNonFinite(x, `${path}.${k}`);
      if (p) return p;
    }
  }
  return undefined;
}

export function decodeCompletionRequest(body: unknown): CompletionRequest {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    throw new HeistError('HEIST_ERR_BAD_BODY', 'the request body must be a JSON object');
  }
  const nonFinite = findNonFinite(body, 'body');
  if (nonFinite) throw new HeistError('HEIST_ERR_NOT_FINITE', `${nonFinite} is not a finite number`);
  const rawBias = (body as { logit_bias?: unknown }).logit_bias;
  if (typeof rawBias === 'object' && rawBias !== null) {
    // Own keys as JSON.parse made them ("__proto__" included, which a record parse would skip).
    const badKey = Object.keys(rawBias).find((k) => !tokenKey.test(k));
    if (badKey !== undefined)
      throw new HeistError(
        'HEIST_ERR_BAD_BODY',
        `invalid completion request at logit_bias: key ${JSON.stringify(badKey.slice(0, 20))} is not a token id`,
      );
  }
  const r = requestSchema.safeParse(body);
  if (!r.success) {
    const issue = r.error.issues[0];
    const where = issue?.path.length ? issue.path.join('.') : '(body)';
    throw new HeistError(
      'HEIST_ERR_BAD_BODY',
      `invalid completion request at ${where}: ${issue?.message ?? 'bad value'}`,
    );
  }
  const q = r.data;
  const promptTokens = typeof q.prompt === 'string' ? encodeText(q.prompt) : q.prompt;
  if (promptTokens.length > MAX_PROMPT_TOKENS) {
    throw new HeistError(
      'HEIST_ERR_BAD_BODY',
      `the prompt has ${promptTokens.length} tokens; at most ${MAX_PROMPT_TOKENS} are allowed`,
    );
  }
  const bias = new Float64Array(BYTE_VOCAB);
  const entries = Object.entries(q.logit_bias ?? {});
  if (entries.length > MAX_BIAS_ENTRIES)
    throw new HeistError('HEIST_ERR_BAD_BODY', `logit_bias has ${entries.length} entries; at most ${MAX_BIAS_ENTRIES}`);
  for (const [k, v] of entries) {
    const id = Number(k);
    if (id >= BYTE_VOCAB)
      throw new HeistError(
        'HEIST_ERR_BAD_BODY',
        `logit_bias names token ${id}; the vocabulary has ${BYTE_VOCAB} tokens`,
      );
    bias[id] = v;
  }
  const full = q.logprobs === 'full';
  const topK =
    q.logprobs === 'full' ? MAX_TOP_LOGPROBS : q.logprobs === null || q.logprobs === undefined ? undefined : q.logprobs;
  return {
    model: q.model,
    promptTokens,
    maxTokens: q.max_tokens,
    topK,
    full,
    bias,
    temperature: q.temperature,
    seed: q.seed ?? 0,
  };
}

export interface CompletionLogprobs {
  tokens: string[];
  token_logprobs: number[];
  top_logprobs: Record<string, number>[];
  /** Byte offset of each generated token in prompt + completion. */
  text_offset: number[];
  /** Heist extension ("logprobs": "full"): logits after logit_bias, one vector of 256 per generated token. */
  x_heist_logits?: number[][];
}

export interface CompletionResponse {
  id: string;
  object: 'text_completion';
  created: number;
  model: string;
  choices: { text: string; index: 0; logprobs: CompletionLogprobs | null; finish_reason: 'length' }[];
  usage: { prompt_tokens: number; completion_tokens: number; total_tokens: number };
}
