/**
 * @file Float64 softmax-regression fitting by L-BFGS: the convex cross-entropy minimisation that
 * Tramèr et al. use to solve for a multiclass LR's k (d + 1) unknowns, with hard labels (retraining
 * on a label-only API) or with soft targets (probabilities, e.g. rounded ones). An optional L2 term
 * on the weights keeps the problem bounded when the labels are separable (they always are when the
 * target itself is linear).
 * @see F. Tramèr et al., "Stealing Machine Learning Models via Prediction APIs", USENIX Security 2016, arXiv:1609.02943, §4.1 (multiclass LR solved by minimising the cross-entropy) and §6 (retraining on labels).
 */
import { HeistError } from '../../../core/errors.js';
import { lbfgs, type LbfgsOptions } from './lbfgs.js';
import type { LinearWeights } from '../types.js';

export interface SoftmaxFitData {
  /** [n, d] inputs. */
  readonly x: Float32Array | Float64Array;
  readonly n: number;
  readonly d: number;
  readonly k: number;
  /** Hard targets: one class per row. */
  readonly labels?: Int32Array;
  /** Soft targets: [n, k], each row summing to 1. */
  readonly soft?: Float64Array;
}

export interface SoftmaxFitOptions extends LbfgsOptions {
  /** L2 penalty (l2 / 2) * ||W||^2 added to the mean cross-entropy; biases are not penalised. Default 0. */
  readonly l2?: number;
  /** Warm start: [d * k] weights then [k] biases. */
  readonly init?: Float64Array;
}

export interface SoftmaxFit {
  readonly weights: LinearWeights;
  /** The raw parameter vector ([d * k] then [k]), for warm starts. */
  readonly theta: Float64Array;
  readonly loss: number;
  readonly iterations: number;
}

/** Mean cross-entropy (+ L2) and its gradient for theta = [W (d x k, row-major), b (k)]. */
export function softmaxObjective(
  data: SoftmaxFitData,
  l2: number,
): (theta: Float64Array, grad: Float64Array) => number {
  const { x, n, d, k, labels, soft } = data;
  if (!labels === !soft)
    throw new HeistError('HEIST_ERR_INTERNAL', 'softmaxObjective needs exactly one of labels or soft targets');
  const z = new Float64Array(k);
  return (theta, grad) => {
    grad.fill(0);
    let loss = 0;
    const bOff = d * k;
    for (let i = 0; i < n; i++) {
      const xo = i * d;
      for (let c = 0; c < k; c++) z[c] = theta[bOff + c];
      for (let j = 0; j < d; j++) {
        const v = x[xo + j];
        if (v === 0) continue;
        const wo = j * k;
        for (let c = 0; c < k; c++) z[c] += v * theta[wo + c];
      }
      let mx = -Infinity;
      for (let c = 0; c < k; c++) if (z[c] > mx) mx = z[c];
      let s = 0;
      for (let c = 0; c < k; c++) s += z[c] = Math.exp(z[c] - mx);
      const logS = Math.log(s);
      // z now holds p - t (the gradient wrt the logits).
      if (labels) {
        const y = labels[i];
        for (let c = 0; c < k; c++) z[c] /= s;
        loss -= Math.log(Math.max(z[y], 1e-300));
        z[y] -= 1;
      } else {
        const t = soft!;
        let lossRow = 0;
        for (let c = 0; c < k; c++) {
          const p = z[c] / s;
          const tc = t[i * k + c];
          if (tc > 0) lossRow -= tc * (Math.log(z[c]) - logS);
          z[c] = p - tc;
        }
        loss += lossRow;
      }
      for (let c = 0; c < k; c++) grad[bOff + c] += z[c];
      for (let j = 0; j < d; j++) {
        const v = x[xo + j];
        if (v === 0) continue;
        const wo = j * k;
        for (let c = 0; c < k; c++) grad[wo + c] += v * z[c];
      }
    }
    const inv = 1 / n;
    loss *= inv;
    for (let i = 0; i < grad.length; i++) grad[i] *= inv;
    if (l2 > 0) {
      let sq = 0;
      for (let i = 0; i < bOff; i++) {
        sq += theta[i] * theta[i];
        grad[i] += l2 * theta[i];
      }
      loss += 0.5 * l2 * sq;
    }
    return loss;
  };
}

/** theta -> LinearWeights with class 0 fixed to zero (softmax is shift-invariant). */
export function thetaToWeights(theta: Float64Array, d: number, k: number): LinearWeights {
  const weights = new Float64Array(d * k);
  const bias = new Float64Array(k);
  for (let j = 0; j < d; j++) for (let c = 0; c < k; c++) weights[j * k + c] = theta[j * k + c] - theta[j * k];
  for (let c = 0; c < k; c++) bias[c] = theta[d * k + c] - theta[d * k];
  return { d, k, weights, bias, referenceClass: 0 };
}

/** Column means and standard deviations (1 for a constant column). */
function columnStats(x: ArrayLike<number>, n: number, d: number): { mu: Float64Array; sd: Float64Array } {
  const mu = new Float64Array(d);
  const sd = new Float64Array(d);
  for (let i = 0; i < n; i++) for (let j = 0; j < d; j++) mu[j] += x[i * d + j];
  for (let j = 0; j < d; j++) mu[j] /= n;
  for (let i = 0; i < n; i++) for (let j = 0; j < d; j++) sd[j] += (x[i * d + j] - mu[j]) ** 2;
  for (let j = 0; j < d; j++) sd[j] = sd[j] > 0 ? Math.sqrt(sd[j] / n) : 1;
  return { mu, sd };
}

/**
 * Fits by L-BFGS on standardised columns (zero mean, unit variance: far better conditioned than
 * raw inputs in [0, 1], whose bias and weights are strongly coupled), then maps the solution back.
 * The L2 term applies to the standardised weights; init and the returned theta are in input units.
 */
export function fitSoftmax(data: SoftmaxFitData, options: SoftmaxFitOptions = {}): SoftmaxFit {
  const { n, d, k } = data;
  if (n < 1) throw new HeistError('HEIST_ERR_EMPTY_BATCH', 'cannot fit a softmax regression on zero rows');
  const P = d * k + k;
  if (options.init && options.init.length !== P)
    throw new HeistError('HEIST_ERR_SHAPE', `warm start has ${options.init.length} values, expected ${P}`);
  const { mu, sd } = columnStats(data.x, n, d);
  const xs = new Float64Array(n * d);
  for (let i = 0; i < n; i++) for (let j = 0; j < d; j++) xs[i * d + j] = (data.x[i * d + j] - mu[j]) / sd[j];
  // Input units (W, b) <-> standardised units (W' = sd W, b' = b + mu W).
  const init = new Float64Array(P);
  if (options.init) {
    for (let c = 0; c < k; c++) init[d * k + c] = options.init[d * k + c];
    for (let j = 0; j < d; j++) {
      for (let c = 0; c < k; c++) {
        const w = options.init[j * k + c];
        init[j * k + c] = w * sd[j];
        init[d * k + c] += w * mu[j];
      }
    }
  }
  const r = lbfgs(softmaxObjective({ ...data, x: xs }, options.l2 ?? 0), init, { maxIterations: 500, ...options });
  const theta = new Float64Array(P);
  for (let c = 0; c < k; c++) theta[d * k + c] = r.theta[d * k + c];
  for (let j = 0; j < d; j++) {
    for (let c = 0; c < k; c++) {
      const w = r.theta[j * k + c] / sd[j];
      theta[j * k + c] = w;
      theta[d * k + c] -= w * mu[j];
    }
  }
  return { weights: thetaToWeights(theta, d, k), theta, loss: r.loss, iterations: r.iterations };
}
