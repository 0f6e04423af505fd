/**
 * @file Margin sampling: buy the pool rows with the smallest gap between the substitute's two
 * highest probabilities, the rows closest to its decision boundary.
 * @see T. Scheffer, C. Decomain, S. Wrobel, "Active Hidden Markov Models for Information Extraction", IDA 2001.
 */
import type { StrategyEntry } from './types.js';
import { needsPool, poolOrderOf } from './pool-rows.js';
import { uncertaintyOptions, uncertaintyStrategy } from './uncertainty.js';

/** Minus the gap between the two largest probabilities (higher = closer to the boundary). */
export function negativeMargin(p: Float32Array): number {
  let first = Number.NEGATIVE_INFINITY;
  let second = Number.NEGATIVE_INFINITY;
  for (const v of p) {
    if (v > first) {
      second = first;
      first = v;
    } else if (v > second) second = v;
  }
  return p.length < 2 ? 0 : second - first;
}

export const marginEntry: StrategyEntry<Record<string, never>> = {
  name: 'margin',
  summary: "pool rows with the smallest gap between the substitute's top two probabilities; needs --pool",
  paper: 'T. Scheffer, C. Decomain, S. Wrobel, "Active Hidden Markov Models for Information Extraction", IDA 2001',
  options: uncertaintyOptions,
  create: (_options, deps) =>
    uncertaintyStrategy('margin', needsPool('margin', deps), poolOrderOf(deps), negativeMargin),
};
