/**
 * @file Least-confidence sampling: buy the pool rows whose top substitute probability is lowest.
 * @see B. Settles, "Active Learning Literature Survey", University of Wisconsin-Madison CS TR 1648, 2009 (section 3.1).
 */
import type { StrategyEntry } from './types.js';
import { needsPool, poolOrderOf } from './pool-rows.js';
import { uncertaintyOptions, uncertaintyStrategy } from './uncertainty.js';

export function leastConfidence(p: Float32Array): number {
  let top = 0;
  for (const v of p) top = Math.max(top, v);
  return 1 - top;
}

export const leastConfidenceEntry: StrategyEntry<Record<string, never>> = {
  name: 'least-confidence',
  summary: 'pool rows whose top substitute probability is lowest (first round: a seeded random draw); needs --pool',
  paper: 'B. Settles, "Active Learning Literature Survey", University of Wisconsin-Madison CS TR 1648, 2009',
  options: uncertaintyOptions,
  create: (_options, deps) =>
    uncertaintyStrategy('least-confidence', needsPool('least-confidence', deps), poolOrderOf(deps), leastConfidence),
};
