/**
 * @file Truong et al.'s data-free model extraction, at small scale: no natural data at all. A
 * generator makes the queries and climbs the L1 disagreement between the substitute's and the
 * target's logits, its gradient estimated by forward differences along one random direction per
 * row (DFME's m = 1; every probe is a bought query), distilled from the target's probabilities.
 * Deviations of the small scale: Heist's generator is a two-layer MLP making a 4x coarser image that
 * is upsampled bilinearly (DFME's is convolutional), and the substitute is refit on everything bought
 * at each round of a doubling schedule instead of trained online on the fresh batch.
 * @see J.-B. Truong, P. Maini, R. J. Walls, N. Papernot, "Data-Free Model Extraction", CVPR 2021, arXiv:2011.14779.
 */
import { z } from 'zod';
import type { RecipeEntry } from './types.js';

const options = z
  .object({
    /** Forward-difference directions per generated row (DFME's m). */
    directions: z.number().int().min(1).max(64).default(1),
    /** The first round; each later one doubles. */
    first: z.number().int().positive().default(1000),
  })
  .strict();

export const dfmeTruong2021: RecipeEntry<z.infer<typeof options>> = {
  name: 'dfme-truong-2021',
  summary:
    "DFME, data-free: a generator climbs the substitute's disagreement with the target (forward differences, m = 1), probabilities, rounds doubling",
  paper: 'J.-B. Truong, P. Maini, R. J. Walls, N. Papernot, "Data-Free Model Extraction", CVPR 2021, arXiv:2011.14779',
  options,
  example: { first: 40 },
  create: (o) => ({
    strategy: 'data-free',
    // DFME's generator starts from a quarter of the image's side (img_size // 4), upsampled twice.
    strategyOptions: { disagreement: 'forward-differences', directions: o.directions, diversity: 0, upsample: 4 },
    labels: 'soft',
    schedule: { kind: 'doubling', first: o.first },
  }),
};
