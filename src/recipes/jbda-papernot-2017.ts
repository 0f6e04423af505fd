/**
 * @file Papernot et al.'s black-box attack: a small natural seed set (150 rows by default), grown
 * each round by Jacobian-based augmentation of everything bought (the rounds double, as each one
 * augments every row bought so far), trained on the target's labels only.
 * @see N. Papernot et al., "Practical Black-Box Attacks against Machine Learning", ASIA CCS 2017, arXiv:1602.02697.
 */
import { z } from 'zod';
import type { RecipeEntry } from './types.js';

const options = z
  .object({
    seeds: z.number().int().positive().default(150),
    lambda: z.number().positive().max(1).default(0.1),
    tau: z.number().int().positive().default(3),
  })
  .strict();

export const jbdaPapernot2017: RecipeEntry<z.infer<typeof options>> = {
  name: 'jbda-papernot-2017',
  summary:
    'Papernot et al.: 150 natural seeds, doubled each round by Jacobian-based augmentation, trained on labels only',
  paper: 'N. Papernot et al., "Practical Black-Box Attacks against Machine Learning", ASIA CCS 2017, arXiv:1602.02697',
  options,
  example: { seeds: 20 },
  create: (o) => ({
    strategy: 'jacobian-augmentation',
    strategyOptions: { lambda: o.lambda, tau: o.tau },
    labels: 'hard',
    labelSmoothing: 0, // the paper trains on the bare labels
    schedule: { kind: 'doubling', first: o.seeds },
  }),
};
