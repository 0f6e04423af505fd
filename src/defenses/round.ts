/**
 * @file The rounding countermeasure: a transform stage that serves every probability rounded to
 * `decimals` places (as BigML rounds to 5), so an extraction attack sees coarser confidences. The
 * top-1 label is the model's own (computed before rounding), so rounding never changes a served
 * label, even where two rounded probabilities tie. Needs scores: fails at boot after a stage that
 * drops them. Each rounded value is served as the nearest float32 (printed back as the short decimal).
 * @see F. Tramèr, F. Zhang, A. Juels, M. K. Reiter, T. Ristenpart, "Stealing Machine Learning Models via Prediction APIs", USENIX Security 2016, arXiv:1609.02943, §8 (countermeasures: rounding confidences).
 */
import { z } from 'zod';
import { HeistError } from '../core/errors.js';
import type { Prediction } from '../core/prediction.js';
import type { Defense, DefenseEntry } from './types.js';

export interface RoundOptions {
  /** Decimal places kept, 0..15. */
  readonly decimals: number;
}

/** Rounds each value to `decimals` places (half away from zero for the positive probabilities served here). */
export function roundScores(values: Float32Array, decimals: number): Float32Array {
  const s = 10 ** decimals;
  const out = new Float32Array(values.length);
  for (let i = 0; i < values.length; i++) out[i] = Math.round(values[i] * s) / s;
  return out;
}

export function round(options: RoundOptions): Defense {
  const { decimals } = options;
  if (!Number.isInteger(decimals) || decimals < 0 || decimals > 15) {
    throw new HeistError('HEIST_ERR_BAD_CONFIG', `round: decimals must be an integer in 0..15, got ${decimals}`);
  }
  return {
    name: 'round',
    requires: { scores: true },
    transform(_ctx, out): Prediction {
      if (!out.scores || out.kind === 'label') return out;
      return {
        kind: out.kind,
        labels: out.labels,
        scores: { data: roundScores(out.scores.data, decimals), shape: [...out.scores.shape] },
      };
    },
  };
}

export const roundEntry: DefenseEntry<RoundOptions> = {
  name: 'round',
  summary: "serve every probability rounded to `decimals` places (the label stays the model's own)",
  paper:
    'F. Tramèr et al., "Stealing Machine Learning Models via Prediction APIs", USENIX Security 2016, arXiv:1609.02943, §8',
  options: z.object({ decimals: z.number().int().min(0).max(15) }).strict(),
  example: { decimals: 2 },
  phases: ['transform'],
  changesLabels: false,
  // Each of k values moves by at most half a unit in the last place kept.
  massError: (o, classes) => (classes / 2) * 10 ** -o.decimals + 1e-6,
  create: (o) => round(o),
};
