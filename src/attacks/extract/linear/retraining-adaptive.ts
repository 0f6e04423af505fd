/**
 * @file 'retraining-adaptive': label-only extraction of a softmax regression by retraining on
 * rounds of queries on the current decision boundaries (adaptive retraining) (the method body is shared, in retraining.ts).
 * @see F. Tramèr, F. Zhang, A. Juels, M. K. Reiter, T. Ristenpart, "Stealing Machine Learning Models via Prediction APIs", USENIX Security 2016, arXiv:1609.02943, §6.1.
 */
import { z } from 'zod';
import { extractorEntry } from '../types.js';
import { retrainingExtractor, retrainingOptionsSchema } from './retraining.js';

export const retrainingAdaptiveEntry = extractorEntry(
  'linear',
  retrainingOptionsSchema
    .extend({ firstFraction: z.number().gt(0).lt(1).optional(), exploreShare: z.number().min(0).lt(1).optional() })
    .strict(),
  (o) => retrainingExtractor({ strategy: 'adaptive', ...o }),
);
