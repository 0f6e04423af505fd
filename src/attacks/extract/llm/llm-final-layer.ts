/**
 * @file llm-final-layer: steal the hidden size and the final projection ("unembedding") W of a
 * language model behind an OpenAI-style /v1/completions API. Query n random prompts, collect one
 * logit vector per prompt (full logits, or rebuilt from top-k logprobs + logit_bias), take the SVD
 * of the n x V matrix: its numerical rank is h, and V_h diag(s_h) is W up to an h x h transform.
 * n must exceed h (the attacker does not know h: when the spectrum shows no clear drop, buy more).
 * A bias b in the final layer would add the all-ones direction (rank h+1 with full logits); logits
 * relative to a reference token cancel it. Cost = tokens (prompt + completion) x price per 1k.
 * @see N. Carlini et al., "Stealing Part of a Production Language Model", ICML 2024, arXiv:2403.06634, §4-§5
 */
import { HeistError } from '../../../core/errors.js';
import type { Rng } from '../../../core/rng.js';
import { BYTE_VOCAB } from '../../../models/byte-tokenizer.js';
import type { CompletionsClient } from '../../../query/completions-client.js';
import type { LlmAttackOptions, LlmAttackResult, LogitSource, TextExtractor, TextExtractorEntry } from './types.js';
import { z } from 'zod';
import { biasGroups, fullLogits, topKRelativeLogits } from './logits.js';
import { analyseLogits } from './spectrum.js';

export const LLM_PAPER =
  'N. Carlini et al., "Stealing Part of a Production Language Model", ICML 2024, arXiv:2403.06634 (§4 hidden size and projection by SVD, §5 logits from top-k logprobs + logit_bias)';

/** Assumed price when none is given: USD per 1k tokens (prompt + completion), a documented round figure, not any vendor's list price. */
export const DEFAULT_PRICE_PER_1K_TOKENS = 0.002;

export function randomPrompts(rng: Rng, n: number, length: number): string[] {
  const seen = new Set<string>();
  while (seen.size < n) seen.add(String.fromCharCode(...Array.from({ length }, () => 32 + rng.int(95))));
  return [...seen];
}

/** Paid queries the attack needs for n prompts. */
export function queriesNeeded(source: LogitSource, prompts: number, vocab = BYTE_VOCAB, k = 5): number {
  return source === 'full' ? prompts : prompts * biasGroups(vocab, 0, k).length;
}

export async function stealFinalLayer(client: CompletionsClient, o: LlmAttackOptions): Promise<LlmAttackResult> {
  if (!(Number.isInteger(o.prompts) && o.prompts >= 2))
    throw new HeistError('HEIST_ERR_BAD_CONFIG', `prompts must be an integer >= 2, got ${o.prompts}`);
  const k = o.k ?? 5;
  const reference = o.reference ?? 32;
  const bias = o.bias ?? 100;
  const need = queriesNeeded(o.source, o.prompts, BYTE_VOCAB, k);
  if (need > client.remaining)
    throw new HeistError(
      'HEIST_ERR_BAD_CONFIG',
      `${o.prompts} prompts need ${need} queries; the budget leaves ${client.remaining}`,
    );
  const prompts = randomPrompts(o.rng, o.prompts, o.promptLength ?? 16);
  const q0 = client.queries;
  const p0 = client.promptTokens;
  const c0 = client.completionTokens;
  const rows: Float64Array[] = [];
  for (const p of prompts) {
    rows.push(
      o.source === 'full'
        ? await fullLogits(client, p, { model: o.model, vocab: BYTE_VOCAB })
        : await topKRelativeLogits(client, p, { model: o.model, vocab: BYTE_VOCAB, reference, k, bias }),
    );
  }
  const spectrum = analyseLogits(rows);
  const promptTokens = client.promptTokens - p0;
  const completionTokens = client.completionTokens - c0;
  const price = o.pricePer1kTokens ?? DEFAULT_PRICE_PER_1K_TOKENS;
  return {
    ...spectrum,
    source: o.source,
    prompts,
    ...(o.source === 'topk' ? { reference } : {}),
    queries: client.queries - q0,
    promptTokens,
    completionTokens,
    totalTokens: promptTokens + completionTokens,
    pricePer1kTokens: price,
    costUsd: ((promptTokens + completionTokens) / 1000) * price,
  };
}

const optionsSchema = z
  .object({
    model: z.string().min(1).default('tiny-lm'),
    prompts: z.number().int().min(2).max(100_000).default(128),
    source: z.enum(['full', 'topk']).default('topk'),
    promptLength: z.number().int().positive().optional(),
    reference: z.number().int().nonnegative().optional(),
    k: z.number().int().positive().optional(),
    bias: z.number().positive().optional(),
    pricePer1kTokens: z.number().nonnegative().optional(),
  })
  .strict();

export const llmFinalLayerEntry: TextExtractorEntry<z.output<typeof optionsSchema>> = {
  name: 'llm-final-layer',
  summary:
    'hidden size and final projection W (up to an h x h transform) of a language model behind /v1/completions, from full logits or top-5 logprobs + logit_bias',
  paper: LLM_PAPER,
  options: optionsSchema,
  example: { prompts: 40, source: 'full' },
  create: (o): TextExtractor => ({
    name: 'llm-final-layer',
    paper: LLM_PAPER,
    queriesNeeded: () => queriesNeeded(o.source, o.prompts, BYTE_VOCAB, o.k ?? 5),
    extract: (client, rng) => stealFinalLayer(client, { ...o, rng }),
  }),
};
