/**
 * @file The query rows of the equation-solving family: uniform random rows in the declared domain,
 * or the domain's corner and its d edges ('basis'), as Tramèr et al. 2016 §4.1 query.
 * @see F. Tramèr, F. Zhang, A. Juels, M. K. Reiter, T. Ristenpart, "Stealing Machine Learning Models via Prediction APIs", USENIX Security 2016, arXiv:1609.02943.
 */
import { type ModelInfo, inputSize } from '../../../core/prediction.js';
import type { Rng } from '../../../core/rng.js';
import type { QueryDesign } from '../types.js';

/** The query rows: [n, d] float32, every value in the declared domain. */
export function designRows(info: ModelInfo, n: number, design: QueryDesign, rng: Rng): Float32Array {
  const d = inputSize(info);
  const { min, max } = info.domain;
  const x = new Float32Array(n * d);
  let start = 0;
  if (design === 'basis') {
    // Row 0: the corner (min, ..., min); row j + 1: that corner with feature j at max.
    start = Math.min(n, d + 1);
    x.fill(min, 0, start * d);
    for (let j = 0; j + 1 < start; j++) x[(j + 1) * d + j] = max;
  }
  for (let i = start * d; i < n * d; i++) x[i] = Math.min(max, Math.max(min, rng.uniform(min, max)));
  return x;
}
