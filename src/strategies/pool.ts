/**
 * @file Natural-pool queries: rows drawn without replacement, in a seeded random order, from a data
 * set the attacker owns (disjoint from the victim's training data). This is Knockoff Nets' "random"
 * policy and Copycat CNN's non-problem-domain data.
 * @see T. Orekondy, B. Schiele, M. Fritz, "Knockoff Nets: Stealing Functionality of Black-Box Models", CVPR 2019, arXiv:1812.02766.
 * @see J. R. Correia-Silva et al., "Copycat CNN: Stealing Knowledge by Persuading Confession with Random Non-Labeled Data", IJCNN 2018, arXiv:1806.05476.
 */
import { z } from 'zod';
import type { Dataset } from '../core/dataset.js';
import type { Rng } from '../core/rng.js';
import { PoolRows, needsPool, poolOrderOf } from './pool-rows.js';
import type { QueryStrategy, StrategyEntry } from './types.js';

export function poolStrategy(pool: Dataset, rng: Rng): QueryStrategy {
  const rows = new PoolRows(pool, rng);
  return {
    name: 'pool',
    get available() {
      return rows.available;
    },
    async propose({ info }, count) {
      rows.check(info);
      return rows.takeFirst(count, info);
    },
  };
}

export const pool: StrategyEntry<Record<string, never>> = {
  name: 'pool',
  summary: 'natural data drawn without replacement from --pool in a seeded order, as Knockoff random and Copycat',
  paper:
    'T. Orekondy, B. Schiele, M. Fritz, "Knockoff Nets: Stealing Functionality of Black-Box Models", CVPR 2019, arXiv:1812.02766',
  options: z.object({}).strict(),
  create: (_options, deps) => poolStrategy(needsPool('pool', deps), poolOrderOf(deps)),
};
