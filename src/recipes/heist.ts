/**
 * @file Heist's own recipe, the default: the natural pool when there is one (else uniform queries
 * over the declared domain), the target's probabilities when it gives them, a CNN for image inputs
 * (an MLP otherwise) with the architecture's tuned fit settings (cosine-annealed Adam, shifts for
 * images), refitted at every standard budget. These are the policy defaults of attacks/plan.ts; the
 * recipe names them so that `heist recipes` and run.json say what a run without --recipe did.
 * Measured against the published recipes in docs/strategies.md.
 */
import { z } from 'zod';
import type { RecipeEntry } from './types.js';

export const heist: RecipeEntry<Record<string, never>> = {
  name: 'heist',
  summary:
    'the default: the pool (else uniform), probabilities when given, cnn for images else mlp with their tuned fits, refit at each standard budget',
  options: z.object({}).strict(),
  create: () => ({ schedule: { kind: 'standard' } }),
};
