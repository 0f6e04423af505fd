/**
 * @file Prediction poisoning by Maximizing Angular Deviation (MAD): two transform stages, `mad` and
 * `mad-argmax`, that serve each probability vector y perturbed within an L1 ball so that the
 * gradient an attacker would train on points away from the true one. With G the Jacobian of the
 * log-probabilities of a proxy for the attacker's model (one row per class, over all its parameters)
 * at the query x, the objective is || unit(G^T y~) - unit(G^T y) ||^2 (a zero vector's unit is taken
 * as 0). The paper's heuristic: pick the simplex vertex y* maximising the objective, then serve
 * y~ = (1 - a) y + a y* with a = min(1, epsilon / ||y* - y||_1), so ||y~ - y||_1 <= epsilon.
 * `mad` searches the one-hot vertices e_k and CAN CHANGE THE TOP-1 LABEL (served label: the argmax
 * of the served vector, lower class id on ties; `changesLabels: true`). `mad-argmax` CANNOT: as in
 * the authors' code, its vertices spread the mass evenly over a set of classes that contains the
 * model's top class t, with t up-weighted by 1e-5 (every subset for up to 10 classes, else a greedy
 * growth of the set, one class at a time), so t stays the strict argmax of y~; the served float32
 * row is checked with `argmaxRows`' rule and served unperturbed in the rare case rounding would tie
 * it away from t. The label served is the incoming one.
 * Proxy: the paper uses the attacker's architecture, randomly initialised, and the authors' code
 * takes G over its last layer's weights only. Here the proxy is a small MLP over the flattened input
 * row (d -> proxyHidden -> classes, ReLU, softmax; proxyHidden 0: a linear softmax model),
 * initialised like PyTorch's Linear (weights and biases uniform in +-1/sqrt(fan_in)) from
 * createRng(proxySeed) once the input size is known, and G covers all its parameters. The Gram
 * matrix <G^T e_j, G^T e_k> is computed in closed form without materialising G: with
 * delta_k = e_k - p (p the proxy's probabilities), r the hidden activations, m their ReLU mask and
 * v_k = m . (W2^T delta_k), it is (||r||^2 + 1) delta_j . delta_k + (||x||^2 + 1) v_j . v_k (the first
 * term from the last layer's weights and bias, the second from the first layer's).
 * No randomness at serve time (the proxy is fixed by its seed): identical inputs get identical
 * answers. Computed in float64 per row, served as float32. Logits and label-only answers pass
 * through unchanged; a row with a negative or non-finite value is served as it came.
 * Measured on the digits-mlp victim (default proxy: 64 hidden units, seed 0): a soft-label steal of
 * 449 queries (pool digits-mlp, seed 0, trained at temperature 1 on the answers as bought) scored
 * on the 450 evaluation rows, fidelity being agreement with the labels served; distortion and
 * top-1 kept over the 450 evaluation rows. Undefended: clone accuracy 0.9444, fidelity 0.9422,
 * attacker error 0.0556. For epsilon = 0.1 / 0.5 / 1.0 / 1.5 / 2.0:
 *   mad:        clone accuracy 0.9444 / 0.9067 / 0.6200 / 0.0911 / 0.0089, fidelity 0.9378 / 0.9111 /
 *               0.2022 / 0.5844 / 0.6222, attacker error 0.0556 / 0.0933 / 0.3800 / 0.9089 / 0.9911,
 *               mean L1 0.100 / 0.500 / 1.000 / 1.500 / 1.998, top-1 kept 450 / 450 / 0 / 0 / 0 of 450
 *               (from epsilon 1 the confident winner is overtaken on every row);
 *   mad-argmax: clone accuracy 0.9444 / 0.9444 / 0.9222 / 0.8689 / 0.1089, fidelity 0.9422 / 0.9400 /
 *               0.9311 / 0.8778 / 0.1067, attacker error 0.0556 / 0.0556 / 0.0778 / 0.1311 / 0.8911,
 *               mean L1 0.100 / 0.500 / 1.000 / 1.497 / 1.738, top-1 kept 450 / 450 / 450 / 450 / 450;
 *               at 1.6 / 1.7 / 1.8 the attacker error is 0.2622 / 0.4444 / 0.8911 (from 1.8 on, these
 *               confident rows are served their vertex itself, ||y* - y||_1 being about
 *               2 (1 - 1/|set|) <= 1.8: the same answers as at 2).
 * So mad-argmax keeps every honest top-1 label and multiplies the soft-label attacker's error by 10
 * or more (16.0x) from epsilon 1.8, not below (8.0x at 1.7). The price: the served vector is then
 * close to uniform over a set of classes with the top class ahead by about 1e-6, and a hard-label
 * (argmax) steal is not slowed at all (clone accuracy 0.9311 with and without), as for any defense
 * that keeps labels.
 * @see T. Orekondy, B. Schiele, M. Fritz, "Prediction Poisoning: Towards Defenses Against DNN Model Stealing Attacks", ICLR 2020, arXiv:1906.10908 (and the authors' defenses/victim/bb_mad.py).
 */
import { z } from 'zod';
import { HeistError } from '../core/errors.js';
import type { Prediction } from '../core/prediction.js';
import { createRng } from '../core/rng.js';
import { type Tensor, argmaxRows, rowCount, rowSize } from '../core/tensor.js';
import type { Defense, DefenseEntry } from './types.js';

export interface MadOptions {
  /** The L1 budget ||y~ - y||_1 <= epsilon, in (0, 2]. */
  readonly epsilon: number;
  /** Hidden width of the proxy MLP (0: a linear softmax proxy). Default 64. */
  readonly proxyHidden?: number;
  /** Seed of the proxy's random initialisation (an unsigned 32-bit integer). Default 0. */
  readonly proxySeed?: number;
}

export type MadVariant = 'mad' | 'mad-argmax';

/** A randomly initialised proxy: z1 = W1 x + b1, r = relu(z1), z2 = W2 r + b2 (hidden 0: z2 = W2 x + b2). */
export interface MadProxy {
  readonly inputs: number;
  readonly hidden: number;
  readonly classes: number;
  /** [hidden, inputs] row-major (empty when hidden is 0). */
  readonly w1: Float64Array;
  readonly b1: Float64Array;
  /** [classes, hidden] row-major, or [classes, inputs] when hidden is 0. */
  readonly w2: Float64Array;
  readonly b2: Float64Array;
}

/** The up-weight of the top class in mad-argmax's vertices (the authors' value). */
export const ARGMAX_UPWEIGHT = 1e-5;
/** Up to this many classes mad-argmax tries every vertex set; above, it grows the set greedily. */
export const EXHAUSTIVE_MAX_CLASSES = 10;
/** A direction G^T a is taken as 0 when ||G^T a||^2 is below this share of the Gram trace. */
const ZERO_SHARE = 1e-24;
const DEFAULT_HIDDEN = 64;
const MAX_HIDDEN = 4096;

function uniformFill(n: number, bound: number, next: () => number): Float64Array {
  const out = new Float64Array(n);
  for (let i = 0; i < n; i++) out[i] = (2 * next() - 1) * bound;
  return out;
}

/** The proxy for `inputs` features and `classes` classes, drawn from createRng(seed): W1, b1, W2, b2 in that order. */
export function createMadProxy(inputs: number, classes: number, hidden: number, seed: number): MadProxy {
  const rng = createRng(seed);
  const next = () => rng.next();
  if (hidden === 0) {
    const bound = 1 / Math.sqrt(Math.max(inputs, 1));
    const w2 = uniformFill(classes * inputs, bound, next);
    return {
      inputs,
      hidden,
      classes,
      w1: new Float64Array(0),
      b1: new Float64Array(0),
      w2,
      b2: uniformFill(classes, bound, next),
    };
  }
  const bound1 = 1 / Math.sqrt(Math.max(inputs, 1));
  const w1 = uniformFill(hidden * inputs, bound1, next);
  const b1 = uniformFill(hidden, bound1, next);
  const bound2 = 1 / Math.sqrt(hidden);
  const w2 = uniformFill(classes * hidden, bound2, next);
  return { inputs, hidden, classes, w1, b1, w2, b2: uniformFill(classes, bound2, next) };
}

/**
 * The class Gram matrix Q ([classes, classes] row-major) of the proxy at input row x:
 * Q[j, k] = <d log p_j / dw, d log p_k / dw> over every parameter w, so <G^T a, G^T b> = a^T Q b.
 */
export function madGram(proxy: MadProxy, x: ArrayLike<number>): Float64Array {
  const { inputs: d, hidden: h, classes: K, w1, b1, w2, b2 } = proxy;
  let xx = 1; // ||x||^2 + 1: the first layer's weights (x) and bias (1)
  for (let i = 0; i < d; i++) xx += x[i] * x[i];
  const width = h === 0 ? d : h;
  const r = new Float64Array(width);
  const mask = new Uint8Array(width);
  if (h === 0) for (let i = 0; i < d; i++) r[i] = x[i];
  else {
    for (let u = 0; u < h; u++) {
      let z = b1[u];
      for (let i = 0; i < d; i++) z += w1[u * d + i] * x[i];
      mask[u] = z > 0 ? 1 : 0;
      r[u] = z > 0 ? z : 0;
    }
  }
  let rr = 1; // ||r||^2 + 1: the last layer's weights (r) and bias (1)
  for (let u = 0; u < width; u++) rr += r[u] * r[u];
  // p = softmax(W2 r + b2), stable.
  const p = new Float64Array(K);
  let top = -Infinity;
  for (let k = 0; k < K; k++) {
    let z = b2[k];
    for (let u = 0; u < width; u++) z += w2[k * width + u] * r[u];
    p[k] = z;
    if (z > top) top = z;
  }
  let sum = 0;
  for (let k = 0; k < K; k++) {
    p[k] = Math.exp(p[k] - top);
    sum += p[k];
  }
  let pp = 0;
  for (let k = 0; k < K; k++) {
    p[k] /= sum;
    pp += p[k] * p[k];
  }
  const q = new Float64Array(K * K);
  // Last layer: delta_j . delta_k with delta_k = e_k - p.
  const c1 = h === 0 ? xx : rr;
  for (let j = 0; j < K; j++) for (let k = 0; k < K; k++) q[j * K + k] = c1 * ((j === k ? 1 : 0) - p[j] - p[k] + pp);
  if (h === 0) return q;
  // First layer: v_k = mask . (W2^T delta_k) = mask . (W2[k, :] - W2^T p).
  const wp = new Float64Array(h);
  for (let k = 0; k < K; k++) for (let u = 0; u < h; u++) wp[u] += p[k] * w2[k * h + u];
  const v = new Float64Array(K * h);
  for (let k = 0; k < K; k++) for (let u = 0; u < h; u++) v[k * h + u] = mask[u] ? w2[k * h + u] - wp[u] : 0;
  for (let j = 0; j < K; j++) {
    for (let k = j; k < K; k++) {
      let s = 0;
      for (let u = 0; u < h; u++) s += v[j * h + u] * v[k * h + u];
      q[j * K + k] += xx * s;
      if (k !== j) q[k * K + j] += xx * s;
    }
  }
  return q;
}

function quad(q: Float64Array, K: number, a: ArrayLike<number>, b: ArrayLike<number>): number {
  let s = 0;
  for (let j = 0; j < K; j++) {
    if (a[j] === 0) continue;
    let t = 0;
    for (let k = 0; k < K; k++) t += q[j * K + k] * b[k];
    s += a[j] * t;
  }
  return s;
}

function trace(q: Float64Array, K: number): number {
  let s = 0;
  for (let k = 0; k < K; k++) s += q[k * K + k];
  return s;
}

/** ||unit(G^T a) - unit(G^T y)||^2 from the squared norms and inner product (unit(0) = 0). */
function deviation(aa: number, yy: number, ay: number, zero: number): number {
  const aNonZero = aa > zero;
  const yNonZero = yy > zero;
  const cos = aNonZero && yNonZero ? Math.min(1, Math.max(-1, ay / Math.sqrt(aa * yy))) : 0;
  return (aNonZero ? 1 : 0) + (yNonZero ? 1 : 0) - 2 * cos;
}

/** The MAD objective ||unit(G^T a) - unit(G^T y)||^2 for class vectors a, y, given the Gram matrix Q of G. */
export function madObjective(gram: Float64Array, classes: number, a: ArrayLike<number>, y: ArrayLike<number>): number {
  const zero = ZERO_SHARE * trace(gram, classes);
  return deviation(quad(gram, classes, a, a), quad(gram, classes, y, y), quad(gram, classes, a, y), zero);
}

/** The lowest class id among the row's largest values (argmaxRows' rule). */
function topClass(y: ArrayLike<number>, K: number): number {
  let best = 0;
  for (let k = 1; k < K; k++) if (y[k] > y[best]) best = k;
  return best;
}

export interface MadRowResult {
  /** The chosen vertex y* (a distribution). */
  readonly vertex: Float64Array;
  /** Its objective against y. */
  readonly vertexObjective: number;
  /** The step a in [0, 1]: y~ = (1 - a) y + a y*. */
  readonly alpha: number;
  /** y~ in float64. */
  readonly served: Float64Array;
}

/** mad: the one-hot vertex of largest objective (lower class id on ties). */
function oneHotVertex(q: Float64Array, K: number, qy: Float64Array, yy: number, zero: number): [Float64Array, number] {
  let best = 0;
  let bestVal = -Infinity;
  for (let k = 0; k < K; k++) {
    const val = deviation(q[k * K + k], yy, qy[k], zero);
    if (val > bestVal) {
      bestVal = val;
      best = k;
    }
  }
  const vertex = new Float64Array(K);
  vertex[best] = 1;
  return [vertex, bestVal];
}

/** The objective of the vertex spreading mass evenly over `set` (which holds t), t up-weighted. */
function setObjective(
  sQs: number,
  qsT: number,
  sQy: number,
  size: number,
  t: number,
  q: Float64Array,
  K: number,
  qy: Float64Array,
  yy: number,
  zero: number,
): number {
  // w = (1_set + eta e_t) / (size + eta): expand w^T Q w and w^T Q y around the indicator's terms.
  const eta = ARGMAX_UPWEIGHT;
  const den = size + eta;
  const ww = (sQs + 2 * eta * qsT + eta * eta * q[t * K + t]) / (den * den);
  const wy = (sQy + eta * qy[t]) / den;
  return deviation(ww, yy, wy, zero);
}

function setVertex(members: readonly number[], t: number, K: number): Float64Array {
  const v = new Float64Array(K);
  const den = members.length + ARGMAX_UPWEIGHT;
  for (const k of members) v[k] = 1 / den;
  v[t] = (1 + ARGMAX_UPWEIGHT) / den;
  return v;
}

/** mad-argmax: the best set vertex holding t, by trying every set (small K) or growing one greedily. */
function argmaxVertex(
  q: Float64Array,
  K: number,
  t: number,
  qy: Float64Array,
  yy: number,
  zero: number,
): [Float64Array, number] {
  const others = Array.from({ length: K }, (_, k) => k).filter((k) => k !== t);
  let bestSet: number[] = [t];
  let bestVal = -Infinity;
  if (K <= EXHAUSTIVE_MAX_CLASSES) {
    for (let mask = 0; mask < 1 << others.length; mask++) {
      const set = [t, ...others.filter((_, i) => mask & (1 << i))];
      let sQs = 0;
      let qsT = 0;
      let sQy = 0;
      for (const j of set) {
        for (const k of set) sQs += q[j * K + k];
        qsT += q[t * K + j];
        sQy += qy[j];
      }
      const val = setObjective(sQs, qsT, sQy, set.length, t, q, K, qy, yy, zero);
      if (val > bestVal) {
        bestVal = val;
        bestSet = set;
      }
    }
    return [setVertex(bestSet, t, K), bestVal];
  }
  // Greedy, as the authors do for many classes: add the class that scores best, keep the best set seen.
  const set = [t];
  const qs = Float64Array.from({ length: K }, (_, k) => q[k * K + t]); // Q 1_set
  let sQs = q[t * K + t];
  let sQy = qy[t];
  bestVal = setObjective(sQs, qs[t], sQy, 1, t, q, K, qy, yy, zero);
  const left = new Set(others);
  while (left.size > 0) {
    let pick = -1;
    let pickVal = -Infinity;
    for (const k of left) {
      const val = setObjective(
        sQs + 2 * qs[k] + q[k * K + k],
        qs[t] + q[t * K + k],
        sQy + qy[k],
        set.length + 1,
        t,
        q,
        K,
        qy,
        yy,
        zero,
      );
      if (val > pickVal) {
        pickVal = val;
        pick = k;
      }
    }
    sQs += 2 * qs[pick] + q[pick * K + pick];
    for (let j = 0; j < K; j++) qs[j] += q[j * K + pick];
    sQy += qy[pick];
    set.push(pick);
    left.delete(pick);
    if (pickVal > bestVal) {
      bestVal = pickVal;
      bestSet = [...set];
    }
  }
  return [setVertex(bestSet, t, K), bestVal];
}

/** One row: the vertex, the step and y~, for the Gram matrix of the proxy at the row's input. */
export function madRow(gram: Float64Array, y: ArrayLike<number>, epsilon: number, variant: MadVariant): MadRowResult {
  const K = y.length;
  const zero = ZERO_SHARE * trace(gram, K);
  const qy = new Float64Array(K);
  for (let j = 0; j < K; j++) for (let k = 0; k < K; k++) qy[j] += gram[j * K + k] * y[k];
  let yy = 0;
  for (let j = 0; j < K; j++) yy += y[j] * qy[j];
  const [vertex, vertexObjective] =
    variant === 'mad' ? oneHotVertex(gram, K, qy, yy, zero) : argmaxVertex(gram, K, topClass(y, K), qy, yy, zero);
  let dist = 0;
  for (let k = 0; k < K; k++) dist += Math.abs(vertex[k] - y[k]);
  const alpha = dist > 0 ? Math.min(1, epsilon / dist) : 0;
  const served = new Float64Array(K);
  for (let k = 0; k < K; k++) served[k] = (1 - alpha) * y[k] + alpha * vertex[k];
  return { vertex, vertexObjective, alpha, served };
}

function proxyFor(cache: Map<string, MadProxy>, d: number, K: number, hidden: number, seed: number): MadProxy {
  const key = `${d}x${K}`;
  let proxy = cache.get(key);
  if (!proxy) {
    proxy = createMadProxy(d, K, hidden, seed);
    cache.set(key, proxy);
  }
  return proxy;
}

/** Each row of `scores` ([n, classes] probabilities) perturbed by MAD against `proxy` at `inputs`' rows. */
export function madRows(
  proxy: MadProxy,
  inputs: Tensor,
  scores: Tensor,
  epsilon: number,
  variant: MadVariant,
): Float32Array {
  const n = rowCount(scores);
  const K = rowSize(scores);
  const d = rowSize(inputs);
  const out = Float32Array.from(scores.data);
  for (let i = 0; i < n; i++) {
    const y = scores.data.subarray(i * K, (i + 1) * K);
    if (!y.every((v) => Number.isFinite(v) && v >= 0)) continue;
    const { served } = madRow(madGram(proxy, inputs.data.subarray(i * d, (i + 1) * d)), y, epsilon, variant);
    const row = Float32Array.from(served);
    // mad-argmax: the served float32 row must keep t as its argmax under argmaxRows' rule exactly.
    if (variant === 'mad-argmax' && topClass(row, K) !== topClass(y, K)) continue;
    out.set(row, i * K);
  }
  return out;
}

function checkOptions(name: MadVariant, o: MadOptions): { epsilon: number; hidden: number; seed: number } {
  const { epsilon } = o;
  const hidden = o.proxyHidden ?? DEFAULT_HIDDEN;
  const seed = o.proxySeed ?? 0;
  if (!Number.isFinite(epsilon) || epsilon <= 0 || epsilon > 2)
    throw new HeistError('HEIST_ERR_BAD_CONFIG', `${name}: epsilon must be in (0, 2], got ${epsilon}`);
  if (!Number.isInteger(hidden) || hidden < 0 || hidden > MAX_HIDDEN)
    throw new HeistError('HEIST_ERR_BAD_CONFIG', `${name}: proxyHidden must be an integer in [0, ${MAX_HIDDEN}]`);
  if (!Number.isInteger(seed) || seed < 0 || seed > 0xffffffff)
    throw new HeistError('HEIST_ERR_BAD_CONFIG', `${name}: proxySeed must be an unsigned 32-bit integer`);
  return { epsilon, hidden, seed };
}

/** The `mad` or `mad-argmax` stage. */
export function mad(options: MadOptions, variant: MadVariant = 'mad'): Defense {
  const { epsilon, hidden, seed } = checkOptions(variant, options);
  const proxies = new Map<string, MadProxy>(); // one per input size and class count
  return {
    name: variant,
    requires: { scores: true },
    transform(ctx, out): Prediction {
      if (!out.scores || out.kind === 'label' || out.kind === 'logits') return out;
      const K = out.scores.shape[1] ?? 0;
      const proxy = proxyFor(proxies, rowSize(ctx.inputs), K, hidden, seed);
      const scores = { data: madRows(proxy, ctx.inputs, out.scores, epsilon, variant), shape: [...out.scores.shape] };
      return variant === 'mad' ? { ...out, labels: argmaxRows(scores), scores } : { ...out, scores };
    },
  };
}

const PAPER =
  'T. Orekondy, B. Schiele, M. Fritz, "Prediction Poisoning: Towards Defenses Against DNN Model Stealing Attacks", ICLR 2020, arXiv:1906.10908';

const optionsSchema = z
  .object({
    epsilon: z.number().finite().gt(0).max(2),
    proxyHidden: z.number().int().min(0).max(MAX_HIDDEN).default(DEFAULT_HIDDEN),
    proxySeed: z.number().int().min(0).max(0xffffffff).default(0),
  })
  .strict();

export const madEntry: DefenseEntry<MadOptions> = {
  name: 'mad',
  summary: 'poison served probabilities to deflect an attacker gradient within an L1 budget (may change the label)',
  paper: PAPER,
  options: optionsSchema,
  example: { epsilon: 0.5 },
  phases: ['transform'],
  changesLabels: true,
  create: (o) => mad(o, 'mad'),
};

export const madArgmaxEntry: DefenseEntry<MadOptions> = {
  name: 'mad-argmax',
  summary: "MAD prediction poisoning that keeps each served top-1 label the model's own",
  paper: PAPER,
  options: optionsSchema,
  example: { epsilon: 0.5 },
  phases: ['transform'],
  changesLabels: false,
  create: (o) => mad(o, 'mad-argmax'),
};
