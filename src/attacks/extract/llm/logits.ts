/**
 * @file Buying next-token logit vectors from a completions API, two ways:
 *  - full: the Heist extension "logprobs": "full" returns the whole logit vector (1 query/prompt);
 *  - top-k + logit_bias (paper §5): bias a fixed reference token r and k-1 other tokens by the same
 *    +B so that exactly those k fill the top-k; then for each biased j,
 *      l_j - l_r = (logprob_j - B) - (logprob_r - B),
 *    i.e. logits relative to r, the same r for every prompt, so rows stay in the column space of
 *    W - 1 w_r^T (rank h). ceil((V-1)/(k-1)) queries per prompt.
 * @see N. Carlini et al., "Stealing Part of a Production Language Model", ICML 2024, arXiv:2403.06634, §5
 */
import { HeistError } from '../../../core/errors.js';
import { tokenId } from '../../../models/byte-tokenizer.js';
import type { CompletionsClient } from '../../../query/completions-client.js';

export interface LogitQueryOptions {
  readonly model: string;
  readonly vocab: number;
}

export interface TopKOptions extends LogitQueryOptions {
  /** Reference token id r (the same for every prompt). */
  readonly reference: number;
  /** Top-k size the API allows (OpenAI: 5). */
  readonly k: number;
  /** The bias B added to the k tokens of each query (OpenAI allows at most 100). */
  readonly bias: number;
}

/** One full logit vector (Heist extension). */
export async function fullLogits(
  client: CompletionsClient,
  prompt: string,
  o: LogitQueryOptions,
): Promise<Float64Array> {
  const a = await client.complete({ model: o.model, prompt, max_tokens: 1, temperature: 0, logprobs: 'full' });
  const v = a.choices[0].logprobs?.x_heist_logits?.[0];
  if (!v || v.length !== o.vocab) {
    throw new HeistError(
      'HEIST_ERR_REQUIREMENTS',
      `the target did not return a full logit vector of ${o.vocab} values ("logprobs": "full" unsupported?)`,
    );
  }
  return Float64Array.from(v);
}

/** Groups of k-1 token ids covering every id except the reference. */
export function biasGroups(vocab: number, reference: number, k: number): number[][] {
  const others = Array.from({ length: vocab }, (_, i) => i).filter((i) => i !== reference);
  const groups: number[][] = [];
  for (let s = 0; s < others.length; s += k - 1) groups.push(others.slice(s, s + k - 1));
  return groups;
}

/** The logit vector relative to the reference token (entry r is 0), from top-k logprobs and logit_bias. */
export async function topKRelativeLogits(
  client: CompletionsClient,
  prompt: string,
  o: TopKOptions,
): Promise<Float64Array> {
  const out = new Float64Array(o.vocab);
  for (const group of biasGroups(o.vocab, o.reference, o.k)) {
    const biased = [o.reference, ...group];
    const logitBias = Object.fromEntries(biased.map((t) => [String(t), o.bias]));
    const a = await client.complete({
      model: o.model,
      prompt,
      max_tokens: 1,
      temperature: 0,
      logprobs: o.k,
      logit_bias: logitBias,
    });
    const top = a.choices[0].logprobs?.top_logprobs?.[0];
    if (!top) throw new HeistError('HEIST_ERR_REQUIREMENTS', 'the target did not return top_logprobs');
    const lp = new Map<number, number>();
    for (const [s, v] of Object.entries(top)) {
      const id = tokenId(s);
      if (id !== undefined && typeof v === 'number') lp.set(id, v);
    }
    const lr = lp.get(o.reference);
    for (const j of group) {
      const lj = lp.get(j);
      if (lj === undefined || lr === undefined) {
        throw new HeistError(
          'HEIST_ERR_REQUIREMENTS',
          `token ${lj === undefined ? j : o.reference} did not enter the top-${o.k} with bias ${o.bias}: its logit is more than ${o.bias} below the best token's`,
        );
      }
      out[j] = lj - o.bias - (lr - o.bias);
    }
  }
  return out;
}
