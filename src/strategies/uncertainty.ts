/**
 * @file Uncertainty sampling over an attacker's pool, the machinery shared by least-confidence,
 * margin and entropy: each round asks the current substitute about every remaining pool row and
 * buys the rows it is least sure of. The first round, with no substitute yet, is a seeded random
 * draw (the seed set of ActiveThief).
 * @see B. Settles, "Active Learning Literature Survey", University of Wisconsin-Madison CS TR 1648, 2009 (section 3.1).
 * @see S. Pal et al., "ActiveThief: Model Extraction Using Active Learning and Unannotated Public Data", AAAI 2020.
 */
import { z } from 'zod';
import type { Dataset } from '../core/dataset.js';
import type { Rng } from '../core/rng.js';
import { PoolRows, topPositions } from './pool-rows.js';
import type { QueryStrategy } from './types.js';

/** How uncertain the substitute is about one row, from its probabilities p (higher = buy first). */
export type UncertaintyScore = (p: Float32Array) => number;

export function uncertaintyStrategy(name: string, pool: Dataset, rng: Rng, score: UncertaintyScore): QueryStrategy {
  const rows = new PoolRows(pool, rng);
  return {
    name,
    get available() {
      return rows.available;
    },
    async propose({ info, substitute }, count) {
      rows.check(info);
      if (count <= 0 || rows.available === 0) return rows.takeFirst(0, info);
      const probs = substitute ? await rows.probabilities(substitute, info) : undefined;
      if (!probs) return rows.takeFirst(count, info);
      const k = probs.shape[1];
      const scores = new Float64Array(rows.available);
      for (let i = 0; i < scores.length; i++) scores[i] = score(probs.data.subarray(i * k, (i + 1) * k));
      return rows.take(topPositions(scores, count), info);
    },
  };
}

export const uncertaintyOptions = z.object({}).strict();
