/**
 * @file One hidden layer from a Probe: search random lines for critical points; a critical point
 * that lies on the hyperplane of a neuron already recovered only confirms it (no further query),
 * any other one is recovered (neuron.ts). A neuron counts once critical points from two different
 * lines lie on its hyperplane (a wrong estimate, or a bent hyperplane of a deeper layer, rarely
 * gets a second one). Then the signs (neuron.ts); neurons whose sign cannot be established are
 * dropped (a bent piece of a deeper layer fails the test). Bounded: at most maxLines lines, and
 * every query goes through the probe's budget and deadline.
 * When a deeper hidden layer follows (deep), the first layer's hyperplanes are global while the
 * deeper layer's are bent at every first-layer boundary (Carlini et al.): at least 16 lines are
 * searched and a candidate must kink exactly on its plane at 3 far points before it is kept. In a
 * peeled, clipped box of positive activations half the line origins are log-uniform, so that a
 * plane crossing the orthant only near a face is crossed too.
 * @see M. Jagielski, N. Carlini, D. Berthelot, A. Kurakin, N. Papernot, "High Accuracy and High Fidelity Extraction of Neural Networks", USENIX Security 2020, arXiv:1909.01838.
 * @see N. Carlini, M. Jagielski, I. Mironov, "Cryptanalytic Extraction of Neural Network Models", CRYPTO 2020, arXiv:2003.04884.
 */
import { HeistError } from '../../../core/errors.js';
import type { Rng } from '../../../core/rng.js';
import { denseMatrix, lstsq } from '../../../backends/linalg.js';
import { type KinkSearch, findKinks } from './kinks.js';
import { type NeuronEstimate, neuronSign, recoverNeuron } from './neuron.js';
import { type Probe, affine, rightInverse } from './probe.js';

export interface LayerSearch {
  /** Box the line origins are drawn from (and, when clip, the lines are clipped to). */
  readonly lo: Float64Array;
  readonly hi: Float64Array;
  readonly clip: boolean;
  /** Half-length of an unclipped line. */
  readonly reach: number;
  readonly kinks: KinkSearch;
  /** Side offset and finite-difference step (neuron.ts). */
  readonly eps: number;
  readonly step: number;
  /** A critical point within this distance of a hyperplane lies on it. */
  readonly planeTol: number;
  /** Known width, else discovered. */
  readonly width?: number;
  readonly maxLines: number;
  /** Stop after this many lines that confirm nothing new (width unknown). */
  readonly patience: number;
  readonly rng: Rng;
  /** A deeper hidden layer follows: its bent hyperplanes must be told apart (stricter global-plane test). */
  readonly deep?: boolean;
}

export interface Neuron extends NeuronEstimate {
  /** Critical points on the hyperplane, by line. */
  readonly hits: { line: number; x: Float64Array }[];
}

export interface LayerResult {
  /** Oriented so that the neuron is on where a x + b > 0. */
  readonly rows: Float64Array[];
  readonly bias: Float64Array;
  readonly lines: number;
  readonly candidates: number;
  readonly dropped: number;
}

const lineCount = (n: Neuron): number => new Set(n.hits.map((h) => h.line)).size;
const confirmed = (n: Neuron): boolean => lineCount(n) >= 2;

function lineThrough(s: LayerSearch): { o: Float64Array; u: Float64Array; t0: number; t1: number } {
  const d = s.lo.length;
  // In a positive box (peeled activations) origins are log-uniform: some activations small, some large,
  // so that planes crossing the orthant only near a face are crossed too.
  const logUniform = s.clip && s.lo.every((v) => v > 0) && s.rng.next() < 0.5;
  const o = Float64Array.from({ length: d }, (_, i) =>
    logUniform
      ? Math.max(s.lo[i], 0.01 * s.hi[i]) * Math.min(s.hi[i] / s.lo[i], 100) ** s.rng.next()
      : s.rng.uniform(s.lo[i], s.hi[i]),
  );
  const g = Float64Array.from({ length: d }, () => s.rng.normal());
  const norm = Math.hypot(...g);
  const u = g.map((v) => v / norm);
  if (!s.clip) return { o, u, t0: -s.reach, t1: s.reach };
  let t0 = -Infinity;
  let t1 = Infinity;
  for (let i = 0; i < d; i++) {
    if (u[i] === 0) continue;
    const a = (s.lo[i] - o[i]) / u[i];
    const b = (s.hi[i] - o[i]) / u[i];
    t0 = Math.max(t0, Math.min(a, b));
    t1 = Math.min(t1, Math.max(a, b));
  }
  return { o, u, t0, t1 };
}

export async function extractLayer(probe: Probe, s: LayerSearch): Promise<LayerResult> {
  const neurons: Neuron[] = [];
  const domainAbs = Math.max(...Array.from(s.lo, Math.abs), ...Array.from(s.hi, Math.abs), 1e-12);
  let quiet = 0;
  let line = 0;
  const done = (): boolean =>
    s.width !== undefined
      ? line >= (s.deep ? 16 : 4) && neurons.filter((n) => lineCount(n) >= 3).length >= s.width
      : quiet >= s.patience && neurons.some(confirmed);
  while (line < s.maxLines && !done()) {
    const before = neurons.filter(confirmed).length;
    const { o, u, t0, t1 } = lineThrough(s);
    // Far from the domain the float32 rounding of the query point grows (the rest of the noise does not).
    const far = Math.max(1, ...[t0, t1].flatMap((t) => Array.from(o, (v, i) => Math.abs(v + t * u[i]) / domainAbs)));
    // Scaling the slope step with it keeps the smallest detectable slope jump the same.
    const grow = (1 + far) / 2;
    for (const k of await findKinks(probe, o, u, t0, t1, {
      ...s.kinks,
      tol: s.kinks.tol * grow,
      delta: s.kinks.delta * grow,
      minWidth: s.kinks.minWidth * grow,
    })) {
      const on = neurons.find((n) => Math.abs(n.a.reduce((acc, v, i) => acc + v * k.x[i], n.b)) <= s.planeTol * grow);
      if (on) on.hits.push({ line, x: k.x });
      else {
        const est = await recoverNeuron(probe, k.x, u, s.eps, s.step);
        if (est) neurons.push({ ...est, hits: [{ line, x: k.x }] });
      }
    }
    line++;
    quiet = neurons.filter(confirmed).length > before ? 0 : quiet + 1;
  }
  // Most-hit first; at most as many as inputs. Pieces of a deeper layer's bent hyperplanes that got
  // confirmed fail the sign test (every layer-1 neuron frozen: the output moves on neither side).
  // A bent piece of a deeper layer's hyperplane has a row in the span of the layer's rows (its
  // active inputs): keep only rows independent of those chosen (Gram-Schmidt), most-hit first.
  const chosen: Neuron[] = [];
  const basis: Float64Array[] = [];
  for (const n of neurons.filter(confirmed).sort((a, b) => lineCount(b) - lineCount(a))) {
    if (chosen.length >= probe.dim) break;
    const r = Float64Array.from(n.a);
    for (const e of basis) {
      const c = r.reduce((acc, v, i) => acc + v * e[i], 0);
      r.forEach((v, i) => {
        r[i] = v - c * e[i];
      });
    }
    // Twins of a chosen neuron (estimates too noisy to match its plane far away) are in the span too.
    const rest = Math.hypot(...r) / Math.hypot(...n.a);
    // In a clipped box (the last hidden layer, peeled) nothing deeper bends: confirmed is enough.
    if (rest > (probe.answerEps < 1e-10 ? 1e-4 : 3e-2) && ((s.clip && !s.deep) || (await onGlobalPlane(probe, n, s)))) {
      chosen.push(n);
      const len = Math.hypot(...r);
      basis.push(r.map((v) => v / len));
    }
  }
  if (chosen.length < (s.width ?? 1)) {
    throw new HeistError(
      'HEIST_ERR_BUDGET_EXHAUSTED',
      `found ${chosen.length} of ${s.width ?? 'at least 1'} neurons on ${line} lines`,
      { details: { found: chosen.length, expected: s.width, lines: line } },
    );
  }
  let { rows, bias, dropped } = await orient(probe, chosen, s);
  if (s.width !== undefined && rows.length > s.width) {
    rows = rows.slice(0, s.width);
    bias = bias.slice(0, s.width);
  }
  if (rows.length === 0 || (s.width !== undefined && rows.length < s.width)) {
    throw new HeistError(
      'HEIST_ERR_INTERNAL',
      `the signs of only ${rows.length} of ${s.width ?? chosen.length} neurons could be established`,
    );
  }
  return { rows, bias, lines: line, candidates: neurons.length, dropped };
}

/**
 * Whether the candidate's hyperplane is a real one of this layer: far from where it was found, at
 * a point of the plane, the answers must still kink exactly there (second differences at rho and
 * rho / 2 in the ratio 2). A bent hyperplane of a deeper layer does not extend.
 */
async function onGlobalPlane(probe: Probe, n: Neuron, s: LayerSearch): Promise<boolean> {
  const norm = Math.hypot(...n.a);
  const nrm = n.a.map((v) => v / norm);
  const w = s.lo.reduce((acc, v, i) => acc + (s.hi[i] - v), 0) / s.lo.length;
  const rho = 0.02 * w;
  const need = s.deep ? 3 : 1;
  let ok = 0;
  for (let trial = 0; trial < (s.deep ? 24 : 12); trial++) {
    const g = nrm.map(() => s.rng.normal());
    const gn = g.reduce((acc, v, i) => acc + v * nrm[i], 0);
    const perp = g.map((v, i) => v - gn * nrm[i]);
    const len = Math.hypot(...perp);
    const from = n.hits[trial % n.hits.length].x;
    // In a clipped box: a random point of the box, projected onto the plane.
    const p = s.clip
      ? s.lo.map((v, i) => s.rng.uniform(v, s.hi[i]))
      : from.map((v, i) => v + ((0.1 + 0.05 * trial) * s.reach * perp[i]) / len);
    const z = p.reduce((acc, v, i) => acc + v * n.a[i], n.b) / norm;
    const q = p.map((v, i) => v - z * nrm[i]); // back onto the plane
    if (s.clip && q.some((v, i) => v - 2 * rho < s.lo[i] || v + 2 * rho > s.hi[i])) continue;
    const { y } = await probe.eval([-1, -0.5, 0, 0.5, 1].map((t) => q.map((v, i) => v + t * rho * nrm[i])));
    const sd = (a: Float64Array, b: Float64Array) =>
      a.reduce((m, v, i) => Math.max(m, Math.abs(v + b[i] - 2 * y[2][i])), 0);
    const full = sd(y[0], y[4]);
    const half = sd(y[1], y[3]);
    if (full > 50 * s.kinks.tol && Math.abs(full - 2 * half) < 0.02 * full && ++ok >= need) return true;
  }
  return false;
}

/** Sign test per neuron, at up to three of its critical points; drops the neurons it cannot decide. */
async function orient(
  probe: Probe,
  chosen: Neuron[],
  s: LayerSearch,
): Promise<{ rows: Float64Array[]; bias: Float64Array; dropped: number }> {
  let keep = chosen;
  for (let pass = 0; pass < 3; pass++) {
    const inv = rightInverse(keep.map((n) => n.a));
    const signs: number[] = [];
    for (const [i, n] of keep.entries()) {
      let sign = 0;
      for (const h of n.hits.slice(0, 3)) {
        const dir = inv[i];
        const dmax = dir.reduce((m, v) => Math.max(m, Math.abs(v)), 0);
        // Stay inside the search box when it is a hard boundary (the virtual probe needs u > 0).
        const room = s.clip ? Math.min(...Array.from(h.x, (v, t) => Math.min(v - s.lo[t], s.hi[t] - v))) : Infinity;
        const tau = Math.min(
          0.5 * (s.clip ? s.reach : s.reach / Math.max(8, 4 * Math.sqrt(s.lo.length))),
          (0.5 * room) / dmax,
        );
        sign = await neuronSign(probe, h.x, dir, tau, s.kinks.tol);
        if (sign !== 0) break;
      }
      signs.push(sign);
    }
    if (signs.every((v) => v !== 0)) {
      const rows = keep.map((n, i) => n.a.map((v) => v * signs[i]));
      const bias = Float64Array.from(keep, (n, i) => n.b * signs[i]);
      return { rows, bias, dropped: chosen.length - keep.length };
    }
    keep = keep.filter((_, i) => signs[i] !== 0);
    if (keep.length === 0) break;
  }
  return { rows: [], bias: new Float64Array(0), dropped: chosen.length };
}

export interface OutputFit {
  /** [outputs][hidden + 1]: weights, then the bias. */
  readonly weights: Float64Array[];
  /** Largest |fit - answer| over the fitted rows. */
  readonly maxResidual: number;
  readonly rows: number;
}

/** Least squares of the answers on the hidden activations (and 1) at n points. */
export async function fitOutputs(
  probe: Probe,
  hidden: (x: Float64Array) => Float64Array,
  points: Float64Array[],
): Promise<OutputFit> {
  const { x, y } = await probe.eval(points);
  const feats = x.map((p) => [...hidden(p), 1]);
  const m = feats[0].length;
  const k = probe.outputs;
  if (points.length < m)
    throw new HeistError('HEIST_ERR_INTERNAL', `output fit: ${points.length} points for ${m} unknowns`);
  const sol = lstsq(
    denseMatrix(points.length, m, feats.flat()),
    denseMatrix(
      points.length,
      k,
      y.flatMap((r) => Array.from(r)),
    ),
  );
  const weights = Array.from({ length: k }, (_, o) =>
    Float64Array.from({ length: m }, (_, j) => sol.x.data[j * k + o]),
  );
  let maxResidual = 0;
  feats.forEach((f, i) => {
    weights.forEach((w, o) => {
      maxResidual = Math.max(maxResidual, Math.abs(f.reduce((acc, v, j) => acc + v * w[j], 0) - y[i][o]));
    });
  });
  return { weights, maxResidual, rows: points.length };
}

/** ReLU(A x + b). */
export const reluLayer =
  (rows: readonly Float64Array[], bias: Float64Array) =>
  (x: Float64Array): Float64Array =>
    affine(rows, bias, x).map((v) => (v > 0 ? v : 0));
