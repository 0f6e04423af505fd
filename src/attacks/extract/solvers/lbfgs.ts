/**
 * @file A small float64 L-BFGS minimiser (two-loop recursion, backtracking Armijo line search) for
 * the attacks that solve for parameters by minimising a smooth loss: softmax regression on labels
 * or rounded probabilities, and the MLP's cross-entropy over soft outputs. Deterministic: no
 * randomness, plain TypeScript.
 * @see J. Nocedal, S. Wright, "Numerical Optimization", 2nd ed., Springer 2006, Algorithm 7.4 (L-BFGS two-loop recursion).
 * @see F. Tramèr et al., "Stealing Machine Learning Models via Prediction APIs", USENIX Security 2016, arXiv:1609.02943, §4.1 (the loss is minimised with a quasi-Newton method).
 */

/** Writes the gradient at theta into grad and returns the loss. */
export type Objective = (theta: Float64Array, grad: Float64Array) => number;

export interface LbfgsOptions {
  readonly maxIterations?: number;
  /** History length (default 10). */
  readonly memory?: number;
  /** Stop when the largest |gradient| entry falls below this (default 1e-9). */
  readonly gradTolerance?: number;
  /** Stop when the loss improves by less than this relative amount over 5 iterations (default 1e-12). */
  readonly relativeTolerance?: number;
}

export interface LbfgsResult {
  readonly theta: Float64Array;
  readonly loss: number;
  readonly iterations: number;
  readonly evaluations: number;
  readonly gradMax: number;
  readonly reason: 'gradient' | 'stalled' | 'iterations' | 'line-search';
}

function dot(a: Float64Array, b: Float64Array): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i] * b[i];
  return s;
}

function maxAbs(a: Float64Array): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]));
  return m;
}

export function lbfgs(f: Objective, theta0: Float64Array, options: LbfgsOptions = {}): LbfgsResult {
  const maxIt = options.maxIterations ?? 500;
  const m = options.memory ?? 10;
  const gtol = options.gradTolerance ?? 1e-9;
  const rtol = options.relativeTolerance ?? 1e-12;
  const n = theta0.length;
  let x = Float64Array.from(theta0);
  let g = new Float64Array(n);
  let fx = f(x, g);
  let evaluations = 1;
  const S: Float64Array[] = [];
  const Y: Float64Array[] = [];
  const rho: number[] = [];
  const dir = new Float64Array(n);
  const alpha = new Float64Array(m);
  const history: number[] = [fx];
  let reason: LbfgsResult['reason'] = 'iterations';
  let it = 0;
  for (; it < maxIt; it++) {
    if (maxAbs(g) < gtol) {
      reason = 'gradient';
      break;
    }
    // Two-loop recursion: dir = -H g.
    for (let i = 0; i < n; i++) dir[i] = -g[i];
    for (let j = S.length - 1; j >= 0; j--) {
      alpha[j] = rho[j] * dot(S[j], dir);
      const y = Y[j];
      for (let i = 0; i < n; i++) dir[i] -= alpha[j] * y[i];
    }
    const gamma =
      S.length > 0
        ? dot(S[S.length - 1], Y[Y.length - 1]) / dot(Y[Y.length - 1], Y[Y.length - 1])
        : 1 / Math.max(1, maxAbs(g));
    for (let i = 0; i < n; i++) dir[i] *= gamma;
    for (let j = 0; j < S.length; j++) {
      const beta = rho[j] * dot(Y[j], dir);
      const s = S[j];
      for (let i = 0; i < n; i++) dir[i] += (alpha[j] - beta) * s[i];
    }
    let slope = dot(g, dir);
    if (!(slope < 0)) {
      // Not a descent direction (numerical trouble): restart from steepest descent.
      S.length = 0;
      Y.length = 0;
      rho.length = 0;
      for (let i = 0; i < n; i++) dir[i] = -g[i] / Math.max(1, maxAbs(g));
      slope = dot(g, dir);
    }
    // Backtracking Armijo line search from step 1.
    let step = 1;
    const xn = new Float64Array(n);
    const gn = new Float64Array(n);
    let fn = Infinity;
    let accepted = false;
    for (let tries = 0; tries < 40; tries++) {
      for (let i = 0; i < n; i++) xn[i] = x[i] + step * dir[i];
      fn = f(xn, gn);
      evaluations++;
      if (Number.isFinite(fn) && fn <= fx + 1e-4 * step * slope) {
        accepted = true;
        break;
      }
      step *= 0.5;
    }
    if (!accepted) {
      reason = 'line-search';
      break;
    }
    const s = new Float64Array(n);
    const y = new Float64Array(n);
    for (let i = 0; i < n; i++) {
      s[i] = xn[i] - x[i];
      y[i] = gn[i] - g[i];
    }
    const sy = dot(s, y);
    if (sy > 1e-16 * dot(y, y)) {
      if (S.length === m) {
        S.shift();
        Y.shift();
        rho.shift();
      }
      S.push(s);
      Y.push(y);
      rho.push(1 / sy);
    }
    x = xn;
    g = gn;
    fx = fn;
    history.push(fx);
    const back = history[Math.max(0, history.length - 6)];
    if (history.length > 6 && back - fx <= rtol * Math.max(1e-300, Math.abs(back))) {
      it++;
      reason = 'stalled';
      break;
    }
  }
  return { theta: x, loss: fx, iterations: it, evaluations, gradMax: maxAbs(g), reason };
}
