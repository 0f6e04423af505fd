/**
 * @file The top-k countermeasure: serve only the k most likely classes' probabilities,
 * renormalised to sum to 1 (the rest 0), so every served vector is still a distribution. Ties at
 * the k-th place go to the lower class id, so equal inputs get equal answers. The top-1 label is
 * the model's own: this stage never changes a served label.
 * @see F. Tramèr et al., "Stealing Machine Learning Models via Prediction APIs", USENIX Security 2016, arXiv:1609.02943, §8 (countermeasures: class probabilities for the top classes only).
 * @see T. Orekondy, B. Schiele, M. Fritz, "Knockoff Nets: Stealing Functionality of Black-Box Models", CVPR 2019, arXiv:1812.02766, §6 (top-k truncation).
 */
import { z } from 'zod';
import type { Prediction } from '../core/prediction.js';
import type { Defense, DefenseEntry } from './types.js';

export interface TopKOptions {
  /** Classes whose probabilities are served, at least 1. */
  readonly k: number;
}

/** Each row keeps its k largest values (lower class id first on ties), renormalised to sum to 1. */
export function topKRows(values: Float32Array, classes: number, k: number): Float32Array {
  const out = new Float32Array(values.length);
  const ids = Array.from({ length: classes }, (_, j) => j);
  for (let o = 0; o < values.length; o += classes) {
    const keep = ids
      .slice()
      .sort((a, b) => values[o + b] - values[o + a] || a - b)
      .slice(0, k);
    let sum = 0;
    for (const j of keep) sum += Math.max(0, values[o + j]);
    for (const j of keep) out[o + j] = sum > 0 ? Math.max(0, values[o + j]) / sum : 1 / keep.length;
  }
  return out;
}

export function topK(options: TopKOptions): Defense {
  return {
    name: 'top-k',
    requires: { scores: true },
    transform(_ctx, out): Prediction {
      if (!out.scores || out.kind === 'label' || out.kind === 'logits') return out;
      const k = out.scores.shape[1] ?? 0;
      return {
        ...out,
        scores: { data: topKRows(out.scores.data, k, Math.min(options.k, k)), shape: [...out.scores.shape] },
      };
    },
  };
}

export const topKEntry: DefenseEntry<TopKOptions> = {
  name: 'top-k',
  summary: "serve only the k most likely classes, renormalised (the label stays the model's own)",
  paper:
    'F. Tramèr et al., "Stealing Machine Learning Models via Prediction APIs", USENIX Security 2016, arXiv:1609.02943, §8',
  options: z.object({ k: z.number().int().min(1) }).strict(),
  example: { k: 2 },
  phases: ['transform'],
  changesLabels: false,
  create: (o) => topK(o),
};
