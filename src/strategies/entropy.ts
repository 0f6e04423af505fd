/**
 * @file Entropy sampling: buy the pool rows whose substitute prediction has the highest Shannon
 * entropy.
 * @see C. E. Shannon, "A Mathematical Theory of Communication", Bell System Technical Journal 27, 1948; as a query strategy: B. Settles, "Active Learning Literature Survey", CS TR 1648, 2009.
 */
import type { StrategyEntry } from './types.js';
import { needsPool, poolOrderOf } from './pool-rows.js';
import { uncertaintyOptions, uncertaintyStrategy } from './uncertainty.js';

export function entropy(p: Float32Array): number {
  let h = 0;
  for (const v of p) if (v > 0) h -= v * Math.log(v);
  return h;
}

export const entropyEntry: StrategyEntry<Record<string, never>> = {
  name: 'entropy',
  summary: 'pool rows whose substitute prediction has the highest entropy; needs --pool',
  paper: 'B. Settles, "Active Learning Literature Survey", University of Wisconsin-Madison CS TR 1648, 2009',
  options: uncertaintyOptions,
  create: (_options, deps) => uncertaintyStrategy('entropy', needsPool('entropy', deps), poolOrderOf(deps), entropy),
};
