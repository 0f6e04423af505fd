/**
 * @file Out-of-distribution scores read off a model's own output: the maximum softmax probability
 * (MSP) baseline of Hendrycks and Gimpel. A classifier tends to be less confident on inputs unlike
 * its training data (and on inputs it gets wrong), so max_j p_j is an in-distribution score: high
 * means "looks like the training data", low means "likely out of distribution". No training, no
 * state, one pass over the row. Detectors that threshold it (adaptive-misinformation) and anyone
 * else may reuse these functions.
 * @see D. Hendrycks, K. Gimpel, "A Baseline for Detecting Misclassified and Out-of-Distribution Examples in Neural Networks", ICLR 2017, arXiv:1610.02136.
 */
import type { Prediction } from '../core/prediction.js';
import { rowCount, rowSize } from '../core/tensor.js';

/** The largest value of each row of `values` ([n, classes] row-major probabilities): the MSP per row. */
export function maxProbabilityRows(values: ArrayLike<number>, classes: number): Float64Array {
  const n = classes > 0 ? Math.floor(values.length / classes) : 0;
  const out = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    let m = -Infinity;
    for (let j = 0; j < classes; j++) m = Math.max(m, values[i * classes + j]);
    out[i] = m;
  }
  return out;
}

/**
 * The MSP of each row of a prediction: the top probability for 'probs' and 'topk' answers, the
 * top of the softmax for 'logits' (computed stably, as max_j softmax = 1 / sum_j e^(z_j - z_max));
 * undefined for label-only answers, which carry no confidence.
 */
export function maxSoftmaxProbability(p: Prediction): Float64Array | undefined {
  if (!p.scores || p.kind === 'label') return undefined;
  const { data } = p.scores;
  const classes = rowSize(p.scores);
  if (p.kind !== 'logits') return maxProbabilityRows(data, classes);
  const n = rowCount(p.scores);
  const out = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    let m = -Infinity;
    for (let j = 0; j < classes; j++) m = Math.max(m, data[i * classes + j]);
    let s = 0;
    for (let j = 0; j < classes; j++) s += Math.exp(data[i * classes + j] - m);
    out[i] = 1 / s;
  }
  return out;
}
