/**
 * @file The label-only countermeasure: serve the top-1 class and nothing else, the strongest output
 * reduction short of refusing. Later stages that need scores are refused at start-up (checkOrder),
 * and the served model describes itself as answering labels.
 * @see F. Tramèr et al., "Stealing Machine Learning Models via Prediction APIs", USENIX Security 2016, arXiv:1609.02943, §8 (countermeasures: class labels only).
 */
import { z } from 'zod';
import { toLabelOnly } from '../core/prediction.js';
import type { Defense, DefenseEntry } from './types.js';

export function labelOnly(): Defense {
  return {
    name: 'label-only',
    dropsScores: true,
    transform: (_ctx, out) => (out.kind === 'label' ? out : toLabelOnly(out)),
  };
}

export const labelOnlyEntry: DefenseEntry<Record<string, never>> = {
  name: 'label-only',
  summary: 'serve the top-1 label only, no scores',
  paper:
    'F. Tramèr et al., "Stealing Machine Learning Models via Prediction APIs", USENIX Security 2016, arXiv:1609.02943, §8',
  options: z.object({}).strict(),
  phases: ['transform'],
  changesLabels: false,
  create: () => labelOnly(),
};
