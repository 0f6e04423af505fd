/**
 * @file Equation solving against an API that rounds its probabilities (Tramèr et al.'s rounding
 * countermeasure, e.g. BigML's 5 decimals), from the attacker's side.
 *
 * Rounding to `decimals` places moves each probability by up to q / 2 (q = 10^-decimals), so
 * log p_c carries an error of about q / (2 p_c): tiny for the top class, large for a probability
 * only a few quanta above zero, and unbounded for one that rounds to 0 (only p_c < q / 2 is known).
 * The attack therefore
 *   0. queries sparse random rows by default (sparse-rows.ts): on uniform rows some classes of the
 *      digits model never rise above a few quanta, and their weights are then poorly determined,
 *   1. detects q from the answers (the coarsest grid every answer lies on; 0 = not rounded),
 *   2. writes, per row i with top class r, one equation per other class c whose answer is not 0:
 *        (w_c - w_r) · x_i + (b_c - b_r) = log p_c - log p_r,
 *      dropping the classes that rounded to 0 (their equations would be biased, not just noisy),
 *   3. weights each equation by the inverse of its rounding variance, q^2 / 12 · (1/p_c^2 + 1/p_r^2)
 *      (plus float32 noise), and solves the joint weighted least-squares system over all
 *      (k - 1)(d + 1) unknowns (class 0 fixed to zero) through its normal equations (Cholesky).
 * Using the row's own top class as the reference keeps the best-known probability in every equation;
 * more rows than d + 1 average the rounding noise away. Unrounded answers reduce to plain equation
 * solving. A class that never gets a usable equation keeps zero weights (counted in the notes).
 * @see F. Tramèr, F. Zhang, A. Juels, M. K. Reiter, T. Ristenpart, "Stealing Machine Learning Models via Prediction APIs", USENIX Security 2016, arXiv:1609.02943, §4.1 (equation solving) and §8 (rounding confidences as a countermeasure).
 */
import { HeistError } from '../../../core/errors.js';
import { inputSize } from '../../../core/prediction.js';
import { tensor } from '../../../core/tensor.js';
import { linearModel } from '../../../models/linear.js';
import type { Oracle } from '../../../oracle/types.js';
import { designRows } from '../solvers/design-rows.js';
import { sparseRows } from '../solvers/sparse-rows.js';
import {
  type ExtractOptions,
  type ExtractResult,
  type Extractor,
  type LinearWeights,
  extractorEntry,
} from '../types.js';
import { z } from 'zod';

const F32_REL = 2 ** -24;
/** Decimals searched when detecting the rounding grid (float32 cannot show a finer grid reliably). */
const MAX_DECIMALS = 6;

/** The coarsest decimal grid (0..6 places) every score lies on, or undefined when the scores are not rounded. */
export function detectDecimals(scores: ArrayLike<number>): number | undefined {
  for (let D = 0; D <= MAX_DECIMALS; D++) {
    const s = 10 ** D;
    let ok = true;
    for (let i = 0; i < scores.length && ok; i++) {
      const v = scores[i] * s;
      ok = Math.abs(v - Math.round(v)) <= 4 * F32_REL * Math.abs(v) + 1e-9;
    }
    if (ok) return D;
  }
  return undefined;
}

/** Solves the symmetric positive-definite system a x = b in place (Cholesky); a is n x n row-major. */
function choleskySolve(a: Float64Array, b: Float64Array, n: number): Float64Array {
  for (let j = 0; j < n; j++) {
    let s = a[j * n + j];
    for (let t = 0; t < j; t++) s -= a[j * n + t] * a[j * n + t];
    if (!(s > 0))
      throw new HeistError(
        'HEIST_ERR_INTERNAL',
        'rounded equation solving: the normal equations are not positive definite',
      );
    const l = Math.sqrt(s);
    a[j * n + j] = l;
    for (let i = j + 1; i < n; i++) {
      let v = a[i * n + j];
      for (let t = 0; t < j; t++) v -= a[i * n + t] * a[j * n + t];
      a[i * n + j] = v / l;
    }
  }
  const y = Float64Array.from(b);
  for (let i = 0; i < n; i++) {
    let v = y[i];
    for (let t = 0; t < i; t++) v -= a[i * n + t] * y[t];
    y[i] = v / a[i * n + i];
  }
  for (let i = n - 1; i >= 0; i--) {
    let v = y[i];
    for (let t = i + 1; t < n; t++) v -= a[t * n + i] * y[t];
    y[i] = v / a[i * n + i];
  }
  return y;
}

export interface RoundedSolution {
  readonly weights: LinearWeights;
  readonly decimals: number | undefined;
  readonly equations: number;
  readonly dropped: number;
  /** Classes with no usable equation (their weights stay 0). */
  readonly unseen: number;
}

/** The weighted joint least-squares solve of the module comment, on answers already bought. */
export function solveRounded(
  x: Float32Array,
  scores: Float32Array,
  n: number,
  d: number,
  k: number,
  decimals?: number,
): RoundedSolution {
  const q = decimals === undefined ? 0 : 10 ** -decimals;
  const m = d + 1;
  // Per unordered class pair (lo < hi): G = sum w a a^T and h = sum w L a for (θ_lo - θ_hi)·a = L.
  const G = new Map<number, Float64Array>();
  const H = new Map<number, Float64Array>();
  const a = new Float64Array(m);
  const seen = new Uint8Array(k);
  let equations = 0;
  let dropped = 0;
  for (let i = 0; i < n; i++) {
    const o = i * k;
    let r = 0;
    for (let c = 1; c < k; c++) if (scores[o + c] > scores[o + r]) r = c;
    const pr = scores[o + r];
    if (!(pr > 0)) throw new HeistError('HEIST_ERR_UPSTREAM', `row ${i} has no positive probability`);
    for (let j = 0; j < d; j++) a[j] = x[i * d + j];
    a[d] = 1;
    for (let c = 0; c < k; c++) {
      if (c === r) continue;
      const pc = scores[o + c];
      if (!(pc > q / 2) || pc < 2 ** -126) {
        dropped++;
        continue;
      }
      const varc = (q * q) / 12 + (F32_REL * pc) ** 2;
      const varr = (q * q) / 12 + (F32_REL * pr) ** 2;
      const w = 1 / (varc / (pc * pc) + varr / (pr * pr));
      const [lo, hi, sign] = c < r ? [c, r, 1] : [r, c, -1];
      const L = sign * (Math.log(pc) - Math.log(pr));
      const key = lo * k + hi;
      let g = G.get(key);
      let h = H.get(key);
      if (!g || !h) {
        g = new Float64Array(m * m);
        h = new Float64Array(m);
        G.set(key, g);
        H.set(key, h);
      }
      for (let s = 0; s < m; s++) {
        const ws = w * a[s];
        if (ws === 0) continue;
        h[s] += ws * L;
        const row = s * m;
        for (let t = s; t < m; t++) g[row + t] += ws * a[t];
      }
      seen[c] = 1;
      seen[r] = 1;
      equations++;
    }
  }
  // Assemble the normal equations over θ_1..θ_{k-1} (θ_0 = 0).
  const N = (k - 1) * m;
  const M = new Float64Array(N * N);
  const rhs = new Float64Array(N);
  const add = (c1: number, c2: number, g: Float64Array, sign: number): void => {
    if (c1 === 0 || c2 === 0) return;
    const r0 = (c1 - 1) * m;
    const c0 = (c2 - 1) * m;
    for (let s = 0; s < m; s++)
      for (let t = 0; t < m; t++) M[(r0 + s) * N + c0 + t] += sign * g[s <= t ? s * m + t : t * m + s];
  };
  for (const [key, g] of G) {
    const lo = Math.floor(key / k);
    const hi = key % k;
    const h = H.get(key)!;
    add(lo, lo, g, 1);
    add(hi, hi, g, 1);
    add(lo, hi, g, -1);
    add(hi, lo, g, -1);
    for (let s = 0; s < m; s++) {
      if (lo > 0) rhs[(lo - 1) * m + s] += h[s];
      if (hi > 0) rhs[(hi - 1) * m + s] -= h[s];
    }
  }
  // A tiny ridge: keeps classes without equations at zero and the solve well posed.
  let trace = 0;
  for (let i = 0; i < N; i++) trace += M[i * N + i];
  const ridge = Math.max(1e-300, (trace / N) * 1e-12);
  for (let i = 0; i < N; i++) M[i * N + i] += ridge;
  const theta = choleskySolve(M, rhs, N);
  const weights = new Float64Array(d * k);
  const bias = new Float64Array(k);
  for (let c = 1; c < k; c++) {
    for (let j = 0; j < d; j++) weights[j * k + c] = theta[(c - 1) * m + j];
    bias[c] = theta[(c - 1) * m + d];
  }
  let unseen = 0;
  for (let c = 0; c < k; c++) if (!seen[c]) unseen++;
  return { weights: { d, k, weights, bias, referenceClass: 0 }, decimals, equations, dropped, unseen };
}

async function extract(client: Oracle, opts: ExtractOptions): Promise<ExtractResult> {
  const info = client.info;
  const d = inputSize(info);
  const k = info.classes;
  const n = opts.budget ?? k * (d + 1);
  if (n < d + 1)
    throw new HeistError(
      'HEIST_ERR_BAD_CONFIG',
      `rounded equation solving needs at least d + 1 = ${d + 1} queries, got ${n}`,
    );
  // Default design: sparse rows, so that every class has well-measured probabilities somewhere.
  const design = opts.design ?? 'sparse';
  const x = design === 'sparse' ? sparseRows(info, n, opts.rng) : designRows(info, n, design, opts.rng);
  const answer = await client.query(tensor(x, [n, d]), { purpose: 'attack' });
  if (answer.kind !== 'probs' || !answer.scores || answer.scores.data.length !== n * k) {
    throw new HeistError(
      'HEIST_ERR_REQUIREMENTS',
      `rounded equation solving needs ${k} probabilities per row, but "${info.name}" answered ${answer.kind}`,
    );
  }
  const decimals = detectDecimals(answer.scores.data);
  const sol = solveRounded(x, answer.scores.data, n, d, k, decimals);
  const model = linearModel({
    name: `extracted-${info.name}`,
    weights: Float32Array.from(sol.weights.weights),
    bias: Float32Array.from(sol.weights.bias),
    inputShape: info.inputShape,
    classNames: info.classNames,
    domain: info.domain,
  });
  const notes = [
    `${n} ${design} query rows`,
    decimals === undefined
      ? 'the answers are not on a decimal grid (not rounded): plain weighted equation solving'
      : `the answers are rounded to ${decimals} decimal place(s): equations weighted by their rounding variance`,
    `${sol.equations} log-ratio equations (each row against its own top class) in ${(k - 1) * (d + 1)} unknowns, solved jointly by weighted least squares; ` +
      `${sol.dropped} dropped (probability rounded to 0)`,
  ];
  if (sol.unseen > 0) notes.push(`${sol.unseen} class(es) never got a usable equation: their weights stay 0`);
  return {
    model,
    queriesUsed: n,
    notes,
    weights: sol.weights,
    diagnostics: {
      roundingDecimals: decimals ?? -1,
      equations: sol.equations,
      droppedEquations: sol.dropped,
      unseenClasses: sol.unseen,
    },
  };
}

export const roundedEquationSolving: Extractor = {
  name: 'equation-solving-rounded',
  paper:
    'Tramèr et al., "Stealing Machine Learning Models via Prediction APIs", USENIX Security 2016, arXiv:1609.02943, §4.1 and §8 (rounding)',
  description:
    'softmax regression from rounded probabilities: joint weighted least squares of log-ratios, zeros dropped; budget beyond d + 1 averages the rounding noise (default budget k(d + 1))',
  requires: { output: ['probs'] },
  minQueries: (info) => inputSize(info) + 1,
  defaultBudget: (info) => info.classes * (inputSize(info) + 1),
  extract,
};

export const equationSolvingRoundedEntry = extractorEntry(
  'linear',
  z.object({}).strict(),
  () => roundedEquationSolving,
);
