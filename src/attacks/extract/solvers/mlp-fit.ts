/**
 * @file Float64 fitting of a one-hidden-layer ReLU MLP, p = softmax(relu(x W1 + b1) W2 + b2), to
 * soft targets by minimising the mean cross-entropy with L-BFGS: the loss Tramèr et al. minimise to
 * solve for an MLP's parameters from its probability answers. Inputs are standardised for the
 * optimiser and the solution is mapped back to input units. Non-convex: the start is a seeded
 * He-uniform draw, and the best of `restarts` fits (lowest loss) is kept.
 * @see F. Tramèr et al., "Stealing Machine Learning Models via Prediction APIs", USENIX Security 2016, arXiv:1609.02943, §4.1 ("Multilayer perceptrons": the MLP's unknowns are solved for by minimising the cross-entropy over its soft outputs).
 */
import { HeistError } from '../../../core/errors.js';
import type { Rng } from '../../../core/rng.js';
import type { NetworkSpec } from '../../../models/network-spec.js';
import { lbfgs } from './lbfgs.js';

/**
 * 'cross-entropy' (the paper's): mean cross-entropy against the answered probabilities.
 * 'logits': mean squared error between centred logits and the answers' centred log-probabilities,
 * i.e. the k - 1 log-ratio equations per answer solved in the least-squares sense; small
 * probabilities weigh as much as large ones, which constrains the parameters far more per answer.
 */
export type MlpLoss = 'cross-entropy' | 'logits';

/** Log-probabilities below this (underflowed answers) are floored. */
export const LOG_FLOOR = 1e-30;

export interface MlpShape {
  readonly d: number;
  readonly h: number;
  readonly k: number;
}

/** Unknowns of a d-h-k MLP: d h + h + h k + k. */
export function mlpUnknowns({ d, h, k }: MlpShape): number {
  return d * h + h + h * k + k;
}

/** theta = [W1 (d x h), b1 (h), W2 (h x k), b2 (k)], row-major like NetworkSpec dense kernels. */
export function mlpObjective(
  x: Float64Array,
  soft: Float64Array,
  n: number,
  shape: MlpShape,
  loss: MlpLoss = 'cross-entropy',
): (theta: Float64Array, grad: Float64Array) => number {
  const { d, h, k } = shape;
  const oB1 = d * h;
  const oW2 = oB1 + h;
  const oB2 = oW2 + h * k;
  const a = new Float64Array(h);
  const z = new Float64Array(k);
  const dr = new Float64Array(h);
  // 'logits': targets are the answers' centred log-probabilities (floored at LOG_FLOOR).
  const target = new Float64Array(n * k);
  if (loss === 'logits') {
    for (let i = 0; i < n; i++) {
      let m = 0;
      for (let c = 0; c < k; c++) m += target[i * k + c] = Math.log(Math.max(soft[i * k + c], LOG_FLOOR));
      for (let c = 0; c < k; c++) target[i * k + c] -= m / k;
    }
  }
  const logits = loss === 'logits';
  return (theta, grad) => {
    grad.fill(0);
    let total = 0;
    for (let i = 0; i < n; i++) {
      const xo = i * d;
      for (let u = 0; u < h; u++) a[u] = theta[oB1 + u];
      for (let j = 0; j < d; j++) {
        const v = x[xo + j];
        const wo = j * h;
        for (let u = 0; u < h; u++) a[u] += v * theta[wo + u];
      }
      for (let c = 0; c < k; c++) z[c] = theta[oB2 + c];
      for (let u = 0; u < h; u++) {
        const r = a[u] > 0 ? a[u] : 0;
        if (r === 0) continue;
        const wo = oW2 + u * k;
        for (let c = 0; c < k; c++) z[c] += r * theta[wo + c];
      }
      if (logits) {
        // z <- dLoss/dz = 2 r, r = centred logits - target (r sums to 0, so centring needs no extra term).
        let m = 0;
        for (let c = 0; c < k; c++) m += z[c];
        m /= k;
        for (let c = 0; c < k; c++) {
          const r = z[c] - m - target[i * k + c];
          total += r * r;
          z[c] = 2 * r;
          grad[oB2 + c] += z[c];
        }
      } else {
        let mx = -Infinity;
        for (let c = 0; c < k; c++) if (z[c] > mx) mx = z[c];
        let s = 0;
        for (let c = 0; c < k; c++) s += Math.exp(z[c] - mx);
        const logS = Math.log(s) + mx;
        // z <- dLoss/dz = p - t.
        for (let c = 0; c < k; c++) {
          const t = soft[i * k + c];
          const lp = z[c] - logS;
          if (t > 0) total -= t * lp;
          z[c] = Math.exp(lp) - t;
          grad[oB2 + c] += z[c];
        }
      }
      for (let u = 0; u < h; u++) {
        dr[u] = 0;
        if (!(a[u] > 0)) continue;
        const r = a[u];
        const wo = oW2 + u * k;
        let g = 0;
        for (let c = 0; c < k; c++) {
          grad[wo + c] += r * z[c];
          g += theta[wo + c] * z[c];
        }
        dr[u] = g;
        grad[oB1 + u] += g;
      }
      for (let j = 0; j < d; j++) {
        const v = x[xo + j];
        if (v === 0) continue;
        const wo = j * h;
        for (let u = 0; u < h; u++) grad[wo + u] += v * dr[u];
      }
    }
    const inv = 1 / n;
    for (let i = 0; i < grad.length; i++) grad[i] *= inv;
    return total * inv;
  };
}

export interface MlpFitOptions {
  readonly maxIterations?: number;
  readonly restarts?: number;
  readonly loss?: MlpLoss;
  readonly rng: Rng;
}

export interface MlpFit {
  readonly spec: NetworkSpec;
  readonly loss: number;
  readonly iterations: number;
  readonly restartLosses: readonly number[];
}

/** Fits the MLP to soft targets ([n, k] rows summing to 1) on inputs x ([n, d]). */
export function fitMlp(
  x: Float32Array,
  soft: Float64Array,
  n: number,
  shape: MlpShape,
  options: MlpFitOptions,
): MlpFit {
  const { d, h, k } = shape;
  if (n < 1) throw new HeistError('HEIST_ERR_EMPTY_BATCH', 'cannot fit an MLP on zero rows');
  const mu = new Float64Array(d);
  const sd = new Float64Array(d);
  for (let i = 0; i < n; i++) for (let j = 0; j < d; j++) mu[j] += x[i * d + j] / n;
  for (let i = 0; i < n; i++) for (let j = 0; j < d; j++) sd[j] += (x[i * d + j] - mu[j]) ** 2 / n;
  for (let j = 0; j < d; j++) sd[j] = sd[j] > 0 ? Math.sqrt(sd[j]) : 1;
  const xs = new Float64Array(n * d);
  for (let i = 0; i < n; i++) for (let j = 0; j < d; j++) xs[i * d + j] = (x[i * d + j] - mu[j]) / sd[j];
  const f = mlpObjective(xs, soft, n, shape, options.loss);
  const P = mlpUnknowns(shape);
  let best: { theta: Float64Array; loss: number } | undefined;
  let iterations = 0;
  const losses: number[] = [];
  for (let r = 0; r < Math.max(1, options.restarts ?? 1); r++) {
    const rng = options.rng.fork(`restart-${r}`);
    const init = new Float64Array(P);
    const l1 = Math.sqrt(6 / d);
    const l2 = Math.sqrt(6 / (h + k));
    for (let i = 0; i < d * h; i++) init[i] = rng.uniform(-l1, l1);
    for (let i = d * h + h; i < d * h + h + h * k; i++) init[i] = rng.uniform(-l2, l2);
    const res = lbfgs(f, init, {
      maxIterations: options.maxIterations ?? 2000,
      gradTolerance: 1e-10,
      relativeTolerance: 1e-14,
    });
    iterations += res.iterations;
    losses.push(res.loss);
    if (!best || res.loss < best.loss) best = { theta: res.theta, loss: res.loss };
  }
  // Back to input units: W1 = W1' / sd, b1 = b1' - mu W1.
  const t = best!.theta;
  const kernel1 = new Float32Array(d * h);
  const bias1 = new Float64Array(h);
  for (let u = 0; u < h; u++) bias1[u] = t[d * h + u];
  for (let j = 0; j < d; j++) {
    for (let u = 0; u < h; u++) {
      const w = t[j * h + u] / sd[j];
      kernel1[j * h + u] = w;
      bias1[u] -= w * mu[j];
    }
  }
  const o2 = d * h + h;
  const spec: NetworkSpec = {
    inputShape: [d],
    classes: k,
    layers: [
      { type: 'dense', inputs: d, units: h, kernel: kernel1, bias: Float32Array.from(bias1) },
      { type: 'relu' },
      {
        type: 'dense',
        inputs: h,
        units: k,
        kernel: Float32Array.from(t.subarray(o2, o2 + h * k)),
        bias: Float32Array.from(t.subarray(o2 + h * k)),
      },
      { type: 'softmax' },
    ],
  };
  return { spec, loss: best!.loss, iterations, restartLosses: losses };
}
