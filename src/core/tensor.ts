/**
 * @file The currency every part of Heist speaks: a row-major float32 batch.
 * shape[0] is the number of rows (queries); the rest is the per-row shape.
 */
import { HeistError } from './errors.js';

export interface Tensor {
  readonly data: Float32Array;
  readonly shape: readonly number[];
}

export function tensor(data: Float32Array | number[], shape: readonly number[]): Tensor {
  const d = data instanceof Float32Array ? data : Float32Array.from(data);
  const size = shape.reduce((a, b) => a * b, 1);
  if (size !== d.length) {
    throw new HeistError(
      'HEIST_ERR_SHAPE',
      `tensor data has ${d.length} values but shape [${shape.join(', ')}] needs ${size}`,
    );
  }
  return { data: d, shape: [...shape] };
}

/** Number of rows (shape[0]). */
export function rowCount(t: Tensor): number {
  return t.shape[0] ?? 0;
}

/** Number of values in one row. */
export function rowSize(t: Tensor): number {
  return t.shape.slice(1).reduce((a, b) => a * b, 1);
}

/** A view of row i (shares memory). */
export function row(t: Tensor, i: number): Float32Array {
  const n = rowSize(t);
  return t.data.subarray(i * n, (i + 1) * n);
}

/** Copies the given rows, in order, into a new tensor. */
export function takeRows(t: Tensor, indices: ArrayLike<number>): Tensor {
  const n = rowSize(t);
  const out = new Float32Array(indices.length * n);
  for (let k = 0; k < indices.length; k++) out.set(row(t, indices[k]), k * n);
  return { data: out, shape: [indices.length, ...t.shape.slice(1)] };
}

/** Rows [start, end). Copies. */
export function sliceRows(t: Tensor, start: number, end: number): Tensor {
  const n = rowSize(t);
  const e = Math.min(end, rowCount(t));
  return { data: t.data.slice(start * n, e * n), shape: [Math.max(0, e - start), ...t.shape.slice(1)] };
}

/** Stacks tensors with equal row shapes. */
export function concatRows(parts: readonly Tensor[]): Tensor {
  if (parts.length === 0) throw new HeistError('HEIST_ERR_SHAPE', 'concatRows needs at least one tensor');
  const tail = parts[0].shape.slice(1);
  let total = 0;
  for (const p of parts) {
    if (p.shape.slice(1).join(',') !== tail.join(',')) {
      throw new HeistError('HEIST_ERR_SHAPE', `cannot stack rows of shape [${p.shape.slice(1)}] onto [${tail}]`);
    }
    total += rowCount(p);
  }
  const out = new Float32Array(total * tail.reduce((a, b) => a * b, 1));
  let off = 0;
  for (const p of parts) {
    out.set(p.data, off);
    off += p.data.length;
  }
  return { data: out, shape: [total, ...tail] };
}

/** Same data, new per-row shape. */
export function reshapeRows(t: Tensor, rowShape: readonly number[]): Tensor {
  return tensor(t.data, [rowCount(t), ...rowShape]);
}

/** Index of the largest value in each row of a [n, k] tensor. */
export function argmaxRows(t: Tensor): Int32Array {
  const n = rowCount(t);
  const k = rowSize(t);
  const out = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    let best = 0;
    let bestV = -Infinity;
    for (let j = 0; j < k; j++) {
      const v = t.data[i * k + j];
      if (v > bestV) {
        bestV = v;
        best = j;
      }
    }
    out[i] = best;
  }
  return out;
}

/** Row-wise softmax of a [n, k] tensor (numerically stable). */
export function softmaxRows(t: Tensor): Tensor {
  const n = rowCount(t);
  const k = rowSize(t);
  const out = new Float32Array(t.data.length);
  for (let i = 0; i < n; i++) {
    let m = -Infinity;
    for (let j = 0; j < k; j++) m = Math.max(m, t.data[i * k + j]);
    let s = 0;
    for (let j = 0; j < k; j++) {
      const e = Math.exp(t.data[i * k + j] - m);
      out[i * k + j] = e;
      s += e;
    }
    for (let j = 0; j < k; j++) out[i * k + j] /= s;
  }
  return { data: out, shape: [n, k] };
}
