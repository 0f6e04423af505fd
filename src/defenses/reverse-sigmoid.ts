/**
 * @file The reverse-sigmoid countermeasure: a transform stage that serves each probability q
 * perturbed to q - r(q), with r(q) = beta * (sigmoid(gamma * logit(q)) - 1/2), clipped to [0, 1] and
 * renormalised to a distribution, as in the paper and IBM ART's `ReverseSigmoid` postprocessor
 * (q is clipped to [1e-9, 1 - 1e-9] inside the logit only). The perturbation lifts small
 * probabilities and lowers large ones, so a surrogate trained on the served scores learns the wrong
 * confidences. It CAN CHANGE THE TOP-1 LABEL (a near-zero class is lifted to about beta *
 * (1/2 - sigmoid(-20.7 gamma)), which can overtake a weak winner): the served label is the argmax
 * of the served vector (lower class id on ties), and the entry declares `changesLabels: true`.
 * Measured top-1 label kept (test/defenses/label-changes.test.ts: the digits-mlp victim on its 450
 * evaluation rows): 450/450 (100.00%) at beta = 1, gamma = 0.1 (the example options, ART's
 * defaults); 449/450 (99.78%) at beta = 1, gamma = 0.5; 225/450 (50.00%) at beta = 2, gamma = 0.1
 * (a class at 0 rises to about 0.39 beta at gamma = 0.1 while a winner at 1 falls to 1 - 0.39 beta,
 * so from beta = 1.3 on even a confident winner can be overtaken).
 * Computed in float64 per row, served as float32; a row whose perturbed mass is 0 (impossible for a
 * distribution, possible for garbage input) is served one-hot at the model's own label. Logits and
 * label-only answers pass through unchanged.
 * @see T. Lee, B. Edwards, I. Molloy, D. Su, "Defending Against Neural Network Model Stealing Attacks Using Deceptive Perturbations", IEEE S&P Workshops 2019, arXiv:1806.00054 (the reverse sigmoid perturbation).
 */
import { z } from 'zod';
import { HeistError } from '../core/errors.js';
import type { Prediction } from '../core/prediction.js';
import { argmaxRows } from '../core/tensor.js';
import type { Defense, DefenseEntry } from './types.js';

export interface ReverseSigmoidOptions {
  /** Magnitude of the perturbation, > 0 (ART's default 1). */
  readonly beta: number;
  /** Convergence (how fast the sigmoid saturates), > 0 (ART's default 0.1). */
  readonly gamma: number;
}

/** ART's clip of q inside the logit, so q = 0 and q = 1 stay finite. */
const CLIP = 1e-9;

/**
 * Each row of `values` ([n, classes] row-major) perturbed and renormalised; `fallback[i]` is the
 * class a row with no mass left is served at (one-hot).
 */
export function reverseSigmoidRows(
  values: Float32Array,
  classes: number,
  options: ReverseSigmoidOptions,
  fallback: ArrayLike<number>,
): Float32Array {
  const { beta, gamma } = options;
  const out = new Float32Array(values.length);
  const row = new Float64Array(classes);
  for (let i = 0, o = 0; o < values.length; i++, o += classes) {
    let sum = 0;
    for (let j = 0; j < classes; j++) {
      const q = values[o + j];
      const c = Math.min(Math.max(q, CLIP), 1 - CLIP);
      const r = beta * (1 / (1 + Math.exp(-gamma * Math.log(c / (1 - c)))) - 0.5);
      const p = Math.min(Math.max(q - r, 0), 1);
      row[j] = p;
      sum += p;
    }
    if (sum > 0 && Number.isFinite(sum)) for (let j = 0; j < classes; j++) out[o + j] = row[j] / sum;
    else out[o + (fallback[i] ?? 0)] = 1;
  }
  return out;
}

function checkPositive(name: string, v: number): void {
  if (!Number.isFinite(v) || v <= 0)
    throw new HeistError('HEIST_ERR_BAD_CONFIG', `reverse-sigmoid: ${name} must be a finite number > 0, got ${v}`);
}

export function reverseSigmoid(options: ReverseSigmoidOptions): Defense {
  checkPositive('beta', options.beta);
  checkPositive('gamma', options.gamma);
  const o = { beta: options.beta, gamma: options.gamma };
  return {
    name: 'reverse-sigmoid',
    requires: { scores: true },
    transform(_ctx, out): Prediction {
      if (!out.scores || out.kind === 'label' || out.kind === 'logits') return out;
      const shape = [...out.scores.shape];
      const scores = { data: reverseSigmoidRows(out.scores.data, shape[1] ?? 0, o, out.labels), shape };
      return { ...out, labels: argmaxRows(scores), scores };
    },
  };
}

export const reverseSigmoidEntry: DefenseEntry<ReverseSigmoidOptions> = {
  name: 'reverse-sigmoid',
  summary: 'serve probabilities deceptively perturbed by a reverse sigmoid, renormalised (may change the label)',
  paper:
    'T. Lee, B. Edwards, I. Molloy, D. Su, "Defending Against Neural Network Model Stealing Attacks Using Deceptive Perturbations", IEEE S&P Workshops 2019, arXiv:1806.00054',
  options: z.object({ beta: z.number().finite().positive(), gamma: z.number().finite().positive() }).strict(),
  example: { beta: 1, gamma: 0.1 },
  phases: ['transform'],
  changesLabels: true,
  create: (o) => reverseSigmoid(o),
};
