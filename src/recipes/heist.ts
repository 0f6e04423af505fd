/**
 * @file Heist's own recipe, the default: k-center selection from the natural pool when there is one
 * (a random first round, then the rows farthest from everything bought in the substitute's
 * probability space); without a pool, the data-free generator; the target's
 * probabilities when it gives them, a CNN for image inputs (an MLP otherwise) with the
 * architecture's tuned fit settings (cosine-annealed Adam, shifts for images), distilled at
 * temperature 4 when the rows come from a pool, or with labels only, the labels smoothed by 0.2
 * (plan.ts), refitted at every standard budget
 * (50, 100, 250, ...). These are the policy defaults of attacks/plan.ts; the recipe
 * names them so that `heist recipes` and run.json say what a run without --recipe did. Why k-center:
 * of the active strategies measured in docs/strategies.md, it alone beats random selection from the
 * same pool at every budget on both mnist-cnn and digits-mlp.
 */
import { z } from 'zod';
import type { RecipeEntry } from './types.js';

export const heist: RecipeEntry<Record<string, never>> = {
  name: 'heist',
  summary:
    'the default: k-center over the pool (else data-free), probabilities when given (at temperature 4 with a pool), else labels (smoothed by 0.2 with a pool), cnn for images else mlp with their tuned fits, refit at each standard budget',
  options: z.object({}).strict(),
  create: () => ({ schedule: { kind: 'standard' } }),
};
