/**
 * @file Sparse random query rows, the data-free design several extractors share: per row a sparsity
 * s ~ U(0, 0.9), and each value is the domain minimum with probability s, else uniform in the domain
 * (s = 0 is the uniform design). A classifier's classes can own only a sliver of the cube's volume
 * (the digits softmax regression answers no 0, 6 or 8 on 10,000 uniform points, and 6 of a digits
 * MLP's 20 ReLU units are active on every uniform point); sparse rows reach those regions, so every
 * class gets well-measured probabilities and every hidden unit switches on and off.
 * @see F. Tramèr et al., "Stealing Machine Learning Models via Prediction APIs", USENIX Security 2016, arXiv:1609.02943, §4 (the attacker chooses its queries freely within the feature domain).
 */
import { inputSize, type ModelInfo } from '../../../core/prediction.js';
import type { Rng } from '../../../core/rng.js';

export function sparseRows(info: Pick<ModelInfo, 'inputShape' | 'domain'>, n: number, rng: Rng): Float32Array {
  const d = inputSize(info);
  const { min, max } = info.domain;
  const x = new Float32Array(n * d);
  for (let i = 0; i < n; i++) {
    const s = 0.9 * rng.next();
    let kept = -1;
    for (let j = 0; j < d; j++) {
      if (rng.next() < s) x[i * d + j] = min;
      else {
        x[i * d + j] = Math.min(max, rng.uniform(min, max));
        kept = j;
      }
    }
    // Never the all-minimum row (it would repeat, and a repeat is a cache hit, not a new answer).
    if (kept < 0) x[i * d + rng.int(d)] = Math.min(max, rng.uniform(min, max));
  }
  return x;
}
