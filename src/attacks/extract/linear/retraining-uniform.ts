/**
 * @file 'retraining-uniform': label-only extraction of a softmax regression by retraining on
 * uniform random queries (the method body is shared, in retraining.ts).
 * @see F. Tramèr, F. Zhang, A. Juels, M. K. Reiter, T. Ristenpart, "Stealing Machine Learning Models via Prediction APIs", USENIX Security 2016, arXiv:1609.02943, §6.1.
 */
import { extractorEntry } from '../types.js';
import { retrainingExtractor, retrainingOptionsSchema } from './retraining.js';

export const retrainingUniformEntry = extractorEntry('linear', retrainingOptionsSchema, (o) =>
  retrainingExtractor({ strategy: 'uniform', ...o }),
);
