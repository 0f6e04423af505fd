/**
 * @file Knockoff Nets: query a natural pool, random or with the adaptive bandit policy, and distil
 * the target's probabilities (labels when that is all it gives). The adaptive policy learns from each round's answers, so it gets
 * rounds that double from 50; random selection is fitted at the standard budgets. The paper distils
 * the probabilities as given (temperature 1), not Heist's softened ones.
 * @see T. Orekondy, B. Schiele, M. Fritz, "Knockoff Nets: Stealing Functionality of Black-Box Models", CVPR 2019, arXiv:1812.02766.
 */
import { z } from 'zod';
import type { RecipeEntry } from './types.js';

const options = z
  .object({
    policy: z.enum(['random', 'adaptive']).default('random'),
    /** The adaptive policy's reward. */
    reward: z.enum(['certainty', 'diversity', 'loss', 'all']).default('all'),
  })
  .strict();

export const knockoffOrekondy2019: RecipeEntry<z.infer<typeof options>> = {
  name: 'knockoff-orekondy-2019',
  summary: 'Knockoff Nets: natural pool, random or adaptive (policy=adaptive), distilling probabilities',
  paper:
    'T. Orekondy, B. Schiele, M. Fritz, "Knockoff Nets: Stealing Functionality of Black-Box Models", CVPR 2019, arXiv:1812.02766',
  options,
  example: { policy: 'adaptive' },
  create: (o) =>
    o.policy === 'random'
      ? { strategy: 'pool', schedule: { kind: 'standard' }, temperature: 1 }
      : {
          strategy: 'knockoff-adaptive',
          temperature: 1,
          strategyOptions: { reward: o.reward },
          schedule: { kind: 'doubling', first: 50 },
        },
};
