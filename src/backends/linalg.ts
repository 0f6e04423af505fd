/**
 * @file Float64 dense linear algebra for attacks, behind a tiny API (the only place ml-matrix is
 * imported). Matrices are row-major Float64Arrays. Least squares uses Householder QR (stable for
 * the well-conditioned designs attacks choose); the pseudo-inverse (SVD) is only used for error
 * bounds on small systems.
 */
import { Matrix, QrDecomposition, pseudoInverse } from 'ml-matrix';
import { HeistError } from '../core/errors.js';

export interface DenseMatrix {
  readonly rows: number;
  readonly cols: number;
  /** rows * cols values, row-major. */
  readonly data: Float64Array;
}

export function denseMatrix(rows: number, cols: number, data?: ArrayLike<number>): DenseMatrix {
  const d = data ? Float64Array.from(data) : new Float64Array(rows * cols);
  if (d.length !== rows * cols)
    throw new HeistError('HEIST_ERR_SHAPE', `matrix data has ${d.length} values, expected ${rows}x${cols}`);
  return { rows, cols, data: d };
}

function toMl(m: DenseMatrix): Matrix {
  return Matrix.from1DArray(m.rows, m.cols, Array.from(m.data));
}

function fromMl(m: Matrix): DenseMatrix {
  return denseMatrix(m.rows, m.columns, m.to1DArray());
}

export interface LstsqResult {
  /** [cols(a), cols(b)]: the minimiser of ||a x - b|| for each column of b. */
  readonly x: DenseMatrix;
  /** Root-mean-square residual per column of b (0 for a square system). */
  readonly residualRms: Float64Array;
  /** max |R_ii| / min |R_ii| of the QR factor: a cheap lower bound on the condition number. */
  readonly conditionEstimate: number;
}

/** Largest condition estimate accepted before the system counts as rank-deficient. */
export const MAX_CONDITION = 1e10;

/**
 * Least squares a x ≈ b (rows(a) >= cols(a)) by QR. Throws HEIST_ERR_INTERNAL when a is
 * (numerically) rank-deficient, i.e. the design does not determine every unknown.
 */
export function lstsq(a: DenseMatrix, b: DenseMatrix): LstsqResult {
  if (a.rows !== b.rows) throw new HeistError('HEIST_ERR_SHAPE', `lstsq: a has ${a.rows} rows, b has ${b.rows}`);
  if (a.rows < a.cols)
    throw new HeistError('HEIST_ERR_SHAPE', `lstsq: ${a.rows} equations cannot determine ${a.cols} unknowns`);
  const qr = new QrDecomposition(toMl(a));
  const r = qr.upperTriangularMatrix;
  let lo = Infinity;
  let hi = 0;
  for (let i = 0; i < a.cols; i++) {
    const v = Math.abs(r.get(i, i));
    lo = Math.min(lo, v);
    hi = Math.max(hi, v);
  }
  const conditionEstimate = lo === 0 ? Infinity : hi / lo;
  if (!(conditionEstimate < MAX_CONDITION)) {
    throw new HeistError(
      'HEIST_ERR_INTERNAL',
      `lstsq: the design matrix is rank-deficient (condition estimate ${conditionEstimate.toExponential(2)})`,
    );
  }
  const x = fromMl(qr.solve(toMl(b)));
  return { x, residualRms: residualRms(a, x, b), conditionEstimate };
}

/** Solves the square system a x = b (by QR; a singular a throws like lstsq). */
export function solveSquare(a: DenseMatrix, b: DenseMatrix): DenseMatrix {
  if (a.rows !== a.cols)
    throw new HeistError('HEIST_ERR_SHAPE', `solveSquare needs a square matrix, got ${a.rows}x${a.cols}`);
  return lstsq(a, b).x;
}

/** a * b. */
export function matmul(a: DenseMatrix, b: DenseMatrix): DenseMatrix {
  if (a.cols !== b.rows)
    throw new HeistError('HEIST_ERR_SHAPE', `matmul: ${a.rows}x${a.cols} times ${b.rows}x${b.cols}`);
  const out = new Float64Array(a.rows * b.cols);
  for (let i = 0; i < a.rows; i++) {
    for (let t = 0; t < a.cols; t++) {
      const v = a.data[i * a.cols + t];
      if (v === 0) continue;
      for (let j = 0; j < b.cols; j++) out[i * b.cols + j] += v * b.data[t * b.cols + j];
    }
  }
  return { rows: a.rows, cols: b.cols, data: out };
}

function residualRms(a: DenseMatrix, x: DenseMatrix, b: DenseMatrix): Float64Array {
  const fit = matmul(a, x);
  const out = new Float64Array(b.cols);
  for (let j = 0; j < b.cols; j++) {
    let s = 0;
    for (let i = 0; i < b.rows; i++) {
      const e = fit.data[i * b.cols + j] - b.data[i * b.cols + j];
      s += e * e;
    }
    out[j] = Math.sqrt(s / b.rows);
  }
  return out;
}

export interface PinvRowNorms {
  /** sum_i |pinv(a)_ji| per unknown j: with right-hand sides off by at most delta, unknown j is off by at most delta times this. */
  readonly l1: Float64Array;
  /** sqrt(sum_i pinv(a)_ji^2) = sqrt((a^T a)^-1_jj): with independent noise of deviation sigma, unknown j has deviation sigma times this. */
  readonly l2: Float64Array;
}

/** Row norms of the pseudo-inverse (by SVD; meant for small systems, e.g. error bars of a least-squares fit). */
export function pinvRowNorms(a: DenseMatrix): PinvRowNorms {
  const p = pseudoInverse(toMl(a));
  const l1 = new Float64Array(p.rows);
  const l2 = new Float64Array(p.rows);
  for (let j = 0; j < p.rows; j++) {
    let s1 = 0;
    let s2 = 0;
    for (let i = 0; i < p.columns; i++) {
      const v = p.get(j, i);
      s1 += Math.abs(v);
      s2 += v * v;
    }
    l1[j] = s1;
    l2[j] = Math.sqrt(s2);
  }
  return { l1, l2 };
}
