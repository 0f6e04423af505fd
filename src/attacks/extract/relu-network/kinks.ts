/**
 * @file Critical points: where a random line crosses a neuron's hyperplane, the network's output is
 * continuous but its slope along the line jumps. A knot is a point of the line with its one-sided
 * slopes (two extra queries at +-delta). A segment between two knots holds no critical point when
 * the right slope of its start predicts its end; otherwise:
 *  - 'bisect' (Jagielski et al.): halve the segment until it is narrower than minWidth, then place
 *    the critical point where the two outer lines meet;
 *  - 'intersect' (Carlini et al.): place it at once where the two outer lines meet, accept it when
 *    the answer there lies on both lines (one critical point), else halve and recurse.
 * Tolerances are absolute in output units: the answers are exact up to the float32 rounding of the
 * query point (a point is never exactly on the line) and of float32 answers.
 * @see M. Jagielski, N. Carlini, D. Berthelot, A. Kurakin, N. Papernot, "High Accuracy and High Fidelity Extraction of Neural Networks", USENIX Security 2020, arXiv:1909.01838 (critical points by search on random lines).
 * @see N. Carlini, M. Jagielski, I. Mironov, "Cryptanalytic Extraction of Neural Network Models", CRYPTO 2020, arXiv:2003.04884 (critical points from the intersection of the two outer slopes).
 */
import type { Probe } from './probe.js';

export type KinkStrategy = 'bisect' | 'intersect';

export interface KinkSearch {
  readonly strategy: KinkStrategy;
  /** One-sided slope step (line units). */
  readonly delta: number;
  /** Absolute tolerance on an answer predicted by a line. */
  readonly tol: number;
  /** 'bisect' stops halving below this width. */
  readonly minWidth: number;
  /** Query rows one line may spend. */
  readonly maxRows: number;
}

export interface Kink {
  readonly t: number;
  readonly x: Float64Array;
}

interface Knot {
  readonly t: number;
  readonly y: Float64Array;
  readonly left?: Float64Array;
  readonly right?: Float64Array;
}

const dist = (a: Float64Array, b: Float64Array): number => a.reduce((m, v, i) => Math.max(m, Math.abs(v - b[i])), 0);
const along = (y: Float64Array, s: Float64Array, dt: number): Float64Array => y.map((v, i) => v + s[i] * dt);

export async function findKinks(
  probe: Probe,
  origin: Float64Array,
  dir: Float64Array,
  t0: number,
  t1: number,
  cfg: KinkSearch,
): Promise<Kink[]> {
  let rows = 0;
  const point = (t: number): Float64Array => origin.map((v, i) => v + t * dir[i]);
  const knot = async (t: number, sides: { left: boolean; right: boolean }): Promise<Knot> => {
    const ts = [t, ...(sides.left ? [t - cfg.delta] : []), ...(sides.right ? [t + cfg.delta] : [])];
    rows += ts.length;
    const { y } = await probe.eval(ts.map(point));
    let k = 1;
    const left = sides.left ? y[k++].map((v, i) => (y[0][i] - v) / cfg.delta) : undefined;
    const right = sides.right ? y[k].map((v, i) => (v - y[0][i]) / cfg.delta) : undefined;
    return { t, y: y[0], left, right };
  };
  /** Where the start's right line meets the end's left line (least squares over the outputs). */
  const meet = (a: Knot, b: Knot): number => {
    let num = 0;
    let den = 0;
    for (let i = 0; i < a.y.length; i++) {
      const ds = a.right![i] - b.left![i];
      num += ds * (b.y[i] - a.y[i] + a.right![i] * a.t - b.left![i] * b.t);
      den += ds * ds;
    }
    return den > 0 ? num / den : (a.t + b.t) / 2;
  };
  const out: Kink[] = [];
  /** Extrapolating a slope over dt adds the slope's own noise (about tol / delta) times dt. */
  const near = (pred: Float64Array, y: Float64Array, dt: number): boolean =>
    dist(pred, y) <= cfg.tol * (1 + (2 * Math.abs(dt)) / cfg.delta);
  const segment = async (a: Knot, b: Knot): Promise<void> => {
    const width = b.t - a.t;
    const chord = b.y.map((v, i) => (v - a.y[i]) / width);
    if (dist(a.right!, chord) * cfg.delta <= 2 * cfg.tol && dist(b.left!, chord) * cfg.delta <= 2 * cfg.tol) return;
    if (rows + 6 > cfg.maxRows) return;
    if (width <= cfg.minWidth) {
      // Narrow enough: one kink where the two lines meet, if the answer there lies on both.
      const t = meet(a, b);
      if (t > a.t && t < b.t) {
        rows += 1;
        const { y } = await probe.eval([point(t)]);
        if (near(along(a.y, a.right!, t - a.t), y[0], t - a.t) && near(along(b.y, b.left!, t - b.t), y[0], t - b.t)) {
          out.push({ t, x: point(t) });
          return;
        }
      }
      if (width <= 4 * cfg.delta) return; // too cluttered to resolve: give the piece up
    }
    if (cfg.strategy === 'intersect' && width > cfg.minWidth) {
      // Zoom in on where the outer lines meet; the pieces beside it are searched on their own.
      const t = meet(a, b);
      const rho = Math.min(Math.max(cfg.minWidth / 4, width / 32), (t - a.t) / 2, (b.t - t) / 2);
      if (rho > 2 * cfg.delta) {
        const l = await knot(t - rho, { left: true, right: true });
        const r = await knot(t + rho, { left: true, right: true });
        await segment(a, l);
        await segment(l, r);
        await segment(r, b);
        return;
      }
    }
    const m = await knot((a.t + b.t) / 2, { left: true, right: true });
    await segment(a, m);
    await segment(m, b);
  };
  const start = await knot(t0, { left: false, right: true });
  const end = await knot(t1, { left: true, right: false });
  await segment(start, end);
  return out;
}
