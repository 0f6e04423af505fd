/**
 * @file The adaptive-misinformation countermeasure of Kariyappa and Qureshi: a transform stage that
 * serves y~ = (1 - a) y + a y^ per row, where y is the incoming probability vector, y^ a
 * misinformation vector whose top class is wrong, and a = 1 / (1 + e^(nu (m - tau))) =
 * sigmoid(nu (tau - m)), with m = max_j y_j the maximum-softmax-probability OOD score of
 * ood-score.ts: the paper's reverse sigmoid of the OOD score, tau its threshold, nu its growth rate,
 * with the sign of the authors' released code (admis/utils/defense.py): m below tau gives a > 1/2.
 * Confident (in-distribution-looking) queries get nearly their true answer, unconfident ones
 * (out-of-distribution queries, which Knockoff- and JBDA-style attackers send) nearly y^. `nu`
 * defaults to 10^4, the value the released code fixes: a is then practically a step at tau (a < 5e-5
 * from m = tau + 0.001 up). The score is read off the incoming answer: put this stage first.
 * DEVIATIONS from the paper: (1) its OOD detector is the victim trained with Outlier Exposure; Heist
 * defends the model it is given, so the score is that model's plain MSP, a weaker detector (a model
 * never shown outliers is often confident on them). (2) Its y^ comes from a second model F^ trained
 * to minimise the probability of the correct class; Heist ships no such model, so y^ is a built-in
 * deterministic function of y: y with the probabilities of its top class t (lower id on ties) and of
 * a wrong class w exchanged. With `misinformation: 'least-likely'` (the default) w is the least
 * likely class other than t (lower id on ties); with 'keyed' it is one of the other classes picked
 * by HMAC-SHA-256(secret, input row) (gaussian-noise.ts's row seed; needs `DefenseDeps.secret`, at
 * least 16 bytes): no pattern to learn, yet the same input always gets the same answer. Why a swap:
 * y^ gives t the smallest mass, as F^'s loss asks; its argmax is never t; it looks like a genuine
 * answer (the same values, the same entropy); a clone trained on it learns the true class as the
 * least likely one; and in the mix only t and w move, so w overtakes t exactly when a > 1/2, i.e.
 * m < tau, whatever nu is (below 1/2, t can still fall under the runner-up s, when y_t - a (y_t -
 * y_w) < y_s: no digits-mlp evaluation row at the default nu, 6 of 450 at nu = 20). A uniform row
 * cannot be misled by a swap; its y^ is one-hot at w.
 * It CAN CHANGE THE TOP-1 LABEL, on purpose: out-of-distribution queries get a wrong top class, and
 * so does an honest query the model is unsure of. The served label is the argmax of the served
 * vector (lower class id on ties), and the entry declares `changesLabels: true`.
 * Measured (test/defenses/adaptive-misinformation.test.ts): the digits-mlp victim on its 450
 * evaluation rows, top-1 label kept 446/450 (99.11%) at tau = 0.515 (the example option: about the
 * largest tau that costs honest users at most 0.5 points there), 449/450 (99.78%) at tau = 0.5 and 386/450
 * (85.78%) at tau = 0.9. The sweep (default nu and misinformation; honest accuracy and its drop in
 * points; share of honest queries and of each attacker's 449 queries below tau; clone accuracy of a
 * soft-label steal, budget 449, seed 0, at temperature 1, from the attacker pool (natural digits)
 * and from uniform random inputs; undefended: honest 95.56%, pool clone 94.44%, random clone 29.33%):
 *   tau   | honest        | honest < tau | pool < tau | pool clone | random < tau | random clone
 *   0.5   | 95.56% (0.00) |   1/450      |  15/449    | 94.22%     |  18/449      | 28.89%
 *   0.515 | 95.11% (0.44) |   4/450      |  17/449    | 93.78%     |  25/449      | 26.22%
 *   0.55  | 94.22% (1.33) |  10/450      |  20/449    | 93.56%     |  45/449      | 25.56%
 *   0.6   | 93.33% (2.22) |  14/450      |  27/449    | 92.89%     |  65/449      | 26.44%
 *   0.7   | 91.78% (3.78) |  25/450      |  38/449    | 93.11%     |  97/449      | 27.56%
 *   0.8   | 89.33% (6.22) |  40/450      |  50/449    | 92.67%     | 153/449      | 28.00%
 *   0.9   | 85.33% (10.2) |  64/450      |  70/449    | 90.89%     | 221/449      | 15.11%
 *   0.95  | 80.67% (14.9) |  86/450      |  96/449    | 88.44%     | 288/449      |  9.11%
 *   0.99  | 63.11% (32.4) | 166/450      | 159/449    | 76.89%     | 369/449      |  2.67%
 * So on this victim the honest budget of 0.5 points (tau <= 0.515) buys little: 0.67 points off the
 * pool clone (its queries are in-distribution, so they are served the truth, as designed) and 3.1
 * points off the random-input clone, because the plain MSP is >= 0.515 on 94% of uniform random
 * inputs; halving the random-input clone takes tau = 0.9, at 10 honest points. 'keyed' hurts clones
 * less (tau = 0.515: pool 94.22%, random 25.56%; tau = 0.99: 85.33%, 14.67%): a consistent wrong
 * class misleads a clone more than an unlearnable one. A softer step (tau = 0.5) buys no more:
 * nu = 20 kept honest accuracy (430/450, though 7 labels changed) with clones at 93.56% (pool) and
 * 26.89% (random), about the default at tau = 0.515; nu = 10, 5, 3 cost honest users 0.9 to 1.3
 * points, with pool clones at 93.56% to 91.56% and random clones at 30.22% to 33.33%.
 * Computed in float64 per row, served as float32 renormalised to sum 1; a row with no mass (not a
 * distribution) is served one-hot at its top class. Logits and label-only answers pass through.
 * @see S. Kariyappa, M. K. Qureshi, "Defending Against Model Stealing Attacks with Adaptive Misinformation", CVPR 2020, arXiv:1911.07100.
 * @see D. Hendrycks, K. Gimpel, "A Baseline for Detecting Misclassified and Out-of-Distribution Examples in Neural Networks", ICLR 2017, arXiv:1610.02136 (the MSP score).
 */
import { z } from 'zod';
import { HeistError } from '../core/errors.js';
import type { Prediction } from '../core/prediction.js';
import { type Tensor, argmaxRows, rowCount, rowSize } from '../core/tensor.js';
import { MIN_SECRET_BYTES, rowSeed } from './gaussian-noise.js';
import { maxProbabilityRows } from './ood-score.js';
import type { Defense, DefenseEntry } from './types.js';

export type MisinformationKind = 'least-likely' | 'keyed';

export interface AdaptiveMisinformationOptions {
  /** Threshold on the MSP, in (0, 1): answers less confident than this are mostly misinformation. */
  readonly tau: number;
  /** Growth rate of the reverse sigmoid, > 0; default 10^4 (the authors' code). */
  readonly nu?: number;
  /** How the wrong class w of y^ is chosen; default 'least-likely'. */
  readonly misinformation?: MisinformationKind;
}

/** The growth rate the authors' released code fixes (admis/utils/defense.py). */
export const DEFAULT_NU = 10_000;

/** The misinformation weight a = sigmoid(nu (tau - m)) of an answer whose top probability is m; in [0, 1], non-increasing in m. */
export function misinformationWeight(m: number, tau: number, nu: number): number {
  // exp overflows to Infinity far above tau (a = 0) and underflows to 0 far below it (a = 1): no NaN.
  return 1 / (1 + Math.exp(nu * (m - tau)));
}

/**
 * Each row of `values` ([n, classes] row-major probabilities) served as (1 - a) y + a y^. `keys`,
 * when given, holds one 32-bit key per row that picks the wrong class among the classes other than
 * the top one (the 'keyed' variant); otherwise the least likely other class is taken.
 */
export function adaptiveMisinformationRows(
  values: Float32Array,
  classes: number,
  tau: number,
  nu: number,
  keys?: ArrayLike<number>,
): Float32Array {
  const out = new Float32Array(values.length);
  const served = new Float64Array(classes);
  for (let i = 0, o = 0; o < values.length; i++, o += classes) {
    let top = 0;
    for (let j = 1; j < classes; j++) if (values[o + j] > values[o + top]) top = j;
    let wrong = -1;
    if (classes > 1 && keys !== undefined) {
      const r = (keys[i] ?? 0) % (classes - 1);
      wrong = r < top ? r : r + 1;
    } else {
      for (let j = 0; j < classes; j++) if (j !== top && (wrong < 0 || values[o + j] < values[o + wrong])) wrong = j;
    }
    const a = misinformationWeight(values[o + top], tau, nu);
    let sum = 0;
    for (let j = 0; j < classes; j++) {
      served[j] = values[o + j];
      sum += served[j];
    }
    if (wrong >= 0 && a > 0) {
      const yt = values[o + top];
      const yw = values[o + wrong];
      if (yw < yt) {
        // y^ is y with t and w exchanged: only those two entries of the mix move.
        served[top] = (1 - a) * yt + a * yw;
        served[wrong] = (1 - a) * yw + a * yt;
      } else {
        // A tie at the top (a uniform row, or a keyed w tied with t): y^ is one-hot at w.
        for (let j = 0; j < classes; j++) served[j] *= 1 - a;
        served[wrong] += a * sum;
      }
    }
    if (!(sum > 0 && Number.isFinite(sum))) {
      out[o + top] = 1;
      continue;
    }
    for (let j = 0; j < classes; j++) out[o + j] = served[j] / sum;
  }
  return out;
}

/** The 'keyed' variant's per-row keys: the gaussian-noise row seed of each input row. */
function rowKeys(inputs: Tensor, secret: Buffer): Uint32Array {
  const n = rowCount(inputs);
  const d = rowSize(inputs);
  const keys = new Uint32Array(n);
  for (let i = 0; i < n; i++) keys[i] = rowSeed(secret, inputs.data.subarray(i * d, (i + 1) * d));
  return keys;
}

/** What the stage would do to each row: its OOD score (MSP) and misinformation weight a (for tests and tuning). */
export function misinformationWeights(
  values: Float32Array,
  classes: number,
  tau: number,
  nu = DEFAULT_NU,
): Float64Array {
  return maxProbabilityRows(values, classes).map((m) => misinformationWeight(m, tau, nu));
}

export function adaptiveMisinformation(options: AdaptiveMisinformationOptions, secret?: Buffer): Defense {
  const { tau } = options;
  const nu = options.nu ?? DEFAULT_NU;
  const kind = options.misinformation ?? 'least-likely';
  if (!Number.isFinite(tau) || tau <= 0 || tau >= 1)
    throw new HeistError('HEIST_ERR_BAD_CONFIG', `adaptive-misinformation: tau must be in (0, 1), got ${tau}`);
  if (!Number.isFinite(nu) || nu <= 0)
    throw new HeistError('HEIST_ERR_BAD_CONFIG', `adaptive-misinformation: nu must be a finite number > 0, got ${nu}`);
  if (kind !== 'least-likely' && kind !== 'keyed')
    throw new HeistError('HEIST_ERR_BAD_CONFIG', `adaptive-misinformation: unknown misinformation "${String(kind)}"`);
  let key: Buffer | undefined;
  if (kind === 'keyed') {
    if (secret === undefined || secret.length < MIN_SECRET_BYTES)
      throw new HeistError(
        'HEIST_ERR_BAD_CONFIG',
        `adaptive-misinformation: misinformation "keyed" needs a secret of at least ${MIN_SECRET_BYTES} bytes ` +
          `(${secret === undefined ? 'none was given' : `got ${secret.length} bytes`}); the gateway passes one per deployment`,
      );
    key = Buffer.from(secret); // a private copy: later changes to the caller's buffer change nothing
  }
  return {
    name: 'adaptive-misinformation',
    requires: { scores: true },
    transform(ctx, out): Prediction {
      if (!out.scores || out.kind === 'label' || out.kind === 'logits') return out;
      const shape = [...out.scores.shape];
      const keys = key ? rowKeys(ctx.inputs, key) : undefined;
      const scores = { data: adaptiveMisinformationRows(out.scores.data, shape[1] ?? 0, tau, nu, keys), shape };
      return { ...out, labels: argmaxRows(scores), scores };
    },
  };
}

export const adaptiveMisinformationEntry: DefenseEntry<AdaptiveMisinformationOptions> = {
  name: 'adaptive-misinformation',
  summary:
    'serve misinformation (a wrong top class) to answers less confident than tau, the true answer to the rest (changes labels)',
  paper:
    'S. Kariyappa, M. K. Qureshi, "Defending Against Model Stealing Attacks with Adaptive Misinformation", CVPR 2020, arXiv:1911.07100',
  options: z
    .object({
      tau: z.number().finite().gt(0).lt(1),
      nu: z.number().finite().positive().optional(),
      misinformation: z.enum(['least-likely', 'keyed']).optional(),
    })
    .strict(),
  example: { tau: 0.515 },
  phases: ['transform'],
  changesLabels: true,
  create: (o, deps) => adaptiveMisinformation(o, deps.secret),
};
