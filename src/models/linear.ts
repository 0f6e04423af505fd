/**
 * @file Softmax regression as a plain-TS Predictor: p = softmax(x W + b), W [d, k] row-major,
 * b [k]. Ground truth for gateway tests and the output of exact (equation-solving) extraction.
 * Accumulates in float64; serves float32 like every Tensor.
 */
import { HeistError } from '../core/errors.js';
import {
  type DifferentiablePredictor,
  type InputDomain,
  type ModelInfo,
  type Prediction,
  inputSize,
  labelPrediction,
  probsPrediction,
} from '../core/prediction.js';
import type { Rng } from '../core/rng.js';
import { type Tensor, argmaxRows, rowCount, rowSize } from '../core/tensor.js';

export interface LinearModelOptions {
  readonly name?: string;
  /** [d, k] row-major (d*k values), or d rows of k numbers. */
  readonly weights: Float32Array | readonly (readonly number[])[];
  readonly bias: Float32Array | readonly number[];
  /** Defaults to [d]; its product must equal d. */
  readonly inputShape?: readonly number[];
  readonly classNames?: readonly string[];
  readonly domain?: InputDomain;
  /** 'probs' (default) or 'label' (a label-only model). */
  readonly output?: 'probs' | 'label';
}

export interface LinearModel extends DifferentiablePredictor {
  /** [d * k] row-major. */
  readonly weights: Float32Array;
  readonly bias: Float32Array;
  /** x W + b, shape [n, k]. */
  logits(x: Tensor): Tensor;
}

function flatten(w: LinearModelOptions['weights'], k: number): { data: Float32Array; d: number } {
  if (w instanceof Float32Array) {
    if (k === 0 || w.length % k !== 0)
      throw new HeistError('HEIST_ERR_BAD_MODEL', `weights have ${w.length} values, not a multiple of ${k} classes`);
    return { data: w.slice(), d: w.length / k };
  }
  const data = new Float32Array(w.length * k);
  w.forEach((r, i) => {
    if (r.length !== k)
      throw new HeistError('HEIST_ERR_BAD_MODEL', `weight row ${i} has ${r.length} values, expected ${k}`);
    data.set(r, i * k);
  });
  return { data, d: w.length };
}

export function linearModel(options: LinearModelOptions): LinearModel {
  const bias = Float32Array.from(options.bias);
  const k = bias.length;
  if (k < 2) throw new HeistError('HEIST_ERR_BAD_MODEL', `a classifier needs at least 2 classes, got ${k}`);
  const { data: weights, d } = flatten(options.weights, k);
  if (d < 1) throw new HeistError('HEIST_ERR_BAD_MODEL', 'weights have no input dimension');
  const inputShape = [...(options.inputShape ?? [d])];
  if (inputSize({ inputShape }) !== d) {
    throw new HeistError('HEIST_ERR_BAD_MODEL', `inputShape [${inputShape.join(', ')}] does not have ${d} values`);
  }
  if (options.classNames && options.classNames.length !== k) {
    throw new HeistError('HEIST_ERR_BAD_MODEL', `${options.classNames.length} class names for ${k} classes`);
  }
  const output = options.output ?? 'probs';
  const info: ModelInfo = {
    name: options.name ?? 'linear',
    inputShape,
    classes: k,
    classNames: options.classNames ? [...options.classNames] : undefined,
    output,
    domain: options.domain ?? { min: 0, max: 1 },
  };

  function check(x: Tensor): number {
    if (rowSize(x) !== d || x.data.length !== rowCount(x) * d) {
      throw new HeistError(
        'HEIST_ERR_SHAPE',
        `linear model "${info.name}" needs rows of ${d} values, got shape [${x.shape.join(', ')}]`,
      );
    }
    return rowCount(x);
  }

  /** Writes float64 logits of every row into a [n, k] array. */
  function logits64(x: Tensor): Float64Array {
    const n = check(x);
    const out = new Float64Array(n * k);
    const xs = x.data;
    for (let i = 0; i < n; i++) {
      const o = i * k;
      for (let c = 0; c < k; c++) out[o + c] = bias[c];
      for (let j = 0; j < d; j++) {
        const v = xs[i * d + j];
        if (v === 0) continue;
        const w = j * k;
        for (let c = 0; c < k; c++) out[o + c] += v * weights[w + c];
      }
    }
    return out;
  }

  /** Softmax of the float64 logits, in place; returns them. */
  function softmax64(z: Float64Array, n: number): Float64Array {
    for (let i = 0; i < n; i++) {
      const o = i * k;
      let m = -Infinity;
      for (let c = 0; c < k; c++) if (z[o + c] > m) m = z[o + c];
      let s = 0;
      for (let c = 0; c < k; c++) {
        const e = Math.exp(z[o + c] - m);
        z[o + c] = e;
        s += e;
      }
      for (let c = 0; c < k; c++) z[o + c] /= s;
    }
    return z;
  }

  return {
    info,
    weights,
    bias,
    logits(x) {
      return { data: Float32Array.from(logits64(x)), shape: [rowCount(x), k] };
    },
    predict(x): Prediction {
      const n = rowCount(x);
      const scores: Tensor = { data: Float32Array.from(softmax64(logits64(x), n)), shape: [n, k] };
      return output === 'label' ? labelPrediction(argmaxRows(scores)) : probsPrediction(scores);
    },
    /** d CE / d x_i = W (p_i - t_i): the cross-entropy's gradient at the logits, back through W. */
    async inputGradients(x, targets) {
      const n = rowCount(x);
      if (targets.data.length !== n * k)
        throw new HeistError('HEIST_ERR_SHAPE', `targets must be [${n}, ${k}], got [${targets.shape.join(', ')}]`);
      const p = softmax64(logits64(x), n);
      const out = new Float32Array(n * d);
      for (let i = 0; i < n; i++)
        for (let j = 0; j < d; j++) {
          let s = 0;
          for (let c = 0; c < k; c++) s += weights[j * k + c] * (p[i * k + c] - targets.data[i * k + c]);
          out[i * d + j] = s;
        }
      return { data: out, shape: [...x.shape] };
    },
  };
}

/** A linear model with N(0, scale^2) weights and biases, for tests and benchmarks. */
export function randomLinearModel(
  rng: Rng,
  d: number,
  k: number,
  options: Omit<LinearModelOptions, 'weights' | 'bias'> & { readonly scale?: number } = {},
): LinearModel {
  const scale = options.scale ?? 1;
  const weights = Float32Array.from({ length: d * k }, () => rng.normal() * scale);
  const bias = Float32Array.from({ length: k }, () => rng.normal() * scale);
  return linearModel({ ...options, weights, bias });
}
