/**
 * @file DFAL + k-center, ActiveThief's combination: the rows nearest the substitute's boundary by
 * DeepFool's linearised distance (dfal.ts), a shortlist of `kCenter` times the rows wanted, narrowed
 * down by k-center selection so that the rows bought near the boundary are also spread out.
 * @see S. Pal et al., "ActiveThief: Model Extraction Using Active Learning and Unannotated Public Data", AAAI 2020.
 */
import { z } from 'zod';
import { dfalStrategy } from './dfal.js';
import { needsPool, poolOrderOf } from './pool-rows.js';
import type { StrategyEntry } from './types.js';

const options = z
  .object({
    candidates: z.number().int().min(1).max(100).default(3),
    /** The shortlist, as a multiple of the rows wanted. */
    kCenter: z.number().int().min(1).max(100).default(3),
  })
  .strict();

export const dfalKCenter: StrategyEntry<z.infer<typeof options>> = {
  name: 'dfal-k-center',
  summary:
    "ActiveThief's DFAL + k-center: the rows nearest the substitute's boundary, spread out by k-center; needs --pool",
  paper: 'S. Pal et al., "ActiveThief: Model Extraction Using Active Learning and Unannotated Public Data", AAAI 2020',
  options,
  create: (o, deps) => dfalStrategy('dfal-k-center', needsPool('dfal-k-center', deps), poolOrderOf(deps), o),
};
