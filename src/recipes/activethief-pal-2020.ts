/**
 * @file ActiveThief: a random seed set from unannotated public data (the pool), then rounds of
 * active selection with the substitute retrained each round: k-center by default, or uncertainty
 * (least-confidence), margin, entropy, DFAL or DFAL + k-center. The paper runs ten rounds of equal size
 * and trains on the answers as given (temperature 1).
 * @see S. Pal et al., "ActiveThief: Model Extraction Using Active Learning and Unannotated Public Data", AAAI 2020.
 */
import { z } from 'zod';
import type { RecipeEntry } from './types.js';

const options = z
  .object({
    selection: z
      .enum(['k-center', 'least-confidence', 'margin', 'entropy', 'dfal', 'dfal-k-center'])
      .default('k-center'),
    rounds: z.number().int().min(2).max(100).default(10),
  })
  .strict();

export const activethiefPal2020: RecipeEntry<z.infer<typeof options>> = {
  name: 'activethief-pal-2020',
  summary: 'ActiveThief: a random seed set from the pool, then k-center (or uncertainty) selection in 10 equal rounds',
  paper: 'S. Pal et al., "ActiveThief: Model Extraction Using Active Learning and Unannotated Public Data", AAAI 2020',
  options,
  example: { selection: 'margin', rounds: 4 },
  create: (o) => ({ strategy: o.selection, schedule: { kind: 'rounds', rounds: o.rounds }, temperature: 1 }),
};
