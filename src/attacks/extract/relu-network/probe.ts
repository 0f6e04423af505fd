/**
 * @file What the ReLU-network attacks query: a Probe maps float64 points to float64 answers and
 * reports the points it REALLY asked about. Over the wire a point is a float32 row, so every
 * computation downstream (finite differences, affine fits) uses the realized float32 inputs, never
 * the intended ones; input rounding then costs no precision. Answers: float64 logits when the
 * target sends them (LogitsPrediction.logits64), else its float32 logits, else, for probability
 * answers, the K - 1 log-ratios log p_k - log p_0 (softmax logits up to a shift, which are
 * piecewise linear again). Every paid row is counted against a query budget and a wall-clock
 * deadline; running out throws HEIST_ERR_BUDGET_EXHAUSTED, so no attack can loop.
 * The virtual probe of a recovered first layer lets the same one-layer machinery attack the next
 * layer: it asks for hidden activations u > 0 and solves for an input x with ReLU(A x + b) = u.
 * @see N. Carlini, M. Jagielski, I. Mironov, "Cryptanalytic Extraction of Neural Network Models", CRYPTO 2020, arXiv:2003.04884 (layer peeling).
 */
import { HeistError } from '../../../core/errors.js';
import { inputSize } from '../../../core/prediction.js';
import { tensor } from '../../../core/tensor.js';
import { denseMatrix, solveSquare } from '../../../backends/linalg.js';
import type { LogitsPrediction } from '../../../models/dense-relu.js';
import type { Oracle } from '../../../oracle/types.js';

export interface ProbeAnswer {
  /** The points actually evaluated (float64 copies of what was sent). */
  readonly x: Float64Array[];
  readonly y: Float64Array[];
}

export interface Probe {
  readonly dim: number;
  readonly outputs: number;
  /** Relative precision of one answer: 2^-52 for float64 answers, 2^-24 for float32. */
  readonly answerEps: number;
  eval(points: readonly Float64Array[]): Promise<ProbeAnswer>;
}

export interface Meter {
  used: number;
  readonly budget: number;
  /** performance.now() value after which no query is sent. */
  readonly deadline: number;
}

export interface OracleProbe extends Probe {
  readonly kind: 'logits' | 'probs';
  readonly float64: boolean;
}

const FLOAT32_MIN_NORMAL = 2 ** -126;

function spend(meter: Meter, n: number): void {
  if (meter.used + n > meter.budget) {
    throw new HeistError(
      'HEIST_ERR_BUDGET_EXHAUSTED',
      `the attack needs more than its budget of ${meter.budget} queries (${meter.used} spent)`,
      { details: { used: meter.used, budget: meter.budget } },
    );
  }
  if (performance.now() > meter.deadline) {
    throw new HeistError(
      'HEIST_ERR_BUDGET_EXHAUSTED',
      `the attack ran past its time limit after ${meter.used} queries`,
      { details: { used: meter.used } },
    );
  }
  meter.used += n;
}

/** Reads the answer rows as float64 outputs; returns undefined for an answer without scores. */
function answerRows(
  p: LogitsPrediction,
  n: number,
  k: number,
): { y: Float64Array[]; kind: 'logits' | 'probs'; float64: boolean } {
  if ((p.kind !== 'logits' && p.kind !== 'probs') || !p.scores || p.scores.data.length !== n * k) {
    throw new HeistError(
      'HEIST_ERR_REQUIREMENTS',
      `ReLU-network extraction needs logits or probabilities for every row, but the target answered ${p.kind}`,
    );
  }
  const raw: ArrayLike<number> = p.kind === 'logits' && p.logits64?.length === n * k ? p.logits64 : p.scores.data;
  const y: Float64Array[] = [];
  for (let i = 0; i < n; i++) {
    if (p.kind === 'logits') y.push(Float64Array.from({ length: k }, (_, c) => raw[i * k + c]));
    else {
      const p0 = raw[i * k];
      const row = new Float64Array(k - 1);
      for (let c = 1; c < k; c++) {
        const pc = raw[i * k + c];
        if (!(pc >= FLOAT32_MIN_NORMAL && p0 >= FLOAT32_MIN_NORMAL)) {
          throw new HeistError(
            'HEIST_ERR_REQUIREMENTS',
            'a probability underflowed float32: its log-ratio is lost (the attack needs logits for this target)',
          );
        }
        row[c - 1] = Math.log(pc) - Math.log(p0);
      }
      y.push(row);
    }
    for (const v of y[i])
      if (!Number.isFinite(v)) throw new HeistError('HEIST_ERR_UPSTREAM', 'the target answered a non-finite score');
  }
  return { y, kind: p.kind, float64: raw !== p.scores.data };
}

/** A probe on the target; one query (the domain centre) tells the answer kind and precision. */
export async function oracleProbe(client: Oracle, meter: Meter): Promise<OracleProbe> {
  const info = client.info;
  const d = inputSize(info);
  const k = info.classes;
  const send = async (points: readonly Float64Array[]) => {
    const n = points.length;
    const data = new Float32Array(n * d);
    points.forEach((p, i) => {
      data.set(p, i * d);
    });
    if (!data.every(Number.isFinite))
      throw new HeistError('HEIST_ERR_INTERNAL', 'the attack built a non-finite query point');
    spend(meter, n);
    const ans = answerRows((await client.query(tensor(data, [n, d]), { purpose: 'attack' })) as LogitsPrediction, n, k);
    return { x: points.map((_, i) => Float64Array.from(data.subarray(i * d, (i + 1) * d))), ...ans };
  };
  const first = await send([new Float64Array(d).fill((info.domain.min + info.domain.max) / 2)]);
  return {
    dim: d,
    outputs: first.y[0].length,
    answerEps: first.float64 ? 2 ** -52 : 2 ** -24,
    kind: first.kind,
    float64: first.float64,
    eval: async (points) => {
      if (points.length === 0) return { x: [], y: [] };
      const r = await send(points);
      return { x: r.x, y: r.y };
    },
  };
}

/** u = A x + b for a row-major [h, d] matrix A. */
export function affine(rows: readonly Float64Array[], bias: Float64Array, x: Float64Array): Float64Array {
  return Float64Array.from(rows, (r, i) => {
    let s = bias[i];
    for (let j = 0; j < x.length; j++) s += r[j] * x[j];
    return s;
  });
}

/** Minimum-norm right inverse columns: returns M ([d][h] as h columns of length d) with A M = I. */
export function rightInverse(rows: readonly Float64Array[]): Float64Array[] {
  const h = rows.length;
  const d = rows[0].length;
  if (d < h)
    throw new HeistError(
      'HEIST_ERR_REQUIREMENTS',
      `a layer of ${h} neurons on ${d} inputs: sign recovery and layer peeling need at least as many inputs as neurons`,
    );
  const g = denseMatrix(h, h);
  for (let i = 0; i < h; i++)
    for (let j = 0; j < h; j++) g.data[i * h + j] = rows[i].reduce((s, v, t) => s + v * rows[j][t], 0);
  const inv = solveSquare(
    g,
    denseMatrix(
      h,
      h,
      Array.from({ length: h * h }, (_, t) => (Math.floor(t / h) === t % h ? 1 : 0)),
    ),
  );
  // Column i of A^T (A A^T)^-1.
  return Array.from({ length: h }, (_, i) => {
    const col = new Float64Array(d);
    for (let j = 0; j < h; j++) {
      const c = inv.data[j * h + i];
      for (let t = 0; t < d; t++) col[t] += rows[j][t] * c;
    }
    return col;
  });
}

/**
 * The hidden activations of a recovered first layer as a probe: asked for u (every entry > 0),
 * it queries x = anchor + A^+ (u - A anchor - b) and reports the realized u = A x + b.
 */
export function virtualProbe(
  inner: Probe,
  rows: readonly Float64Array[],
  bias: Float64Array,
  anchor: Float64Array,
): Probe {
  const inv = rightInverse(rows);
  const base = affine(rows, bias, anchor);
  return {
    dim: rows.length,
    outputs: inner.outputs,
    answerEps: inner.answerEps,
    eval: async (points) => {
      const xs = points.map((u) => {
        const x = Float64Array.from(anchor);
        u.forEach((v, i) => {
          const c = v - base[i];
          for (let t = 0; t < x.length; t++) x[t] += inv[i][t] * c;
        });
        return x;
      });
      const r = await inner.eval(xs);
      return { x: r.x.map((x) => affine(rows, bias, x).map((v) => (v > 0 ? v : 0))), y: r.y };
    },
  };
}
