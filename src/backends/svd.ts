/**
 * @file Thin singular value decomposition over ml-matrix (float64; Golub-Kahan as in JAMA), in the
 * row-major DenseMatrix of linalg.ts. For an m x n matrix it returns r = min(m, n) singular values
 * (descending) with U [m, r] and V [n, r], so that a = U diag(s) V^T.
 */
import { Matrix, SingularValueDecomposition } from 'ml-matrix';
import { type DenseMatrix, denseMatrix } from './linalg.js';

export interface ThinSvd {
  readonly s: Float64Array;
  /** [rows(a), r] */
  readonly u: DenseMatrix;
  /** [cols(a), r] */
  readonly v: DenseMatrix;
}

function take(m: Matrix, cols: number): DenseMatrix {
  const out = denseMatrix(m.rows, cols);
  for (let i = 0; i < m.rows; i++) for (let j = 0; j < cols; j++) out.data[i * cols + j] = m.get(i, j);
  return out;
}

export function thinSvd(a: DenseMatrix): ThinSvd {
  const m = Matrix.from1DArray(a.rows, a.cols, Array.from(a.data));
  const svd = new SingularValueDecomposition(m, { autoTranspose: true });
  const r = Math.min(a.rows, a.cols);
  const order = svd.diagonal
    .map((v, i) => [v, i] as const)
    .sort((x, y) => y[0] - x[0])
    .slice(0, r);
  const u = svd.leftSingularVectors;
  const v = svd.rightSingularVectors;
  const pick = (src: Matrix): Matrix => {
    const out = new Matrix(src.rows, r);
    order.forEach(([, i], k) => {
      for (let row = 0; row < src.rows; row++) out.set(row, k, src.get(row, i));
    });
    return out;
  };
  return { s: Float64Array.from(order, ([x]) => x), u: take(pick(u), r), v: take(pick(v), r) };
}
