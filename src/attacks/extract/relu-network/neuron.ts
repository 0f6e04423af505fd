/**
 * @file One neuron from one critical point. On each side of the hyperplane (x* +- eps u) the
 * network is affine, f(x) = J x + c; J comes from d forward differences (realized steps, so float32
 * input rounding is exact) and c = f(x) - J x. Across the hyperplane of neuron i,
 *   J+ - J- = s v a_i^T  and  c+ - c- = s v b_i   (s = +-1, v the neuron's effect on the outputs),
 * a rank-one jump whose row gives the neuron's weights and bias up to one scale and sign (the
 * bias from the offsets, not from the location of x*, so the line search need not be precise).
 * Steps that would cross the hyperplane itself are measured again in the other direction.
 * Sign: moving along a direction that changes only neuron i's pre-activation (a column of the
 * layer's right inverse, so the layer needs at least as many inputs as neurons), the output is
 * constant on the side where the neuron is off.
 * @see M. Jagielski, N. Carlini, D. Berthelot, A. Kurakin, N. Papernot, "High Accuracy and High Fidelity Extraction of Neural Networks", USENIX Security 2020, arXiv:1909.01838 (weights from gradients on both sides of a critical point).
 * @see N. Carlini, M. Jagielski, I. Mironov, "Cryptanalytic Extraction of Neural Network Models", CRYPTO 2020, arXiv:2003.04884 (weight recovery up to scaling; sign recovery by freezing the other neurons).
 */
import { denseMatrix, lstsq } from '../../../backends/linalg.js';
import type { Probe } from './probe.js';

export interface NeuronEstimate {
  /** Weights scaled so that the largest magnitude entry is +1. */
  readonly a: Float64Array;
  readonly b: number;
  /** max |J+ - J- - v a^T| / max |J+ - J-|: 0 for a clean rank-one jump. */
  readonly rankOneResidual: number;
  /** Where it was found. */
  readonly at: Float64Array;
}

interface Side {
  base: Float64Array;
  y0: Float64Array;
  steps: Float64Array[];
  ys: Float64Array[];
}

function affineFit(s: Side): { j: Float64Array[]; c: Float64Array } {
  const d = s.base.length;
  const k = s.y0.length;
  const dx = s.steps.map((x) => x.map((v, t) => v - s.base[t]));
  const diagonal = dx.every((r, i) => r.every((v, t) => (t === i ? v !== 0 : v === 0)));
  // jT[t] = dJ/dx_t (a k-vector).
  let jT: Float64Array[];
  if (diagonal) jT = dx.map((r, i) => s.ys[i].map((v, o) => (v - s.y0[o]) / r[i]));
  else {
    const sol = lstsq(
      denseMatrix(
        d,
        d,
        dx.flatMap((r) => Array.from(r)),
      ),
      denseMatrix(
        d,
        k,
        s.ys.flatMap((y) => Array.from(y, (v, o) => v - s.y0[o])),
      ),
    );
    jT = Array.from({ length: d }, (_, t) => sol.x.data.slice(t * k, (t + 1) * k));
  }
  const c = Float64Array.from(s.y0, (v, o) => v - jT.reduce((acc, col, t) => acc + col[o] * s.base[t], 0));
  return { j: jT, c };
}

/** Recovers the neuron whose hyperplane the line (direction u) crosses at x. */
export async function recoverNeuron(
  probe: Probe,
  x: Float64Array,
  u: Float64Array,
  eps: number,
  h: number,
): Promise<NeuronEstimate | undefined> {
  const d = probe.dim;
  const sides: Side[] = [];
  const stepSign = [new Float64Array(d).fill(1), new Float64Array(d).fill(1)];
  const stepPoint = (base: Float64Array, t: number, sign: number) => base.map((v, i) => (i === t ? v + sign * h : v));
  const bases = [x.map((v, i) => v + eps * u[i]), x.map((v, i) => v - eps * u[i])];
  const pts = bases.flatMap((b) => [b, ...Array.from({ length: d }, (_, t) => stepPoint(b, t, 1))]);
  const first = await probe.eval(pts);
  for (let s = 0; s < 2; s++) {
    const o = s * (d + 1);
    sides.push({
      base: first.x[o],
      y0: first.y[o],
      steps: first.x.slice(o + 1, o + d + 1),
      ys: first.y.slice(o + 1, o + d + 1),
    });
  }
  let est: { a: Float64Array; b: number; res: number } | undefined;
  for (let round = 0; round < 3; round++) {
    const [p, m] = sides.map(affineFit);
    const k = p.c.length;
    const dj = p.j.map((col, t) => col.map((v, o) => v - m.j[t][o])); // dj[t][o]
    const dc = p.c.map((v, o) => v - m.c[o]);
    let top = 0;
    let topNorm = -1;
    for (let o = 0; o < k; o++) {
      const n = dj.reduce((acc, col) => acc + col[o] * col[o], 0);
      if (n > topNorm) [top, topNorm] = [o, n];
    }
    if (!(topNorm > 0)) return undefined;
    const w = Float64Array.from({ length: k }, (_, o) => dj.reduce((acc, col) => acc + col[o] * col[top], 0) / topNorm);
    const r = Float64Array.from(dj, (col) => col.reduce((acc, v, o) => acc + w[o] * v, 0));
    const q = dc.reduce((acc, v, o) => acc + w[o] * v, 0);
    let big = 0;
    for (const v of r) if (Math.abs(v) > Math.abs(big)) big = v;
    const a = r.map((v) => v / big);
    const rr = r.reduce((acc, v) => acc + v * v, 0);
    let res = 0;
    let djMax = 0;
    for (let o = 0; o < k; o++) {
      const vo = dj.reduce((acc, col, t) => acc + col[o] * r[t], 0) / rr;
      dj.forEach((col, t) => {
        res = Math.max(res, Math.abs(col[o] - vo * r[t]));
        djMax = Math.max(djMax, Math.abs(col[o]));
      });
    }
    est = { a, b: q / big, res: res / djMax };
    // Steps that crossed this neuron's own hyperplane: measure them again in the other direction.
    const redo: { s: number; t: number }[] = [];
    sides.forEach((side, s) => {
      const z0 = side.base.reduce((acc, v, t) => acc + v * a[t], est!.b);
      side.steps.forEach((xs, t) => {
        const z = z0 + a[t] * (xs[t] - side.base[t]);
        if (Math.sign(z) !== Math.sign(z0) || Math.abs(z) < 0.25 * Math.abs(z0)) redo.push({ s, t });
      });
    });
    if (redo.length === 0 || round === 2) break;
    for (const { s, t } of redo) stepSign[s][t] *= -1;
    const again = await probe.eval(redo.map(({ s, t }) => stepPoint(sides[s].base, t, stepSign[s][t])));
    redo.forEach(({ s, t }, i) => {
      sides[s].steps[t] = again.x[i];
      sides[s].ys[t] = again.y[i];
    });
  }
  return est && { a: est.a, b: est.b, rankOneResidual: est.res, at: x };
}

/**
 * +1 when the neuron is on where a x + b > 0, -1 when it is on where a x + b < 0, 0 when the test
 * cannot tell (the output moves on both sides, or on neither). `dir` changes only this neuron.
 */
export async function neuronSign(
  probe: Probe,
  at: Float64Array,
  dir: Float64Array,
  tau: number,
  tol: number,
): Promise<-1 | 0 | 1> {
  const { y } = await probe.eval([at, at.map((v, i) => v + tau * dir[i]), at.map((v, i) => v - tau * dir[i])]);
  const move = (z: Float64Array) => z.reduce((m, v, i) => Math.max(m, Math.abs(v - y[0][i])), 0);
  const plus = move(y[1]);
  const minus = move(y[2]);
  const hi = Math.max(plus, minus);
  const lo = Math.min(plus, minus);
  if (!(hi > 100 * tol) || lo > 0.01 * hi) return 0;
  return plus > minus ? 1 : -1;
}
