/**
 * @file Copycat CNN: label natural (non-problem-domain) data with the target's top-1 answers only
 * and train on those hard labels.
 * @see J. R. Correia-Silva et al., "Copycat CNN: Stealing Knowledge by Persuading Confession with Random Non-Labeled Data", IJCNN 2018, arXiv:1806.05476.
 */
import { z } from 'zod';
import type { RecipeEntry } from './types.js';

export const copycatCorreia2018: RecipeEntry<Record<string, never>> = {
  name: 'copycat-correia-2018',
  summary: 'Copycat CNN: natural pool, trained on the top-1 labels only',
  paper:
    'J. R. Correia-Silva et al., "Copycat CNN: Stealing Knowledge by Persuading Confession with Random Non-Labeled Data", IJCNN 2018, arXiv:1806.05476',
  options: z.object({}).strict(),
  // The paper trains on the bare labels: no smoothing.
  create: () => ({ strategy: 'pool', labels: 'hard', schedule: { kind: 'standard' }, labelSmoothing: 0 }),
};
