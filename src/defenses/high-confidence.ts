/**
 * @file The high-confidence countermeasure: a transform stage that withholds low-confidence
 * probabilities. As in IBM ART's `HighConfidence` postprocessor, every probability strictly below
 * `cutoff` is set to 0 (one equal to it is kept). Two deliberate differences keep Heist's rule that
 * every served vector is a distribution: (1) the kept values are renormalised to sum to 1 (ART leaves
 * them as they were, summing to less than 1), so Heist's row times the raw mass kept equals ART's
 * row; (2) the served label's class is always kept, so a row in which every probability is below the
 * cutoff (ART serves all zeros; possible only for cutoff > 1/classes) is served one-hot at its top-1
 * class, which is what a label-only answer says, in the batch's own probability form (the pipeline
 * serves one Prediction kind per batch, so one row cannot turn label-only on its own). The label is
 * the incoming one: the top-1 value is never below the cutoff while another value survives, so this
 * stage never changes a served label. ART refuses cutoff 0; Heist accepts it (it changes nothing).
 * Logits and label-only answers pass through unchanged.
 * @see M.-I. Nicolae et al., "Adversarial Robustness Toolbox v1.0.0", arXiv:1807.01069, and its `art/defences/postprocessor/high_confidence.py` (ART cites no paper for this postprocessor).
 */
import { z } from 'zod';
import { HeistError } from '../core/errors.js';
import type { Prediction } from '../core/prediction.js';
import type { Defense, DefenseEntry } from './types.js';

export interface HighConfidenceOptions {
  /** Probabilities below this are withheld (served as 0); in [0, 1). ART's default is 0.25. */
  readonly cutoff: number;
}

/** Each row with values below `cutoff` zeroed except at `labels[i]`, renormalised (one-hot at the label if no mass is left). */
export function highConfidenceRows(
  values: Float32Array,
  classes: number,
  cutoff: number,
  labels: ArrayLike<number>,
): Float32Array {
  const out = new Float32Array(values.length);
  for (let i = 0, o = 0; o < values.length; i++, o += classes) {
    const label = labels[i] ?? 0;
    let sum = 0;
    for (let j = 0; j < classes; j++) {
      const v = values[o + j];
      if (v > 0 && (v >= cutoff || j === label)) sum += v;
    }
    if (!(sum > 0 && Number.isFinite(sum))) {
      out[o + label] = 1;
      continue;
    }
    for (let j = 0; j < classes; j++) {
      const v = values[o + j];
      if (v > 0 && (v >= cutoff || j === label)) out[o + j] = v / sum;
    }
  }
  return out;
}

export function highConfidence(options: HighConfidenceOptions): Defense {
  const { cutoff } = options;
  if (!Number.isFinite(cutoff) || cutoff < 0 || cutoff >= 1)
    throw new HeistError('HEIST_ERR_BAD_CONFIG', `high-confidence: cutoff must be in [0, 1), got ${cutoff}`);
  return {
    name: 'high-confidence',
    requires: { scores: true },
    transform(_ctx, out): Prediction {
      if (!out.scores || out.kind === 'label' || out.kind === 'logits') return out;
      const shape = [...out.scores.shape];
      return {
        ...out,
        scores: { data: highConfidenceRows(out.scores.data, shape[1] ?? 0, cutoff, out.labels), shape },
      };
    },
  };
}

export const highConfidenceEntry: DefenseEntry<HighConfidenceOptions> = {
  name: 'high-confidence',
  summary: "withhold probabilities below `cutoff`, renormalise the rest (the label stays the model's own)",
  paper:
    'M.-I. Nicolae et al., "Adversarial Robustness Toolbox v1.0.0", arXiv:1807.01069 (the HighConfidence postprocessor)',
  options: z.object({ cutoff: z.number().finite().min(0).lt(1) }).strict(),
  example: { cutoff: 0.25 },
  phases: ['transform'],
  changesLabels: false,
  create: (o) => highConfidence(o),
};
