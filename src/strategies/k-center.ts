/**
 * @file K-center (core-set) selection, as ActiveThief uses it: in the space of the substitute's
 * output probabilities, repeatedly buy the remaining pool row farthest from everything bought or
 * chosen so far (greedy farthest-first, the 2-approximation of Sener and Savarese). The first
 * round, with no substitute yet, is a seeded random draw.
 * @see S. Pal et al., "ActiveThief: Model Extraction Using Active Learning and Unannotated Public Data", AAAI 2020.
 * @see O. Sener, S. Savarese, "Active Learning for Convolutional Neural Networks: A Core-Set Approach", ICLR 2018, arXiv:1708.00489.
 */
import { z } from 'zod';
import type { Dataset } from '../core/dataset.js';
import type { Predictor } from '../core/prediction.js';
import type { Rng } from '../core/rng.js';
import { type Tensor, rowCount, sliceRows } from '../core/tensor.js';
import { chunkedProbabilities, needsPool, poolOrderOf, PoolRows } from './pool-rows.js';
import type { QueryStrategy, StrategyEntry } from './types.js';

function squaredDistance(a: Float32Array, ai: number, b: Float32Array, bi: number, k: number): number {
  let d = 0;
  for (let j = 0; j < k; j++) {
    const t = a[ai + j] - b[bi + j];
    d += t * t;
  }
  return d;
}

/** The substitute's probabilities for the bought rows (the centers), a chunk at a time. */
export function centerProbabilities(substitute: Predictor, x: Tensor): Promise<Tensor | undefined> {
  return chunkedProbabilities(substitute, rowCount(x), (start, end) => sliceRows(x, start, end));
}

/**
 * Greedy farthest-first: `count` positions of `candidates`, each the farthest (squared Euclidean)
 * from the centers and the positions already chosen; ties go to the lower position.
 */
export function kCenterGreedy(candidates: Tensor, centers: Tensor | undefined, count: number): number[] {
  const m = rowCount(candidates);
  const k = candidates.shape[1];
  const nearest = new Float64Array(m).fill(Number.POSITIVE_INFINITY);
  if (centers)
    for (let c = 0; c < rowCount(centers); c++)
      for (let i = 0; i < m; i++)
        nearest[i] = Math.min(nearest[i], squaredDistance(candidates.data, i * k, centers.data, c * k, k));
  const chosen: number[] = [];
  const taken = new Uint8Array(m);
  while (chosen.length < Math.min(count, m)) {
    let best = -1;
    for (let i = 0; i < m; i++) if (!taken[i] && (best < 0 || nearest[i] > nearest[best])) best = i;
    chosen.push(best);
    taken[best] = 1;
    for (let i = 0; i < m; i++)
      if (!taken[i])
        nearest[i] = Math.min(nearest[i], squaredDistance(candidates.data, i * k, candidates.data, best * k, k));
  }
  return chosen;
}

export function kCenterStrategy(pool: Dataset, rng: Rng): QueryStrategy {
  const rows = new PoolRows(pool, rng);
  return {
    name: 'k-center',
    get available() {
      return rows.available;
    },
    async propose({ info, substitute, boughtRows }, count) {
      rows.check(info);
      if (count <= 0 || rows.available === 0) return rows.takeFirst(0, info);
      const probs = substitute ? await rows.probabilities(substitute, info) : undefined;
      if (!substitute || !probs) return rows.takeFirst(count, info);
      const centers = boughtRows ? await centerProbabilities(substitute, boughtRows.x) : undefined;
      return rows.take(kCenterGreedy(probs, centers, count), info);
    },
  };
}

export const kCenter: StrategyEntry<Record<string, never>> = {
  name: 'k-center',
  summary:
    "pool rows farthest from everything bought, in the substitute's probability space (ActiveThief's k-center); needs --pool",
  paper: 'S. Pal et al., "ActiveThief: Model Extraction Using Active Learning and Unannotated Public Data", AAAI 2020',
  options: z.object({}).strict(),
  create: (_options, deps) => kCenterStrategy(needsPool('k-center', deps), poolOrderOf(deps)),
};
